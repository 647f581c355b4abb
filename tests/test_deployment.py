"""The production recipe (README "Running it for a team"): settings from the environment, no
public secret key, `check --deploy` clean, and gunicorn + WhiteNoise really serving the app."""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from anthology_review.local_key import local_secret_key
from tests.factories import PASSWORD, make_paper, make_person, make_user

ROOT = Path(__file__).resolve().parent.parent
ENV_EXAMPLE = ROOT / "deploy" / "anthology-review.env.example"
# What a deployment sets; removed from the test's own environment so that each case says all.
DEPLOY_VARIABLES = {
    "ENVIRONMENT",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "STATIC_ROOT",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "TRUSTED_PROXY_COUNT",
    "DEBUG",
}


def example_env() -> dict[str, str]:
    """deploy/anthology-review.env.example's settings."""
    pairs = (
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return {name.strip(): value.strip() for name, value in pairs}


def clean_env(*layers: dict[str, str], **values: str) -> dict[str, str]:
    """This process's environment without a deployment's variables, then LAYERS and VALUES."""
    env = {k: v for k, v in os.environ.items() if k not in DEPLOY_VARIABLES}
    for layer in (*layers, values):
        env |= layer
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_check_deploy_is_clean_under_the_example_environment():
    # A reachable database: the model checks ask the server what it supports (a stored
    # generated column), as they would on the deployment's own server.
    env = clean_env(
        example_env(), SECRET_KEY=secrets.token_urlsafe(50), DATABASE_URL=test_database_url()
    )
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("secret_key", "why"),
    [(None, "unset"), ("", "empty"), ("short", "too short"), ("example", "the example's")],
)
def test_production_refuses_to_start_without_a_real_secret_key(secret_key, why):
    env = clean_env(example_env())
    if secret_key is None:
        del env["SECRET_KEY"]
    elif secret_key != "example":
        env["SECRET_KEY"] = secret_key
    result = manage("check", env=env)
    assert result.returncode != 0, why
    assert "ImproperlyConfigured: ENVIRONMENT=production needs SECRET_KEY" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    env = clean_env(example_env(), SECRET_KEY=secrets.token_urlsafe(50))
    del env["ALLOWED_HOSTS"]
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "ENVIRONMENT=production needs ALLOWED_HOSTS" in result.stderr


def test_without_environment_the_checkout_uses_its_own_random_key():
    """The README's first two commands set nothing: they get this checkout's key, not a public
    one written in the source."""
    code = "from django.conf import settings; print(settings.SECRET_KEY)"
    result = manage("shell", "-c", code, env=clean_env())
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    key_file = ROOT / "var" / "secret_key"
    assert key == key_file.read_text().strip()
    assert len(key) >= 50
    assert key not in (ROOT / "anthology_review" / "settings.py").read_text()
    assert key_file.stat().st_mode & 0o077 == 0  # readable by its owner only


def test_local_secret_key_is_made_once_and_kept(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = local_secret_key(path)
    assert path.read_text() == first
    assert local_secret_key(path) == first
    assert local_secret_key(tmp_path / "other" / "secret_key") != first


def test_processes_starting_at_once_agree_on_one_local_key(tmp_path):
    path = tmp_path / "secret_key"
    code = (
        "import sys; from anthology_review.local_key import local_secret_key; "
        f"print(local_secret_key(__import__('pathlib').Path({str(path)!r})))"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    keys = {p.communicate(timeout=60)[0].strip() for p in processes}
    assert keys == {path.read_text()}
    assert sorted(f.name for f in tmp_path.iterdir()) == ["secret_key"]  # no temporary left


# -- gunicorn + WhiteNoise, for real ----------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """A DATABASE_URL for the test database this test run uses (its data is committed:
    transactional_db), so that a server in another process sees it."""
    connection.ensure_connection()
    db = connection.settings_dict
    port = f":{db['PORT']}" if db["PORT"] else ""
    url = f"postgresql://{db['USER']}:{db['PASSWORD']}@{port}/{db['NAME']}"
    return url + (f"?host={db['HOST']}" if db["HOST"].startswith("/") else "")


test_database_url.__test__ = False  # a helper, not a test


@dataclass
class Server:
    port: int
    static_root: Path

    def request(
        self, method: str, path: str, *, headers: dict | None = None, body: str | None = None
    ) -> http.client.HTTPResponse:
        # As the TLS proxy in front of gunicorn would send it (gunicorn believes it from
        # 127.0.0.1, forwarded_allow_ips).
        headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.body = response.read()
        conn.close()
        return response


@pytest.fixture
def production_server(transactional_db, tmp_path) -> Iterator[Server]:
    """gunicorn with the repository's gunicorn.conf.py and the production settings, on a
    loopback port; stopped (the whole process group) at the end."""
    port = free_port()
    env = clean_env(
        example_env(),
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS=f"https://127.0.0.1:{port}",
        DATABASE_URL=test_database_url(),
        STATIC_ROOT=str(tmp_path / "static"),
        MEDIA_ROOT=str(tmp_path / "media"),
        IMPORT_WORK_ROOT=str(tmp_path / "import-work"),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="2",
    )
    collected = manage("collectstatic", "--noinput", env=env)
    assert collected.returncode == 0, collected.stderr
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "anthology_review.wsgi"],
        cwd=ROOT,  # where gunicorn.conf.py is read from
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    server = Server(port=port, static_root=tmp_path / "static")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                server.request("HEAD", "/")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.stderr.read().decode()) from None
                time.sleep(0.2)
        yield server
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        process.stderr.close()


def cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar = {}
    for header in response.headers.get_all("Set-Cookie") or []:
        name, _, rest = header.partition("=")
        jar[name] = rest.split(";", 1)[0]
        # Production cookies never travel over plain HTTP.
        assert "Secure" in header, header
    return jar


def test_gunicorn_serves_pages_static_files_and_logins(production_server, settings):
    # The server checks this password with the default hashers, not the tests' fast one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    make_user(username="rita", roles=("reviewer",))
    person = make_person(first="Peiyu", last="Liu")
    make_paper(title="Served by gunicorn", authors=(person,))
    server = production_server

    # Plain HTTP is sent to HTTPS; over HTTPS (the proxy's header) HSTS is on.
    plain = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    plain.request("GET", f"/people/{person.pk}/")
    redirect = plain.getresponse()
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"https://127.0.0.1:{server.port}/people/{person.pk}/"
    plain.close()

    page = server.request("GET", f"/people/{person.pk}/")
    assert page.status == 200
    assert b"Served by gunicorn" in page.body
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert page.headers["ETag"].startswith('W/"')

    # The static file under its hashed name from the manifest, as the page links it, compressed
    # and cached for ever.
    manifest = json.loads((server.static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/site.css"]
    assert hashed != "css/site.css"
    assert f"/static/{hashed}".encode() in page.body
    css = server.request("GET", f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
    assert css.status == 200
    assert css.headers["Content-Encoding"] == "gzip"
    assert "immutable" in css.headers["Cache-Control"]
    max_age = re.search(r"max-age=(\d+)", css.headers["Cache-Control"])
    assert int(max_age.group(1)) >= 365 * 24 * 3600

    # A login through the form, CSRF checks included, then a page that needs it.
    form = server.request("GET", "/login/")
    assert form.status == 200
    jar = cookies(form)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body).group(1)
    origin = f"https://127.0.0.1:{server.port}"
    body = f"csrfmiddlewaretoken={token.decode()}&username=rita&password={PASSWORD}"
    login = server.request(
        "POST",
        "/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={jar['csrftoken']}",
            "Origin": origin,
            "Referer": f"{origin}/login/",
        },
    )
    assert login.status == 302, login.body[:2000]
    assert login.headers["Location"] == "/"
    session = cookies(login)["sessionid"]
    draft = server.request("GET", "/changeset/", headers={"Cookie": f"sessionid={session}"})
    assert draft.status == 200
    assert b"rita" in draft.body
    # A logged-in visitor's person page is theirs alone: no tag, no shared copy.
    mine = server.request(
        "GET", f"/people/{person.pk}/", headers={"Cookie": f"sessionid={session}"}
    )
    assert mine.status == 200
    assert "ETag" not in mine.headers
    assert "private" in mine.headers["Cache-Control"]
