"""The Centre of Excellence's task-list templates under /o/<org>/lifecycle/templates/: each
template with its lines in order, and for those who may change artefacts a form to add a
line and a button to remove one. Set-up and closure task lists are made from these lines.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from carte.catalogue.models import Artefact
from carte.core.errors import DomainError
from carte.core.listing import get_for
from carte.core.permissions import CHANGE, VIEW, can, require
from carte.core.views import apply_domain_error, done, refusal_status
from carte.lifecycle import forms, selectors, services
from carte.lifecycle.models import TemplateTask
from carte.organisations.access import org_view
from carte.organisations.actor import Actor


def templates_url(actor: Actor, template: Artefact | None = None) -> str:
    url = reverse("lifecycle:templates", args=[actor.organisation.slug])
    return f"{url}#template-{template.pk}" if template is not None else url


def _prefix(template: Artefact) -> str:
    return f"t{template.pk}"


def _page(
    request: HttpRequest,
    actor: Actor,
    bound: forms.TemplateTaskForm | None = None,
    bound_for: int | None = None,
    status: int = 200,
) -> HttpResponse:
    templates = list(selectors.task_templates_with_lines(actor))
    editable = {t.pk: can(actor, CHANGE, t) for t in templates}
    rows = []
    for template in templates:
        form = None
        if editable[template.pk]:
            form = (
                bound
                if bound is not None and bound_for == template.pk
                else forms.TemplateTaskForm(prefix=_prefix(template))
            )
        rows.append(
            {"template": template, "lines": list(template.template_tasks.all()), "form": form}
        )
    return render(request, "lifecycle/templates.html", {"rows": rows}, status=status)


@org_view
@require_http_methods(["GET"])
def templates(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every task-list template of a Centre of Excellence, with its lines."""
    return _page(request, actor)


@org_view
@require_http_methods(["GET", "POST"])
def template_task_add(request: HttpRequest, actor: Actor, template_pk: int) -> HttpResponse:
    """Add a line to a template; a refusal is shown next to the fields (422). The form is
    on the templates page: a GET is refused after the lookup (another organisation's id
    is a 404 whatever the method)."""
    template = selectors.task_template(actor, template_pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = forms.TemplateTaskForm(request.POST, prefix=_prefix(template))
    if form.is_valid():
        try:
            services.template_task_create(
                actor=actor, template=template, data=dict(form.cleaned_data)
            )
        except DomainError as exc:
            refusal_status(exc)
            apply_domain_error(form, exc)
        else:
            return done(request, templates_url(actor, template), "Line added to the template.")
    return _page(request, actor, form, template.pk, status=422)


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
