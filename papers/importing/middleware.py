"""Serve a preview's pages from the preview's own schema.

URLs under `/previews/<preview>/` reach the ordinary views; this middleware takes the `preview`
argument off, checks the preview is open, and puts its schema first on the connection's
search path for that request only. The papers_* tables then resolve to the preview's copies,
while accounts and change sets stay the current ones.
"""

from django.db import connection
from django.http import Http404

from papers.models import Preview


class PreviewSchemaMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.preview = None
        try:
            return self.get_response(request)
        finally:
            if request.preview is not None:
                with connection.cursor() as cursor:
                    cursor.execute("SET search_path TO DEFAULT")

    def process_view(self, request, view_func, view_args, view_kwargs):
        name = view_kwargs.pop("preview", None)
        if name is None:
            return None
        preview = Preview.objects.filter(name=name, status=Preview.Status.READY).first()
        if preview is None:
            raise Http404(f"No open preview called {name!r}.")
        with connection.cursor() as cursor:
            cursor.execute(f"SET search_path TO {preview.schema}, public")
        request.preview = preview
        return None
