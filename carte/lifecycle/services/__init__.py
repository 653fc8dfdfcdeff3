"""Every write of the service lifecycle: the stage moves, and the steps recorded between
them. Pages, the API, the CLI and the demo loader all come here, as
`from carte.lifecycle import services; services.transition(...)`.

One module per part: `transitions` (`transition()`, the one way a stage changes, through
`core.workflow.apply_move`) and `moves` (what each move writes); the steps between moves:
`criteria`, `tasks` (task lists and their templates), `pilots` (results, waivers,
sign-off), `readiness`, `plan` (phases, supporting services), `closure` (artefact
decisions, reuse) and `notes`; `base` holds what they share (the timeline's events, the
row lock).
"""

from __future__ import annotations

# The clock of lifecycle records: callers say `services.as_of(...)`.
from carte.core.clock import as_of, now, today
from carte.lifecycle.services.base import Attachment
from carte.lifecycle.services.closure import (
    artefact_decide,
    due_for_closure,
    kept_artefacts,
    service_start_from,
)
from carte.lifecycle.services.criteria import criterion_archive, criterion_create, criterion_update
from carte.lifecycle.services.notes import note_add
from carte.lifecycle.services.pilots import (
    CriterionOutcome,
    criterion_waive,
    pilot_confirm,
    pilot_result_record,
    sign_off,
)
from carte.lifecycle.services.plan import phase_update, supporting_service_create
from carte.lifecycle.services.readiness import ReadinessItem, readiness_record
from carte.lifecycle.services.tasks import (
    TASK_FIELDS,
    TEMPLATE_TASK_FIELDS,
    task_archive,
    task_create,
    task_list_create,
    task_update,
    template_task_archive,
    template_task_create,
    template_task_update,
)
from carte.lifecycle.services.transitions import transition

__all__ = [
    "TASK_FIELDS",
    "TEMPLATE_TASK_FIELDS",
    "Attachment",
    "CriterionOutcome",
    "ReadinessItem",
    "artefact_decide",
    "as_of",
    "criterion_archive",
    "criterion_create",
    "criterion_update",
    "criterion_waive",
    "due_for_closure",
    "kept_artefacts",
    "note_add",
    "now",
    "phase_update",
    "pilot_confirm",
    "pilot_result_record",
    "readiness_record",
    "service_start_from",
    "sign_off",
    "supporting_service_create",
    "task_archive",
    "task_create",
    "task_list_create",
    "task_update",
    "template_task_archive",
    "template_task_create",
    "template_task_update",
    "today",
    "transition",
]
