"""The secret key of a checkout that is not a production deployment.

Why: Django signs sessions, password-reset links and CSRF tokens with SECRET_KEY. A default key
written in the source is public, so anyone could forge those on a server that forgot to set one.
Outside production (the demo, the test suite, CI, a developer's shell) nobody sets one, and
these must keep working with no environment at all; so each checkout makes its own random key
once, in the ignored `var/` folder, and reuses it (sessions survive a restart of the demo).
Production (`ENVIRONMENT=production`) never comes here: it refuses to start without SECRET_KEY.
"""

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def local_secret_key(path: Path) -> str:
    """The key stored at PATH, made (readable by its owner only) if there is none yet."""
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    try:
        # link() fails if the key exists: of several processes starting at once (gunicorn's
        # workers, pytest-xdist) the first one's key wins and every process reads that one.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return _read(path)


def _read(path: Path) -> str:
    key = path.read_text().strip()
    if not key:
        raise ImproperlyConfigured(f"{path} is empty: delete it and a new key is made.")
    return key
