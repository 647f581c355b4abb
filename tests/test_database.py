from pathlib import Path

from anthology_review import database


def test_database_url_is_used_as_it_is(monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:secret@db.example:5433/review")
    monkeypatch.setenv("EMBEDDED_PGDATA", str(tmp_path / "unused"))
    db = database.default_database(tmp_path)
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["NAME"], db["USER"], db["HOST"], db["PORT"]) == (
        "review",
        "app",
        "db.example",
        "5433",
    )
    assert "PGDATA" not in db


def test_without_database_url_the_embedded_server_waits_for_a_connection(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("EMBEDDED_PGDATA", raising=False)
    db = database.default_database(tmp_path)
    assert db["ENGINE"] == "anthology_review.embedded_db"
    assert Path(db["PGDATA"]) == tmp_path.resolve() / ".pgdata"
    # its socket folder is filled in by the backend, once the server runs
    assert (db["NAME"], db["USER"], db["HOST"]) == ("postgres", "postgres", "")
    assert not (tmp_path / ".pgdata").exists()


def test_embedded_pgdata_moves_the_data_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("EMBEDDED_PGDATA", str(tmp_path / "elsewhere"))
    db = database.default_database(tmp_path / "project")
    assert Path(db["PGDATA"]) == tmp_path.resolve() / "elsewhere"
