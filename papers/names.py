"""Name normalisation shared by import, search and the clustering features."""

from slugify import slugify


def normalize_name(first: str | None, last: str) -> str:
    """Lower-cased, transliterated 'first last' ("Dağ" and "Dag" match; so do "Ö" and "O")."""
    return slugify(f"{first or ''} {last}", separator=" ")
