"""Shared by the benchmark scripts: a scratch database on the app's server, and the data."""

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "acl-anthology-2025-05.tar.xz"
sys.path.insert(0, str(ROOT))


def scratch_database_env(name: str) -> dict:
    """Create (anew) database `name` on the app's server; return an environment that uses it."""
    import psycopg

    from anthology_review.database import database_from_url, embedded_uri

    url = os.environ.get("DATABASE_URL") or embedded_uri(ROOT / ".pgdata")
    db = database_from_url(url)
    admin = psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"] or None,
        autocommit=True,
    )
    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.execute(f"CREATE DATABASE {name}")
    admin.close()
    base, _, query = url.partition("?")
    scratch = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    env = {**os.environ, "DATABASE_URL": scratch}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True)
    return env


@contextmanager
def data_folder(source: Path):
    """The data/ folder of SOURCE (an archive is unpacked into a temporary folder)."""
    from papers.anthology import find_data_dir

    if source.is_dir():
        yield find_data_dir(source)
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["tar", "xf", str(source), "-C", tmp], check=True)
        yield find_data_dir(Path(tmp))
