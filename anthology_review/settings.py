"""Settings for anthology-review: one module, deploy-time values from the environment."""

import os
from pathlib import Path

from django.utils.csp import CSP

from anthology_review.database import default_database

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    # Before django_tasks_db: papers' db_worker (which first recovers from crashed imports)
    # takes the place of django_tasks_db's.
    "papers",
    "assignments",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
STATIC_ROOT = BASE_DIR / "var" / "static"

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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
