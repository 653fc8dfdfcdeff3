"""Pages of "My requests" (issue 13, a customer's view): the change requests a person
raised and the feedback they gave, each with its status, at operations/my-requests/, and
each request's story, read-only, at operations/my-requests/<pk>/. Anyone may open them,
customers first of all; each lists or shows only the viewer's own (another's is 404)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path

from carte.operations.selectors import changes as selectors
from carte.operations.views.changes.base import PAGE_SIZE, change_url
from carte.organisations.access import org_view
from carte.organisations.actor import Actor


@org_view
def my_requests(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The viewer's own change requests (newest first) and feedback, each with its status
    and, once decided, the decision and its note."""
    changes = Paginator(selectors.my_changes(actor), PAGE_SIZE).get_page(request.GET.get("page"))
    feedback = Paginator(selectors.my_feedback(actor), PAGE_SIZE).get_page(
        request.GET.get("feedback_page")
    )
    return render(
        request,
        "operations/my_requests.html",
        {"changes": changes, "feedback": feedback, "query": request.GET.urlencode()},
    )


@org_view
def my_request(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """One change request the viewer raised: what they asked, its status, the decision and
    its story, with nothing to act on (404 for anyone else's)."""
    change = selectors.shown_to(actor, selectors.my_change_get(actor=actor, pk=pk))
    return render(
        request,
        "operations/my_requests_detail.html",
        {
            "change": change,
            "story": selectors.change_story(actor=actor, change=change),
            # The staff also work on it from the service's page.
            "staff_url": change_url(actor, change) if actor.staff_side else "",
        },
    )


urlpatterns: list[URLPattern] = [
    path("operations/my-requests/", my_requests, name="my_requests"),
    path("operations/my-requests/<id:pk>/", my_request, name="my_request"),
]
