import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anthology_review.settings")
application = get_wsgi_application()

# Import every view now rather than on each worker's first request: with gunicorn's preload_app
# (gunicorn.conf.py) they are loaded once, before the workers fork, and shared.
get_resolver().url_patterns  # noqa: B018
