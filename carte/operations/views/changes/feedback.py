"""Pages of customer feedback: customers rate a service they use at
catalogue/services/<pk>/feedback/; the PMO reads the ratings and the monthly
satisfaction, and records feedback a named customer gave them."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_http_methods

from carte.core.permissions import ADD, can
from carte.core.views import form_page
from carte.operations.forms.changes import FeedbackForm
from carte.operations.models import Feedback
from carte.operations.selectors import changes as selectors
from carte.operations.services import feedback as services
from carte.operations.services.common import actor_person
from carte.operations.views.changes.base import S, page, query, staff_only, url
from carte.organisations.access import org_view
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole


@org_view
@require_http_methods(["GET", "POST"])
def feedback_give(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Customers rate a service they use, and may suggest a change; PMO staff record
    feedback a named customer gave them."""
    service = selectors.service_for(actor, pk)
    if not can(actor, ADD, Feedback(organisation=actor.organisation, service=service)):
        raise PermissionDenied
    staff = bool(actor.roles & services.FEEDBACK_STAFF)
    if not staff:
        who = actor_person(actor) if OrgRole.CUSTOMER in actor.roles else None
        if who is None or who.customer_group_id not in services.customer_groups_of(service):
            raise PermissionDenied("Feedback is given by the customers of the service.")
    form = FeedbackForm(
        request.POST if request.method == "POST" else None,
        actor=actor,
        customers=selectors.feedback_customers(actor, service) if staff else None,
    )

    def success(feedback: Feedback) -> tuple[str, str]:
        message = "Thank you: your feedback has been recorded."
        if staff:
            if feedback.change_request_id:
                message += " The suggestion is a draft change request."
            return url("feedback_list", actor, service), message
        # The customer goes where they follow it: their suggestion's status, or their list.
        slug = actor.organisation.slug
        if feedback.change_request_id:
            message += " Your suggestion has gone to the service's team: follow its status here."
            return reverse("operations:my_request", args=[slug, feedback.change_request_id]), (
                message
            )
        message += " You find it under My requests."
        return reverse("operations:my_requests", args=[slug]), message

    return form_page(
        request,
        form=form,
        save=lambda data: services.feedback_give(
            actor=actor,
            service=service,
            rating=data["rating"],
            comment=data["comment"],
            suggestion=data["suggestion"],
            person=data.get("person"),
        ),
        success=success,
        template="operations/feedback_form.html",
        context={"service": service, "staff": staff},
    )


@org_view
def feedback_list(request: HttpRequest, actor: Actor, pk: int) -> HttpResponse:
    """Every rating of a service with its comment and suggested change, and the monthly
    satisfaction over the last year (PMO staff)."""
    service = selectors.service_for(actor, pk)
    staff_only(actor, Feedback)
    shown = page(request, selectors.feedback_for_service(actor=actor, service=service))
    monthly = selectors.satisfaction(actor, service)
    average, count = selectors.overall(monthly)
    return render(
        request,
        "operations/feedback_list.html",
        {
            "service": service,
            "page": shown,
            "satisfaction": monthly,
            "sparkline": selectors.satisfaction_sparkline(monthly),
            "average": average,
            "count": count,
            "query": query(request),
            "can_record": bool(actor.roles & services.FEEDBACK_STAFF),
        },
    )


urlpatterns: list[URLPattern] = [
    path(f"{S}/feedback/", feedback_list, name="feedback_list"),
    path("catalogue/services/<id:pk>/feedback/", feedback_give, name="feedback_give"),
]
