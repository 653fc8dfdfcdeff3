"""Reads of the service lifecycle: everything a service's Lifecycle panel shows, and the
board of all services by stage. Each takes the actor, and each runs a fixed number of
queries whatever the number of services, events, tasks or criteria. Pages, the API, the
CLI and the forms come here, as `from carte.lifecycle import selectors;
selectors.lifecycle_state(...)`.

One module per part: `panel` (one service's Lifecycle panel and timeline), `records` (the
querysets of a service's records, and one record fetched to act on), `board`, `templates`
(task-list templates) and `form_data` (what the forms start from and offer). The service
itself is the catalogue's `service_for`.
"""

from __future__ import annotations

from carte.lifecycle.selectors.board import (
    BOARD_STAGES,
    COLUMN_LIMIT,
    SINGLE_COLUMN_LIMIT,
    Board,
    BoardColumn,
    board,
    board_options,
)
from carte.lifecycle.selectors.form_data import (
    PilotResults,
    appointable,
    decision_initial,
    pilot_results,
    pmo_services,
    task_list_purposes,
    unmet_results,
)
from carte.lifecycle.selectors.panel import (
    EVENTS_PER_PAGE,
    MAIN_PATH,
    LifecycleState,
    PilotView,
    Rights,
    TaskListView,
    Timeline,
    age_label,
    events_of,
    lifecycle_state,
    pilots_of,
    rights,
    task_lists_of,
    timeline,
)
from carte.lifecycle.selectors.records import (
    artefact_decision_get,
    criteria_of,
    criterion_get,
    criterion_result_get,
    criterion_rows,
    current_result,
    phase_get,
    pilot_get,
    pilot_rows,
    readiness_get,
    readiness_rows,
    task_get,
    task_list_get,
    task_list_rows,
    task_rows,
)
from carte.lifecycle.selectors.templates import (
    TASK_TEMPLATE,
    is_task_template,
    task_template,
    task_templates,
    task_templates_with_lines,
    template_line_get,
)

__all__ = [
    "BOARD_STAGES",
    "COLUMN_LIMIT",
    "EVENTS_PER_PAGE",
    "MAIN_PATH",
    "SINGLE_COLUMN_LIMIT",
    "TASK_TEMPLATE",
    "Board",
    "BoardColumn",
    "LifecycleState",
    "PilotResults",
    "PilotView",
    "Rights",
    "TaskListView",
    "Timeline",
    "age_label",
    "appointable",
    "artefact_decision_get",
    "board",
    "board_options",
    "criteria_of",
    "criterion_get",
    "criterion_result_get",
    "criterion_rows",
    "current_result",
    "decision_initial",
    "events_of",
    "is_task_template",
    "lifecycle_state",
    "phase_get",
    "pilot_get",
    "pilot_results",
    "pilot_rows",
    "pilots_of",
    "pmo_services",
    "readiness_get",
    "readiness_rows",
    "rights",
    "task_get",
    "task_list_get",
    "task_list_purposes",
    "task_list_rows",
    "task_lists_of",
    "task_rows",
    "task_template",
    "task_templates",
    "task_templates_with_lines",
    "template_line_get",
    "timeline",
    "unmet_results",
]
