"""Formatting for the person page. Filters format what the view loaded; they never query."""

from collections.abc import Sequence
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def paper_rows(rows: Sequence[dict], items_prefix: str) -> SafeString:
    """The rows of the person page's list of papers (`#papers`), from `Entry.row` dicts.

    The one loop of the page written in Python: a prolific author's page lists hundreds of
    papers, and a template loop spends a few microseconds on every `{{ }}` and `{% if %}` of
    every row, most of the page's time; one f-string a row is ten times faster. Every value is
    escaped (the stdlib's escape, not the lazy-aware one: the values are plain strings).

    The markup is bare on purpose (a row is most of the page's weight; static/css/site.css
    lays it out): the checkbox, the title leading to the paper's page (site.js loads its
    details into the row), <small> year and venue, <b> the suggested group.
    """
    prefix = escape(items_prefix)
    out = []
    for row in rows:
        pk = escape(row["pk"])
        state = " disabled" if row["disabled"] else " checked" if row["checked"] else ""
        facts = escape(row["facts"])
        if row["is_editor"]:
            facts += ' <span class="badge">editor</span>'
        if group := escape(row["group"]):
            facts += f' <b class="g{group}">{group}</b>'
        if row["printed"]:
            facts += f" · printed as {escape(row['printed'])}"
        pending = row["pending"]
        css = ' class="pending"' if pending else ""
        note = (
            '<div class="pending-note">Proposed move to '
            f"<strong>{escape(str(pending['target']))}</strong> — change set "
            f"{escape(str(pending['changeset']))} by {escape(pending['by'])} "
            f"({escape(str(pending['status']))})</div>"
            if pending
            else ""
        )
        out.append(
            f'<li{css}><input type="checkbox" name="authorships" value="{pk}"'
            f' aria-labelledby="t{pk}"{state}>'
            f'<a id="t{pk}" href="{prefix}{escape(row["item_id"])}/">{escape(row["title"])}</a>'
            f"<small>{facts}</small>{note}</li>\n"
        )
    return mark_safe("".join(out))  # noqa: S308 - every value is escaped
