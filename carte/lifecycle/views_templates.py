"""The Centre of Excellence's task-list templates under /o/<org>/lifecycle/templates/: each
template with its lines in order, and for those who may change artefacts a form to add a
line and a button to remove one. Set-up and closure task lists are made from these lines.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from carte.catalogue.models import Artefact
from carte.core.listing import get_for
from carte.core.permissions import CHANGE, VIEW, can, require
from carte.core.views import done, form_page
from carte.lifecycle import forms, selectors, services
from carte.lifecycle.models import TemplateTask
from carte.organisations.access import org_view
from carte.organisations.actor import Actor


def templates_url(actor: Actor, template: Artefact | None = None) -> str:
    url = reverse("lifecycle:templates", args=[actor.organisation.slug])
    return f"{url}#template-{template.pk}" if template is not None else url


def _prefix(template: Artefact) -> str:
    return f"t{template.pk}"


def _rows(
    actor: Actor, bound: forms.TemplateTaskForm | None = None, bound_for: int | None = None
) -> list[dict[str, Any]]:
    """Each template with its lines and, where the actor may change it, the form to add a
    line (`bound`, with what was typed, for the template `bound_for`)."""
    rows = []
    for template in selectors.task_templates_with_lines(actor):
        form = None
        if can(actor, CHANGE, template):
            form = (
                bound
                if bound is not None and bound_for == template.pk
                else forms.TemplateTaskForm(actor=actor, prefix=_prefix(template))
            )
        rows.append(
            {"template": template, "lines": list(template.template_tasks.all()), "form": form}
        )
    return rows


@org_view
@require_http_methods(["GET"])
def templates(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every task-list template of a Centre of Excellence, with its lines."""
    return render(request, "lifecycle/templates.html", {"rows": _rows(actor)})


@org_view
@require_http_methods(["GET", "POST"])
def template_task_add(request: HttpRequest, actor: Actor, template_pk: int) -> HttpResponse:
    """Add a line to a template; a refusal is shown next to the fields (422). The form is
    on the templates page: a GET is refused after the lookup (another organisation's id
    is a 404 whatever the method)."""
    template = selectors.task_template(actor, template_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = forms.TemplateTaskForm(request.POST, actor=actor, prefix=_prefix(template))
    return form_page(
        request,
        form=form,
        save=lambda data: services.template_task_create(
            actor=actor, template=template, data=dict(data)
        ),
        success=lambda _: (templates_url(actor, template), "Line added to the template."),
        template="lifecycle/templates.html",
        context=lambda: {"rows": _rows(actor, form, template.pk)},
    )


@org_view
@require_http_methods(["GET", "POST"])
def template_task_archive(request: HttpRequest, actor: Actor, item: int) -> HttpResponse:
    """Remove a line (it is kept, archived). Lookups first: another organisation's id is
    a 404 whatever the method."""
    require(actor, VIEW, TemplateTask)  # staff-side: a customer is refused
    line = get_for(
        actor,
        TemplateTask.objects.filter(archived_at__isnull=True).select_related("template"),
        item,
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.template_task_archive(actor=actor, item=line)
    return done(request, templates_url(actor, line.template), f"“{line}” removed.")
