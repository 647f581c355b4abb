import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Hashing passwords properly costs ~0.3 s each; tests make many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
