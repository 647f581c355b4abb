"""Conditional GET for the pages anyone may read: person pages and search.

A visitor's browser keeps the page with a tag (a weak ETag) made of what the page shows: the
catalog's version (every import and applied change moves it on), what the view adds about the
page (its person's moves in flight and decisions, its stored suggestion), the kind of response
(whole page or htmx fragment) and this server's start. On the next visit it asks "still this?"
and gets a body-less 304 when nothing changed.

Nothing is shared between users: only anonymous requests get a tag, every response says
`Cache-Control: private` (no proxy or CDN may keep it) and `no-cache` (the browser asks each time),
and `Vary: Cookie` (a logged-in visit is never answered from an anonymous copy). Preview pages
are left out: they come from a preview's schema, not from the catalog the version counts.
What a tag does not follow is the clock: a revalidated page keeps its "computed 3 hours ago"
from when it was sent, until something on it changes.
"""

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

from papers import selectors
from papers.http import Request

# Why the start time: a deploy restarts the server, and new code or templates must not match a
# tag of the old ones. gunicorn.conf.py preloads the app, so every worker shares this value.
_STARTED = time.time_ns()

PageKey = Callable[..., Iterable[object]]


def request_catalog_version(request: HttpRequest) -> int:
    """The catalog's version as this request first read it (one read per request).

    Read before the view reads the data: data committed after this read makes a newer page (or
    newer kept results) under an older version, which are refreshed next time; the other way
    round could never happen.
    """
    version = getattr(request, "_catalog_version", None)
    if version is None:
        version = selectors.catalog_version()
        setattr(request, "_catalog_version", version)  # noqa: B010 - not a declared attribute
    return version


def page_etag(request: Request, parts: Iterable[object]) -> str:
    """The weak tag for this request's page. Weak: the bytes differ from one response to the
    next (the masked CSRF token), the page does not."""
    key = [_STARTED, request_catalog_version(request), bool(request.htmx), *parts]
    return f'W/"{hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()}"'


def conditional_public_page(page_key: PageKey) -> Callable:
    """Answer anonymous GET/HEAD requests with 304 when their tag still holds.

    `page_key(request, *args, **kwargs)` gives what the page shows beyond the catalog version,
    read cheaply (a few indexed queries, never the page itself).
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: Request, *args: object, **kwargs: object) -> HttpResponse:
            etag = None
            if (
                request.method in ("GET", "HEAD")
                and not request.user.is_authenticated
                and getattr(request, "preview", None) is None
            ):
                etag = page_etag(request, page_key(request, *args, **kwargs))
                not_modified = get_conditional_response(request, etag=etag)
                if not_modified is not None:
                    return _private(not_modified, etag)
            response = view(request, *args, **kwargs)
            return _private(response, etag if response.status_code == 200 else None)

        return wrapped

    return decorator


def _private(response: HttpResponse, etag: str | None) -> HttpResponse:
    if etag is not None:
        response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response


class CatalogCache[T]:
    """Values computed from the catalog alone, kept in this process until the catalog changes.

    For public data only (search results), never for anything that depends on who asks: the
    key is the catalog's version and the caller's key, the least recently used go first.
    Thread-safe (gunicorn's threads share it); a value is computed outside the lock, so two
    threads asking at once may both compute it.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[tuple[int, Hashable], T] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, request: HttpRequest, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for KEY under the catalog version REQUEST reads, computed if needed."""
        full = (request_catalog_version(request), key)
        with self._lock:
            if full in self._values:
                self._values.move_to_end(full)
                return self._values[full]
        value = compute()
        with self._lock:
            self._values[full] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
