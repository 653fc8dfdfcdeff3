"""Throttling: failed logins (django-axes) and bad API tokens (counted in the cache).

- Logins: django-axes counts failures in the database by account and, separately, by
  address (`settings.AXES_*`); this module gives it the address (`client_address`), the
  account's name (`login_name`, the e-mail whatever its case) and the lockout page
  (`lockout_response`). An organisation's administrator unlocks a member's login
  (`login_unlock`).
- API tokens: every bearer token that matches no live token counts against the sender's
  address (`token_failed`, called by `access.TokenAuth`); past the limit the address is
  refused with 429 for the rest of the window by `TokenThrottleMiddleware`, before the
  request reaches the session, the authentication or the database.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from carte.core.api import problem
from carte.core.audit import record
from carte.core.errors import TOO_MANY_REQUESTS
from carte.core.models import AuditAction
from carte.core.permissions import Action, require
from carte.organisations.actor import Actor
from carte.organisations.models import Membership
from carte.organisations.permissions import MEMBER_EDITORS

# Those who manage the members (the member page's Edit button) unlock their logins too.
UNLOCK_LOGIN = Action(
    "unlock_login", MEMBER_EDITORS, "Only those who manage the members may unlock a login."
)

LOCKOUT_TEMPLATE = "registration/lockout.html"


# ---------------------------------------------------------------- who is asking


def client_address(request: HttpRequest) -> str | None:
    """The address a request comes from: the connection's, or with
    `CARTE_TRUSTED_PROXIES` = n proxies in front, the n-th from the right of
    X-Forwarded-For (what the outermost proxy saw; anything left of it the client may
    have written itself). None when it is not an IP address."""
    address = request.META.get("REMOTE_ADDR")
    proxies: int = settings.CARTE_TRUSTED_PROXIES
    if proxies > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    try:
        return str(ipaddress.ip_address(address or ""))
    except ValueError:
        return None


def login_name(request: HttpRequest, credentials: dict[str, Any] | None) -> str | None:
    """The account a login attempt names, as Carte finds it: the e-mail, stripped and in
    lower case (so "Ann@X" and "ann@x" count as one account)."""
    field = settings.AXES_USERNAME_FORM_FIELD
    raw = credentials.get(field) if credentials else request.POST.get(field)
    return raw.strip().lower() if isinstance(raw, str) else None


# ---------------------------------------------------------------- logins


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any = None
) -> HttpResponse:
    """The page a locked-out login gets (429): until when, and whom to ask. Every attempt
    while locked out is counted, so the wait runs from now."""
    cool_off = get_cool_off(request) or timedelta(0)
    return render(
        request,
        LOCKOUT_TEMPLATE,
        {"until": timezone.now() + cool_off, "minutes": math.ceil(cool_off.total_seconds() / 60)},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )


def login_failures(email: str) -> int:
    """The failed attempts to log in to this account still counted (within the cool-off)."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    found = AccessAttempt.objects.filter(username=email.lower(), attempt_time__gte=since)
    total: int | None = found.aggregate(total=Sum("failures_since_start"))["total"]
    return total or 0


@transaction.atomic
def login_unlock(*, actor: Actor, membership: Membership) -> int:
    """Forget the failed attempts to log in to a member's account, so they can log in
    again at once; returns how many were still counted (0: it was not locked, and
    nothing is recorded). A login's attempts to log in from an address that is itself
    locked out stay refused until the cool-off ends (`carte manage axes_reset_ip`)."""
    require(actor, UNLOCK_LOGIN, membership)
    email = membership.user.email
    failures = login_failures(email)
    reset(username=email.lower())
    if failures:
        record(
            actor=actor,
            obj=membership,
            action=AuditAction.UPDATE,
            changes={"failed_logins": {"before": failures, "after": 0}},
        )
    return failures


# ---------------------------------------------------------------- API tokens


def _token_keys(address: str | None) -> tuple[str, str]:
    return f"carte:bad-tokens:{address}", f"carte:bad-tokens-until:{address}"


def token_failed(request: HttpRequest) -> None:
    """Count a bearer token that matched no live token against the sender's address; the
    limit reached, the address is refused until the window ends."""
    limit: int = settings.CARTE_TOKEN_FAILURES
    if limit <= 0:  # throttling turned off
        return
    count_key, until_key = _token_keys(client_address(request))
    window = settings.CARTE_TOKEN_COOLOFF_MINUTES * 60
    cache.add(count_key, 0, window)
    try:
        count = cache.incr(count_key)
    except ValueError:  # expired between add and incr
        cache.set(count_key, 1, window)
        count = 1
    if count >= limit:
        cache.set(until_key, time.time() + window, window)


def token_wait(request: HttpRequest) -> int | None:
    """Seconds until the sender's address may send tokens again; None if it may now."""
    until = cache.get(_token_keys(client_address(request))[1])
    if until is None:
        return None
    remaining = until - time.time()
    return math.ceil(remaining) if remaining > 0 else None


class TokenThrottleMiddleware:
    """Answers 429 problem+json (with Retry-After) to a bearer request from an address
    that sent too many bad tokens, before the session, the authentication or the
    database are touched. A request without a bearer token (a page) passes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.headers.get("Authorization", "")[:7].lower() == "bearer ":
            wait = token_wait(request)
            if wait is not None:
                response = problem(
                    request,
                    status=429,
                    code=TOO_MANY_REQUESTS,
                    detail=(
                        "Too many requests with an invalid API token from your address: "
                        f"try again in {math.ceil(wait / 60)} minute(s)."
                    ),
                )
                response["Retry-After"] = str(wait)
                return response
        return self.get_response(request)
