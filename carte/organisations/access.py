"""How a request becomes an actor: a page under `/o/<org>/` (`org_view`), an API call
under `/api/v1/orgs/{org}/` with a personal token (`TokenAuth`, `api_actor`).

No `from __future__ import annotations` here: django-ninja reads `TokenAuth`'s
annotations at runtime.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from ninja.security import HttpBearer

from carte.core.errors import FORBIDDEN, NOT_FOUND, DomainError
from carte.organisations import services, throttle
from carte.organisations.actor import Actor
from carte.organisations.models import ApiToken, User
from carte.organisations.selectors import actor_for, actor_for_token

P = ParamSpec("P")
OrgView = Callable[Concatenate[HttpRequest, Actor, P], HttpResponse]


class OrgRequest(HttpRequest):
    actor: Actor


def org_view(view: OrgView[P]) -> Callable[Concatenate[HttpRequest, str, P], HttpResponse]:
    """Resolve `/o/<org>/...` to an actor (404 unless a member) and map domain errors."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, org: str, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        try:
            actor = actor_for(request.user, org)
        except DomainError as exc:
            raise Http404("No such organisation.") from exc
        request.actor = actor  # type: ignore[attr-defined]
        if request.session.get("org") != org:
            request.session["org"] = org
        try:
            return view(request, actor, *args, **kwargs)
        except DomainError as exc:
            if exc.code == NOT_FOUND:
                raise Http404(exc.message) from exc
            if exc.code == FORBIDDEN:
                raise PermissionDenied(exc.message) from exc
            raise

    return cast(Callable[Concatenate[HttpRequest, str, P], HttpResponse], wrapper)


@dataclass
class Caller:
    """Who sent an API request: the token's login, the token, and the actor already read
    with it when the call named the token's organisation (django-ninja's `request.auth`)."""

    user: User
    token: ApiToken | None = None
    actor: Actor | None = None

    def actor_in(self, org: str) -> Actor:
        """The caller as an actor of the organisation `org`; 404 if not a member or if the
        token is limited to another organisation."""
        if self.actor is not None and self.actor.organisation.slug == org:
            return self.actor
        limited_to = self.token.organisation if self.token is not None else None
        if limited_to is not None and limited_to.slug != org:
            raise DomainError("No such organisation.", code=NOT_FOUND)
        return actor_for(self.user, org)


class TokenAuth(HttpBearer):
    """`Authorization: Bearer carte_...`: a personal token, looked up by its hash."""

    openapi_description = (
        "A personal API token, created on the Tokens page or with `carte token create`."
    )

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        key = services.hash_token(token)
        match = request.resolver_match
        slug = match.kwargs.get("org") if match is not None else None
        if slug:
            # The common case in one query: a member calling their organisation's endpoint.
            found = actor_for_token(key, slug)
            if found is not None:
                actor, token_id, last_used = found
                services.token_touch(token_id=token_id, last_used_at=last_used)
                request.user = actor.user  # type: ignore[assignment]
                return Caller(user=cast(User, actor.user), actor=actor)
        rows = list(
            ApiToken.objects.select_related("user", "organisation").filter(
                key_hash=key, revoked_at__isnull=True, user__is_active=True
            )[:1]
        )
        if not rows:
            throttle.token_failed(request)  # too many from one address: 429 for a while
            return None
        row = rows[0]
        services.token_touch(token_id=row.pk, last_used_at=row.last_used_at)
        request.user = row.user
        return Caller(user=row.user, token=row)


def api_actor(request: HttpRequest, org: str) -> Actor:
    """The API caller as an actor of the organisation in the path (see `Caller`)."""
    return cast(Caller, request.auth).actor_in(org)  # type: ignore[attr-defined]
