"""The Centre of Excellence's task-list templates through the API.
No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from carte.catalogue.models import Artefact
from carte.core.api import CrudSpec, Named, Parent, Stamped, Strict, crud_routes, no_nulls
from carte.core.permissions import CHANGE
from carte.lifecycle import services
from carte.lifecycle.selectors import task_template, task_templates_with_lines, template_line_get
from carte.lifecycle.services import TEMPLATE_TASK_FIELDS
from carte.organisations.access import api_actor
from carte.organisations.actor import Actor

router = Router()

# ---------------------------------------------------------------- task-list templates

TEMPLATES = "/orgs/{org}/task-templates"
TEMPLATE_TAG = "Task-list templates"


class TemplateTaskOut(Stamped):
    title: str
    due_after_days: int = Field(..., description="Days after the list is created.")
    position: int


class TaskTemplateOut(Schema):
    id: int = Field(..., description="The template artefact's id.")
    name: str
    owner_pmo: Named = Field(..., description="The Centre of Excellence that owns it.")
    tasks: list[TemplateTaskOut]

    @staticmethod
    def resolve_owner_pmo(obj: Artefact) -> dict[str, Any]:
        """The Centre of Excellence (selected with the template)."""
        pmo = obj.owner_pmo
        assert pmo is not None
        return {"id": pmo.pk, "name": pmo.name}

    @staticmethod
    def resolve_tasks(obj: Artefact) -> list[Any]:
        """Live lines in order (prefetched)."""
        return list(obj.template_tasks.all())


class TemplateTaskIn(Strict):
    title: str
    due_after_days: int = Field(0, ge=0, description="Days after the list is created.")
    position: int | None = Field(None, ge=0, description="Order in the template; last by default.")


def _template_task_data(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A null position means "last" on creation; the other fields are required."""
    if data.get("position", 0) is None:
        del data["position"]
    return no_nulls(data, TEMPLATE_TASK_FIELDS)


@router.get(
    TEMPLATES,
    response=list[TaskTemplateOut],
    tags=[TEMPLATE_TAG],
    summary="List the task-list templates with their lines",
    operation_id="lifecycle_task_templates_list",
)
def task_templates_list(request: HttpRequest, org: str) -> Any:
    """The live template artefacts of the Centres of Excellence, by name, each with its
    live lines in order."""
    actor = api_actor(request, org)
    return task_templates_with_lines(actor)


crud_routes(
    router,
    CrudSpec(
        path="tasks",
        tag=TEMPLATE_TAG,
        noun="line of a task-list template",
        plural="lines of a task-list template",
        out=TemplateTaskOut,
        create_in=TemplateTaskIn,
        parent=Parent(
            path="task-templates",
            fetch=lambda *, actor, pk: task_template(actor, pk),
            arg="template",
            param="template_id",
        ),
        list_selector=task_templates_with_lines,  # not offered: see verbs
        get_selector=lambda *, actor, template, pk, action=None: template_line_get(
            actor=actor, template=template, pk=pk
        ),
        create=services.template_task_create,
        update=services.template_task_update,
        archive=services.template_task_archive,
        restore=services.template_task_archive,  # not offered: see verbs
        obj_arg="item",
        resolve=_template_task_data,
        operation="lifecycle_template_tasks",
        child="template_task_id",
        parent_right=CHANGE,  # every line is the template's: changing it is the right
        verbs=frozenset({"create", "update", "archive"}),
    ),
)
