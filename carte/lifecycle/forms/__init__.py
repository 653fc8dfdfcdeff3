"""Forms of the lifecycle pages: one per move's payload and one per step. They validate
their own fields and render; `carte.lifecycle.services` checks the rest and writes.

They are `core.forms.CarteForm`s that know the service as well (`LifecycleForm`). Each
knows how the service names its fields (`field_for`), so a refusal such as `results.2` or
`phases.1.ends_on` is shown next to the field the person filled in.

One module per part of the lifecycle: `base` (what they all share), `setup` (the set-up
decision, design and success criteria), `tasks` (task lists and templates), `pilots`
(pilots and sign-off), `transition` (readiness, the plan and the go-live) and `closure`.
"""

from __future__ import annotations

from carte.lifecycle.forms.base import (
    MAX_ATTACHMENT_BYTES,
    AttachmentMixin,
    LifecycleForm,
    MoveForm,
    NoteForm,
    ReasonMoveForm,
    today,
)
from carte.lifecycle.forms.closure import (
    ApprovalForm,
    ArtefactDecisionForm,
    ClosureForm,
    StartFromForm,
)
from carte.lifecycle.forms.pilots import PilotForm, PilotResultForm, SignOffForm, WaiverForm
from carte.lifecycle.forms.setup import CriterionForm, DecisionForm, DesignForm
from carte.lifecycle.forms.tasks import TaskForm, TaskListForm, TemplateTaskForm
from carte.lifecycle.forms.transition import (
    GoLiveForm,
    PhaseForm,
    PhaseFormSet,
    PlanForm,
    PlanPhaseForm,
    ReadinessForm,
    SupportingServiceForm,
)

# A move's payload (machine.Move.payload) -> the form that takes it.
MOVE_FORMS: dict[str, type[MoveForm]] = {
    "decision": DecisionForm,
    "reason": ReasonMoveForm,
    "note": SignOffForm,
    "design": DesignForm,
    "pilot": PilotForm,
    "plan": PlanForm,
    "go_live": GoLiveForm,
    "closure": ClosureForm,
    "approval": ApprovalForm,
}

__all__ = [
    "MAX_ATTACHMENT_BYTES",
    "MOVE_FORMS",
    "ApprovalForm",
    "ArtefactDecisionForm",
    "AttachmentMixin",
    "ClosureForm",
    "CriterionForm",
    "DecisionForm",
    "DesignForm",
    "GoLiveForm",
    "LifecycleForm",
    "MoveForm",
    "NoteForm",
    "PhaseForm",
    "PhaseFormSet",
    "PilotForm",
    "PilotResultForm",
    "PlanForm",
    "PlanPhaseForm",
    "ReadinessForm",
    "ReasonMoveForm",
    "SignOffForm",
    "StartFromForm",
    "SupportingServiceForm",
    "TaskForm",
    "TaskListForm",
    "TemplateTaskForm",
    "WaiverForm",
    "today",
]
