"""No input gives a 500: a NUL byte (which PostgreSQL cannot store) in any URL parameter, query
parameter or form field is refused with 400, for anonymous users and for an admin alike."""

import ast
import re
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from assignments.changesets.forms import AssignForm, NoteForm
from papers.importing.views import ImportForm
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
NUL = "a\x00b"


def _routes(resolver: URLResolver, prefix: str = "") -> list[str]:
    """Every route's pattern text."""
    routes = []
    for entry in resolver.url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += _routes(entry, text)
        elif isinstance(entry, URLPattern):
            routes.append(text)
    return routes


def _paths() -> list[str]:
    """Each app route with a NUL in each argument that can hold text (one at a time); numeric
    arguments get 1."""
    paths = set()
    for text in _routes(get_resolver()):
        if text.startswith("admin/") or "(?P" in text or "^" in text:
            continue  # Django's admin: not ours
        names = re.findall(r"<(?:(\w+):)?(\w+)>", text)
        textual = [n for kind, n in names if kind not in ("int",)]
        for nul_arg in textual or [None]:
            path = text
            for kind, name in names:
                value = "1" if kind == "int" else ("peiyu-liu" if name != nul_arg else NUL)
                path = re.sub(rf"<(?:\w+:)?{name}>", value, path, count=1)
            paths.add("/" + path.replace("<str:fmt>", "patch"))
    return sorted(paths)


def _request_keys(method: str) -> set[str]:
    """Every `request.GET`/`request.POST` key the views read, found in their source."""
    keys = set()
    for path in [*ROOT.glob("papers/**/*.py"), *ROOT.glob("assignments/**/*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("get", "getlist")
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == method
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                keys.add(node.args[0].value)
    return keys


FORM_FIELDS = {
    *AssignForm.base_fields,
    *NoteForm.base_fields,
    *ImportForm.base_fields,
    "username",
    "password",
}


def test_every_url_parameter_and_field_with_a_nul_byte_is_refused(client):
    paths = _paths()
    get_keys = _request_keys("GET") | {"q", "page"}
    post_keys = _request_keys("POST") | FORM_FIELDS
    assert {"q", "status", "select"} <= get_keys and {"decision", "comment", "note"} <= post_keys
    admin = make_user(username="root-admin", roles=("admin", "maintainer", "reviewer"))
    sent = 0
    for user in (None, admin):
        client.logout()
        if user is not None:
            client.force_login(user)
        for path in paths:
            carries_nul = "\x00" in path
            requests = [("get", {})] if carries_nul else []
            requests += [("get", {key: NUL}) for key in sorted(get_keys)]
            requests += [("post", {key: NUL}) for key in sorted(post_keys)]
            for method, data in requests:
                response = getattr(client, method)(path, data)
                sent += 1
                assert response.status_code == 400, (method, path, data, response.status_code)
    assert len(paths) > 15
    print(f"NUL-byte sweep: {sent} requests, {len(paths)} paths")  # the figure, with -s


def test_the_refusal_says_why(client):
    client.force_login(make_user(roles=("admin",)))
    response = client.get("/search/?q=%00")
    assert response.status_code == 400
    assert b"NUL byte" in response.content
    response = client.get("/people/%00/")
    assert response.status_code == 400
