"""Roles are Django groups: reviewer, maintainer, admin. Superusers hold every role.

Checked in views (never only in templates): any partial can be requested on its own.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

REVIEWER, MAINTAINER, ADMIN = "reviewer", "maintainer", "admin"

# Who may do what: the one table of the rules, used by views (role_required), services and
# templates (the `can` context), so that a page never offers what its view refuses.
PROPOSERS = (REVIEWER, MAINTAINER, ADMIN)  # propose moves, keep a draft change set
REVIEWERS_OF_CHANGES = (MAINTAINER, ADMIN)  # approve, reject, revert, export; watch imports
IMPORTERS = (ADMIN,)  # start imports and previews


def user_roles(user: User | AnonymousUser) -> frozenset[str]:
    if not user.is_authenticated:
        return frozenset()
    if user.is_superuser:
        return frozenset((REVIEWER, MAINTAINER, ADMIN))
    # Cached on the user object, which lives as long as the request: a page may ask often.
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._role_names = cached  # type: ignore[attr-defined]  # a cache on the object, see above
    return cached


def user_has_role(user: User | AnonymousUser, *roles: str) -> bool:
    return bool(user_roles(user).intersection(roles))


def can_propose(user: User | AnonymousUser) -> bool:
    return user_has_role(user, *PROPOSERS)


def can_review(user: User | AnonymousUser) -> bool:
    return user_has_role(user, *REVIEWERS_OF_CHANGES)


def can_import(user: User | AnonymousUser) -> bool:
    return user_has_role(user, *IMPORTERS)


def roles_context(request: HttpRequest) -> dict:
    """Context processor: `roles`, the current user's role names, and `can`, what they may do
    (queried only when used)."""

    def can() -> dict[str, bool]:
        return {
            "propose": can_propose(request.user),
            "review": can_review(request.user),
            "import": can_import(request.user),
        }

    return {
        "roles": SimpleLazyObject(lambda: user_roles(request.user)),
        "can": SimpleLazyObject(can),
    }


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
