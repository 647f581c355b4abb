"""The layout's rules, checked on the source: dependencies run one way, each app's SQL names
only its own tables, and the Anthology is opened with the official library in one place."""

import ast
import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_papers_never_imports_assignments():
    offenders = {
        str(p.relative_to(ROOT)): sorted(n for n in _imports(p) if n.split(".")[0] == "assignments")
        for p in _modules("papers")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_sql_names_only_the_apps_own_tables():
    tables = {
        label: {m._meta.db_table for m in apps.get_app_config(label).get_models()}
        for label in ("papers", "assignments")
    }
    assert tables["papers"] and tables["assignments"]
    other = {"papers": tables["assignments"], "assignments": tables["papers"]}
    offenders = []
    for package, names in other.items():
        pattern = re.compile(rf"\b({'|'.join(sorted(names))})\b")
        for path in _modules(package):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
                if is_text and pattern.search(node.value):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_the_anthology_is_opened_in_one_place():
    offenders = [
        str(p.relative_to(ROOT))
        for package in ("papers", "assignments", "anthology_review")
        for p in _modules(package)
        if re.search(r"\bAnthology\(", p.read_text(encoding="utf-8"))
        and p != ROOT / "papers" / "library.py"
    ]
    assert offenders == []


def test_no_star_imports():
    offenders = [
        str(p.relative_to(ROOT))
        for package in ("papers", "assignments", "anthology_review")
        for p in _modules(package)
        if re.search(r"^\s*from \S+ import \*", p.read_text(encoding="utf-8"), re.M)
    ]
    assert offenders == []
