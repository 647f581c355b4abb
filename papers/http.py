"""The request as this project's middleware leaves it, for the annotations of views.

django-htmx sets `request.htmx` and PreviewSchemaMiddleware `request.preview` on every request;
behind `permissions.role_required` the user is signed in. Plain `HttpRequest` knows none of this,
so views that read them take a `Request` or an `AuthenticatedRequest` (types only: Django still
passes its own request object).
"""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from papers.models import Preview


class Request(HttpRequest):
    htmx: HtmxDetails
    preview: Preview | None


class AuthenticatedRequest(Request):
    user: User
