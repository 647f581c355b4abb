"""Roles are Django groups: reviewer, maintainer, admin. Superusers hold every role.

Checked in views (never only in templates): any partial can be requested on its own.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied

REVIEWER, MAINTAINER, ADMIN = "reviewer", "maintainer", "admin"


def user_has_role(user: AbstractBaseUser | AnonymousUser, *roles: str) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    # Cached per request object: a page may ask several times.
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._role_names = cached
    return bool(cached.intersection(roles))


def role_required(*roles: str) -> Callable:
    """Refuse (403) users without one of the roles; anonymous users go to the login page
    through LoginRequiredMiddleware first."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not user_has_role(request.user, *roles):
                raise PermissionDenied(f"This needs the {' or '.join(roles)} role.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
