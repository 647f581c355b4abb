"""The client's address, for the login throttling (django-axes' AXES_CLIENT_IP_CALLABLE)."""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the outermost of them saw.

    Each proxy appends the address it was called from to X-Forwarded-For, so the last N entries
    were written by our own N proxies and the Nth from the end is the client; anything before it
    came from the client and may be forged (a forged entry must not pick whose counter grows).
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")
