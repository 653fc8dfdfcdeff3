"""Writing jobs: start one, then, as a worker runs it, claim it, record its progress and
end it (done with its result, or failed with the reason).

`job_start` writes the row and hands the app's task to the Tasks backend: in the same
transaction for the database backend (the task row commits with the job's, or neither
does), after the commit for a backend elsewhere (so a worker never looks for a job it
cannot see yet), and at once for the immediate backend (tests), which runs it there and
then. A task function is one line, `run_job(job_id, work)`: `work(job, progress)` does
the app's part and returns an `Outcome`.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend

from carte.core.errors import TOO_LARGE, DomainError
from carte.core.models import AuditAction, AuditEntry, Job, JobStatus
from carte.core.permissions import ActorLike
from carte.core.services import create_object

logger = logging.getLogger(__name__)

# Seconds between two progress writes of one job: the page polls every two seconds, and
# a write per row would slow the work it reports on.
PROGRESS_INTERVAL = 0.5
UNEXPECTED = (
    "The work stopped on an unexpected error, which has been logged for the "
    "administrators. Nothing it had started was kept."
)


@dataclass(frozen=True)
class JobKind:
    """A kind of job an app offers: its name for people, and the template that shows its
    report on the job page (it receives the report as `report`)."""

    code: str
    title: str
    report_template: str = ""


_KINDS: dict[str, JobKind] = {}


def register_kind(code: str, *, title: str, report_template: str = "") -> JobKind:
    """Declare a kind of job (an app does it once, in its `tasks` module)."""
    kind = JobKind(code, title, report_template)
    _KINDS[code] = kind
    return kind


def kind_of(job: Job) -> JobKind:
    """The job's kind, as registered (its label stands in for a kind no app declares)."""
    return _KINDS.get(job.kind) or JobKind(job.kind, job.label)


@dataclass(frozen=True)
class Outcome:
    """What work leaves for its user: a JSON report, a file, or both. With `error` the
    work refused (an import whose file has problems): the job fails with that reason and
    keeps the report that lists them."""

    report: dict[str, Any] | None = None
    content: bytes | IO[bytes] | None = None  # a file object is closed once it is kept
    filename: str = ""
    content_type: str = "application/octet-stream"
    error: str = ""


# ---------------------------------------------------------------- start


def job_start(
    *,
    actor: ActorLike,
    kind: JobKind,
    label: str,
    task: Task[..., Any],
    params: dict[str, Any] | None = None,
    upload: File[Any] | None = None,
    upload_name: str = "",
    background: bool = True,
) -> Job:
    """Record a job started by `actor` and hand `task(job_id=...)` to the Tasks backend.

    `upload` (a file the work reads, such as an import) is kept in the default storage
    until the job ends. The caller has checked that the actor may start this work. With
    `background=False` the job is only recorded, queued: the caller runs the task in its
    own process (`run_here`), as the command line does.
    """
    if _KINDS.get(kind.code) is not kind:
        raise ValueError(f"Register the job kind {kind.code!r} before starting one.")
    job = Job(
        user=actor.user,
        started_by=actor.label[:200],
        kind=kind.code,
        label=label[:200],
        params=params or {},
        token=secrets.token_hex(16),
        input_name=upload_name[:200],
    )
    job.organisation = actor.organisation  # the upload's folder is named after it
    backend = task.get_backend()
    with transaction.atomic():
        if upload is not None:
            job.input_file.save(upload_name or "upload", upload, save=False)
        create_object(actor, job)
        if background and isinstance(backend, DatabaseBackend):
            job.task_id = _enqueue(job.pk, task)
        elif background and not isinstance(backend, ImmediateBackend):
            transaction.on_commit(partial(_enqueue, job.pk, task))
    if background and isinstance(backend, ImmediateBackend):
        _enqueue(job.pk, task)
        job.refresh_from_db()
    return job


def run_here(job: Job, task: Task[..., Any]) -> Job:
    """Run a job recorded with `background=False` in this process (no worker needed),
    through the same task function; the job as it ended."""
    task.call(job_id=job.pk)
    job.refresh_from_db()
    return job


def _enqueue(job_pk: int, task: Task[..., Any]) -> str:
    """Hand the task to the backend; the backend's id for it, kept on the job."""
    task_id = str(task.enqueue(job_id=job_pk).id)[:64]
    Job.objects.filter(pk=job_pk).update(task_id=task_id)
    return task_id


# ---------------------------------------------------------------- imports
#
# An import is a job whose work reads a file the user sent: checked (a dry run) or
# written, all or nothing. What can be refused at once (the right, the size, the kind of
# file) is refused before the job, by the app's service.


def file_too_large(message: str) -> DomainError:
    """The refusal of a file over the size allowed: 413, on the `file` field."""
    return DomainError(message, code=TOO_LARGE, errors={"file": [message]})


def check_file_size(upload: File[Any], limit: int, message: str) -> None:
    """Refuse at once a file of more than `limit` bytes (a size not known yet is left to
    the work that reads it)."""
    if upload.size is not None and upload.size > limit:
        raise file_too_large(message)


def import_job_start(
    *,
    actor: ActorLike,
    kind: JobKind,
    task: Task[..., Any],
    upload: File[Any],
    name: str,
    what: str,
    dry_run: bool = False,
    background: bool = True,
) -> Job:
    """Start importing the file `upload` named `name`, or only checking it (`dry_run`,
    which the work reads with `is_dry_run`); `what` names the content in the job's label
    ("KPI values import: values.csv"). As `job_start`, the caller has checked the rest."""
    return job_start(
        actor=actor,
        kind=kind,
        label=f"{what} {'check (dry run)' if dry_run else 'import'}: {name}",
        task=task,
        params={"dry_run": dry_run},
        upload=upload,
        upload_name=name,
        background=background,
    )


def is_dry_run(job: Job) -> bool:
    """Whether an import job only checks its file (`import_job_start`)."""
    return bool(job.params.get("dry_run"))


# ---------------------------------------------------------------- run


Watcher = Callable[[Job], None]
_WATCHERS: ContextVar[tuple[Watcher, ...]] = ContextVar("job_watchers", default=())


@contextmanager
def watching(watcher: Watcher) -> Iterator[None]:
    """Call `watcher(job)` at every progress step of the jobs run inside the block, in
    this process (the command line draws its progress bar with it)."""
    token = _WATCHERS.set((*_WATCHERS.get(), watcher))
    try:
        yield
    finally:
        _WATCHERS.reset(token)


class Progress:
    """How work says how far it is: `progress(done, total, message)`.

    Watchers in this process hear every step; the job row is written at most every
    PROGRESS_INTERVAL seconds, and whenever the message changes or the work reaches its
    total. A total of 0 means "not known yet" (the page shows a moving bar).
    """

    def __init__(self, job: Job) -> None:
        self.job = job
        self._written_at = 0.0

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        job = self.job
        new_message = message is not None and message[:200] != job.progress_message
        job.progress_total = max(0, total if total is not None else job.progress_total)
        job.progress_done = max(0, done)
        if job.progress_total:
            job.progress_done = min(job.progress_done, job.progress_total)
        if message is not None:
            job.progress_message = message[:200]
        for watcher in _WATCHERS.get():
            watcher(job)
        now = time.monotonic()
        at_end = bool(job.progress_total) and job.progress_done == job.progress_total
        if new_message or at_end or now - self._written_at >= PROGRESS_INTERVAL:
            self._written_at = now
            job_progress(job=job)


def job_progress(*, job: Job) -> None:
    """Record how far a running job is (no audit entry: it is bookkeeping, overwritten as
    the work goes on). Through `Progress`, which decides how often."""
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        progress_done=job.progress_done,
        progress_total=job.progress_total,
        progress_message=job.progress_message,
        updated_at=timezone.now(),
    )


def job_claim(job_id: int) -> Job | None:
    """Mark a queued job running; None when it is not queued (a backend that hands a task
    out twice gets it run once: the update is conditional)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, updated_at=now
    )
    if not claimed:
        return None
    return Job.objects.select_related("organisation", "user").get(pk=job_id)


def run_job(job_id: int, work: Callable[[Job, Progress], Outcome]) -> None:
    """What a task function does: claim the job, run `work(job, progress)`, then keep its
    outcome. A refusal (`DomainError`) fails the job with its message; an unexpected
    error fails it with a general one and is raised again, for the worker's log."""
    job = job_claim(job_id)
    if job is None:
        logger.warning("Job %s is not queued: it is not run again.", job_id)
        return
    try:
        outcome = work(job, Progress(job))
    except DomainError as exc:
        job_fail(job=job, error=exc.message)
        return
    except Exception:
        job_fail(job=job, error=UNEXPECTED)
        raise
    job_finish(job=job, outcome=outcome)


# ---------------------------------------------------------------- end


def job_finish(*, job: Job, outcome: Outcome) -> Job:
    """Keep the outcome for the one who started the job: done, or failed when the outcome
    carries an error (its report kept all the same)."""
    if outcome.content is not None:
        name = outcome.filename or "result"
        content: File[Any] = (
            ContentFile(outcome.content)
            if isinstance(outcome.content, bytes)
            else File(outcome.content)
        )
        job.result_file.save(name, content, save=False)
        if not isinstance(outcome.content, bytes):
            outcome.content.close()
        job.result_name = name[:200]
        job.result_type = outcome.content_type[:100]
    job.report = outcome.report
    status = JobStatus.FAILED if outcome.error else JobStatus.DONE
    return _end(job, status, outcome.error)


def job_fail(*, job: Job, error: str) -> Job:
    """End a job that could not do its work, saying why."""
    return _end(job, JobStatus.FAILED, error or UNEXPECTED)


def _end(job: Job, status: JobStatus, error: str) -> Job:
    before = JobStatus(job.status).label
    now = timezone.now()
    job.status = status
    job.error = error
    job.started_at = job.started_at or now
    job.finished_at = now
    if status == JobStatus.DONE and job.progress_total:
        job.progress_done = job.progress_total
    if job.input_file:
        job.input_file.delete(save=False)  # the upload has served its purpose
    changes: dict[str, dict[str, Any]] = {"status": {"before": before, "after": status.label}}
    if error:
        changes["error"] = {"before": None, "after": error}
    with transaction.atomic():
        job.save(
            update_fields=[
                "status",
                "error",
                "report",
                "result_file",
                "result_name",
                "result_type",
                "input_file",
                "progress_done",
                "started_at",
                "finished_at",
                "updated_at",
            ]
        )
        # Recorded as its starter's: the work was done on their behalf.
        AuditEntry.objects.create(
            organisation_id=job.organisation_id,
            at=now,
            actor_id=job.user_id,
            actor_label=job.started_by,
            action=AuditAction.UPDATE,
            content_type=ContentType.objects.get_for_model(Job),
            object_id=job.pk,
            object_repr=str(job)[:300],
            changes=changes,
        )
    return job
