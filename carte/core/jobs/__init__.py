"""Long work in the background: the job a page and the API follow.

A job is started by an app's service (`job_start`: the row, then the task handed to the
Tasks backend), run by a worker through the app's task function (`run_job`: running, its
progress, then done with a result or failed with a reason), and read by the one who
started it (`selectors`), through the job page (`views`) and the API (`api`). The task
functions live with their apps (`catalogue/tasks.py`, `operations/tasks.py`), which
register each kind of job (`register_kind`) so the job page can show its report.
"""

from __future__ import annotations

from carte.core.jobs.services import (
    JobKind,
    Outcome,
    Progress,
    check_file_size,
    file_too_large,
    import_job_start,
    is_dry_run,
    job_fail,
    job_finish,
    job_progress,
    job_start,
    kind_of,
    register_kind,
    run_here,
    run_job,
    watching,
)

__all__ = [
    "JobKind",
    "Outcome",
    "Progress",
    "check_file_size",
    "file_too_large",
    "import_job_start",
    "is_dry_run",
    "job_fail",
    "job_finish",
    "job_progress",
    "job_start",
    "kind_of",
    "register_kind",
    "run_here",
    "run_job",
    "watching",
]
