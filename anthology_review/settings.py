"""Settings for anthology-review: one module, deploy-time values from the environment."""

import os
from datetime import timedelta
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from anthology_review.database import default_database
from anthology_review.local_key import local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Why an explicit marker rather than "DATABASE_URL is set": developers and the benchmarks point
# DATABASE_URL at other servers and scratch databases, and must not need a deployment's secrets
# for that. A deployment says ENVIRONMENT=production (deploy/anthology-review.env.example) and
# then gets the secure defaults below, and refuses to start with a missing or example secret.
PRODUCTION = os.environ.get("ENVIRONMENT", "") == "production"
EXAMPLE_SECRET_KEY = "replace-me-with-the-output-of-the-command-above"

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY == EXAMPLE_SECRET_KEY):
    raise ImproperlyConfigured(
        "ENVIRONMENT=production needs SECRET_KEY: a random value of 50+ characters, e.g. from "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
if not SECRET_KEY:
    # There is no public default key: outside production each checkout makes its own.
    SECRET_KEY = local_secret_key(BASE_DIR / "var" / "secret_key")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ENVIRONMENT=production needs ALLOWED_HOSTS (the site's host names)")
# https://review.example.org: the origins forms are posted from, when TLS ends at a proxy
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "axes",
    # Before django_tasks_db: papers' db_worker (which first recovers from crashed imports)
    # takes the place of django_tasks_db's.
    "papers",
    "assignments",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from gunicorn: compressed, hashed names cached for ever.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "anthology_review.middleware.RefuseNulBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Everything needs a login unless the view says @login_not_required: a forgotten
    # decorator then fails closed.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "papers.importing.middleware.PreviewSchemaMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "anthology_review.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "papers.permissions.roles_context",
            ],
        },
    },
]

WSGI_APPLICATION = "anthology_review.wsgi.application"
ASGI_APPLICATION = "anthology_review.asgi.application"

DATABASES = {"default": default_database(BASE_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `manage.py collectstatic` copies (and in production compresses and hashes) them here.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Production serves collected files under content-hashed names (far-future cache
        # headers, gzip/brotli copies); elsewhere templates must render without a collectstatic
        # first (the demo, the tests), so plain names found in the apps' folders.
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Outside production WhiteNoise finds files where they are written, as runserver does.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not PRODUCTION

# Uploaded Anthology archives for the import page; the limit is checked by the view too.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
IMPORT_UPLOAD_MAX_BYTES = int(os.environ.get("IMPORT_UPLOAD_MAX_BYTES", 200 * 1024 * 1024))
# Uploads stop at that limit while they arrive (and only the import page takes files at all):
# nothing larger is ever written to disk, whatever the request claims.
FILE_UPLOAD_HANDLERS = [
    "papers.importing.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Where imports unpack archives, one folder per run; removed when the run ends, or when a
# crashed run is found (papers.importing.services.runs_reap).
IMPORT_WORK_ROOT = Path(os.environ.get("IMPORT_WORK_ROOT", BASE_DIR / "var" / "import-work"))
# How long a request waits for the catalog while an import writes, before it says so.
CATALOG_LOCK_WAIT_SECONDS = float(os.environ.get("CATALOG_LOCK_WAIT_SECONDS", 5))

# Background work (imports, previews): stored in the database, run by `manage.py db_worker`.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

# The Anthology data folder (a checkout's data/) that approved changes are exported against for
# the maintainers' patch download. The demo uses the fixtures; set it to a real checkout.
ANTHOLOGY_DATA_DIR = os.environ.get("ANTHOLOGY_DATA_DIR", str(BASE_DIR / "fixtures" / "data"))

# The clustering model the app uses; `train_clustering` writes it.
CLUSTERING_MODEL_PATH = Path(
    os.environ.get(
        "CLUSTERING_MODEL_PATH", BASE_DIR / "assignments" / "clustering" / "model.joblib"
    )
)

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    # htmx injects its indicator styles inline
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# Production is served over HTTPS only, TLS ending at a proxy in front of gunicorn (which trusts
# the proxy's X-Forwarded-Proto: gunicorn.conf.py's forwarded_allow_ips). Each can be turned off
# by its variable, e.g. for a first deployment's HSTS, or a benchmark on plain HTTP.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", PRODUCTION)
ONE_YEAR = 365 * 24 * 3600
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", ONE_YEAR if PRODUCTION else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
# The header only allows a submission to the browsers' preload list; nothing is submitted.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one user from
# one address, that pair is refused (the right password too) until the cool-off ends or an
# admin resets it (`manage.py axes_reset_username NAME`). Per pair, not per user alone: a
# stranger guessing cannot lock a maintainer out everywhere.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 10))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 30)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind a proxy every request comes from the proxy's address: with TRUSTED_PROXY_COUNT=1 the
# client's address is the one the proxy appended to X-Forwarded-For (anthology_review.client_ip).
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", 0))
AXES_CLIENT_IP_CALLABLE = "anthology_review.client_ip.client_ip"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
