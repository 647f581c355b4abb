"""Shared by the benchmark scripts: the project on the path, a scratch database on the app's
server, and the data. Import it before Django."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "acl-anthology-2025-05.tar.xz"
DEFAULT_BLOCKS = ROOT.parent / "shared" / "data" / "dev-blocks.jsonl.gz"
# The app's commands, run as the benchmarks run them: this Python, this checkout.
MANAGE = [sys.executable, str(ROOT / "manage.py")]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anthology_review.settings")

# The data/ folder of a checkout, data folder or archive (unpacked into a temporary folder):
# the app's own reader.
from papers.importing.archives import open_data_dir as data_folder  # noqa: E402


def scratch_database_env(name: str) -> dict:
    """Create (anew) database `name` on the app's server; return an environment that uses it."""
    import psycopg

    from anthology_review.database import database_from_url, embedded_pgdata, embedded_uri

    url = os.environ.get("DATABASE_URL") or embedded_uri(embedded_pgdata(ROOT))
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
    subprocess.run([*MANAGE, "migrate", "-v0"], env=env, check=True)
    return env


def imported_scratch_env(name: str, source: Path) -> dict:
    """Database `name` anew with SOURCE (archive or folder) imported; an environment using it."""
    env = scratch_database_env(name)
    with data_folder(source) as folder:
        subprocess.run(
            [*MANAGE, "import_anthology", str(folder)],
            env=env,
            check=True,
        )
    return env
