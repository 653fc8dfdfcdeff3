"""Organisation-scoped pages live under /o/<org>/."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path

from carte.core.jobs.views import job_urls
from carte.core.views_workspace import workspace_urls
from carte.organisations import selectors, throttle
from carte.organisations.access import org_view
from carte.organisations.actor import Actor
from carte.organisations.views import MEMBERS, org_urls


def member_unlock(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """The member page's "Unlock login" button (POST): forgets the login's failed
    attempts (`throttle.login_unlock`). 404 for a member the actor may not see, before
    the method is looked at; 403 from the service for one they may not unlock."""
    membership = selectors.membership_get(actor=actor, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    email = membership.user.email
    if throttle.login_unlock(actor=actor, membership=membership):
        messages.success(request, f"Login of {email} unlocked: they can log in again now.")
    else:
        messages.info(request, f"The login of {email} was not locked: nothing to unlock.")
    return HttpResponseRedirect(MEMBERS.url("detail", actor, membership.pk))


urlpatterns = [
    *org_urls(),
    path("members/<id:pk>/unlock/", org_view(member_unlock), name="member_unlock"),
    *job_urls(org_view),
    *workspace_urls(org_view),
]
