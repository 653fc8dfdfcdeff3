"""Task-list templates: the Centre of Excellence's template artefacts that hold task lines."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet

from carte.catalogue.choices import ArtefactKind
from carte.catalogue.models import Artefact
from carte.core.listing import get_for
from carte.core.permissions import VIEW, require
from carte.lifecycle.models import TemplateTask
from carte.organisations.actor import Actor
from carte.organisations.choices import PMOKind

# What makes an artefact a task-list template: a template artefact shared by a live
# Centre of Excellence. One definition, as lookups: the lists filter on it and
# `is_task_template` checks an artefact in hand against it.
TASK_TEMPLATE: dict[str, Any] = {
    "kind": ArtefactKind.TEMPLATE,
    "owner_pmo__kind": PMOKind.CENTRE_OF_EXCELLENCE,
    "owner_pmo__archived_at": None,
}


def is_task_template(artefact: Artefact) -> bool:
    """Whether the artefact is a task-list template (`TASK_TEMPLATE`)."""
    for path, expected in TASK_TEMPLATE.items():
        value: Any = artefact
        for name in path.split("__"):
            value = getattr(value, name) if value is not None else None
        if value != expected:
            return False
    return True


def task_templates(actor: Actor) -> QuerySet[Artefact]:
    """Task-list templates (`TASK_TEMPLATE`) of the organisation. Those that already hold
    task lines come first (the others are document templates until someone gives them
    lines)."""
    lines = TemplateTask.objects.filter(template=OuterRef("pk"), archived_at__isnull=True)
    return (
        Artefact.objects.filter(
            organisation_id=actor.organisation.pk, archived_at__isnull=True, **TASK_TEMPLATE
        )
        .select_related("owner_pmo")
        .annotate(has_lines=Exists(lines))
        .order_by("-has_lines", "name", "id")
    )


def task_templates_with_lines(actor: Actor) -> QuerySet[Artefact]:
    """The task-list templates (`task_templates`), each with its live lines in order
    (prefetched). Staff-side: a customer is refused (403)."""
    require(actor, VIEW, TemplateTask)
    return task_templates(actor).prefetch_related(
        Prefetch(
            "template_tasks",
            queryset=TemplateTask.objects.filter(archived_at__isnull=True).order_by(
                "position", "id"
            ),
        )
    )


def task_template(actor: Actor, pk: int | str) -> Artefact:
    """One task-list template of the organisation, with its lines (404 otherwise)."""
    return get_for(actor, task_templates_with_lines(actor), pk)


def template_line_get(*, actor: Actor, template: Artefact, pk: int | str) -> TemplateTask:
    """A line of the template, archived or not (the service refuses to change an archived
    one; an archived one is answered as it is)."""
    return get_for(actor, TemplateTask.objects.filter(template=template), pk)
