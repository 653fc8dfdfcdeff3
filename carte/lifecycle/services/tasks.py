"""Task lists of a service's set-up and closure, started from a Centre of Excellence's
template when there is one, and the templates' own lines."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max

from carte.catalogue.choices import Stage
from carte.catalogue.models import Artefact, Service
from carte.core.clock import today
from carte.core.errors import CONFLICT, DomainError
from carte.core.permissions import CHANGE, require
from carte.core.services import (
    archive_object,
    check_same_org,
    clean_text,
    create_object,
    update_object,
)
from carte.lifecycle.choices import TaskPurpose
from carte.lifecycle.models import Task, TaskList, TemplateTask
from carte.lifecycle.selectors import is_task_template
from carte.lifecycle.services.base import in_stage, record_event, require_manage
from carte.organisations.actor import Actor


def make_task_list(
    actor: Actor,
    service: Service,
    purpose: str,
    *,
    template: Artefact | None = None,
    name: str = "",
) -> TaskList:
    if template is not None:
        check_same_org(actor, live=True, template=template)
        if not is_task_template(template):
            raise DomainError.field(
                "template", "Choose a task-list template of a Centre of Excellence."
            )
    label = TaskPurpose(purpose).label
    task_list = create_object(
        actor,
        TaskList(
            service=service,
            purpose=purpose,
            name=clean_text("name", name, required=False, limit=200)
            or f"{label} of {service.name}"[:200],
            template=template,
        ),
    )
    if template is not None:
        start = today()
        for item in TemplateTask.objects.filter(template=template, archived_at__isnull=True):
            create_object(
                actor,
                Task(
                    task_list=task_list,
                    title=item.title,
                    due_on=start + dt.timedelta(days=item.due_after_days),
                    position=item.position,
                ),
            )
    record_event(
        actor,
        service,
        f"{label} task list created" + (f" from {template.name}" if template else ""),
    )
    return task_list


@transaction.atomic
def task_list_create(
    *,
    actor: Actor,
    service: Service,
    purpose: str,
    template: Artefact | None = None,
    name: str = "",
) -> TaskList:
    require_manage(actor, service)
    if purpose not in TaskPurpose.values:
        raise DomainError.field("purpose", "Choose set-up or closure.")
    stages = (
        (Stage.APPROVED_FOR_SETUP, Stage.DESIGN, Stage.PILOT, Stage.SIGNED_OFF, Stage.TRANSITION)
        if purpose == TaskPurpose.SETUP
        else (Stage.CLOSING,)
    )
    in_stage(service, *stages, doing=f"start a {TaskPurpose(purpose).label.lower()} task list")
    return make_task_list(actor, service, purpose, template=template, name=name)


TASK_FIELDS = ("title", "assignee", "due_on", "status", "position")


def _check_task(actor: Actor, data: dict[str, Any]) -> None:
    unknown = set(data) - set(TASK_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    check_same_org(actor, live=True, assignee=data.get("assignee"))


@transaction.atomic
def task_create(*, actor: Actor, task_list: TaskList, data: dict[str, Any]) -> Task:
    require_manage(actor, task_list.service)
    _check_task(actor, data)
    data = dict(data)
    if data.get("position") is None:
        last = Task.objects.filter(task_list=task_list).aggregate(m=Max("position"))["m"] or 0
        data["position"] = last + 10
    return create_object(actor, Task(task_list=task_list, **data))


@transaction.atomic
def task_update(*, actor: Actor, task: Task, data: dict[str, Any]) -> Task:
    require_manage(actor, task.task_list.service)
    if task.is_archived:
        raise DomainError("This task is archived: it can no longer be changed.", code=CONFLICT)
    _check_task(actor, data)
    return update_object(actor, task, data)


@transaction.atomic
def task_archive(*, actor: Actor, task: Task) -> Task:
    require_manage(actor, task.task_list.service)
    return archive_object(actor, task)


@transaction.atomic
def template_task_create(*, actor: Actor, template: Artefact, data: dict[str, Any]) -> TemplateTask:
    """Add a line to a Centre of Excellence's task-list template."""
    require(actor, CHANGE, template)
    if not is_task_template(template):
        raise DomainError.field("template", "Only a Centre of Excellence's template holds tasks.")
    unknown = set(data) - {"title", "due_after_days", "position"}
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    data = dict(data)
    if data.get("position") is None:
        last = TemplateTask.objects.filter(template=template).aggregate(m=Max("position"))["m"]
        data["position"] = (last or 0) + 10
    return create_object(actor, TemplateTask(template=template, **data))


TEMPLATE_TASK_FIELDS = ("title", "due_after_days", "position")


@transaction.atomic
def template_task_update(*, actor: Actor, item: TemplateTask, data: dict[str, Any]) -> TemplateTask:
    """Change a line of a Centre of Excellence's task-list template."""
    require(actor, CHANGE, item.template)
    if item.is_archived:
        raise DomainError("This line is archived: restore it first.", code=CONFLICT)
    unknown = set(data) - set(TEMPLATE_TASK_FIELDS)
    if unknown:
        raise DomainError.field(sorted(unknown)[0], "Unknown field.")
    return update_object(actor, item, data)


@transaction.atomic
def template_task_archive(*, actor: Actor, item: TemplateTask) -> TemplateTask:
    """Remove a line from a task-list template (it is kept, archived)."""
    require(actor, CHANGE, item.template)
    return archive_object(actor, item)
