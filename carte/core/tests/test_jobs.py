"""Background jobs (`core.jobs`): started, run, followed and read by their starter only.

A probe task stands in for an app's work (core knows no app). Tests run tasks with the
immediate backend (`carte/conftest.py`); the database backend, the default, is tested
with its own worker, and another backend gets the task after the commit.
"""

from __future__ import annotations

import sys
import time
from typing import Any, cast

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django_tasks import task, task_backends
from django_tasks.backends.dummy import DummyBackend
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from carte.core.errors import DomainError
from carte.core.jobs import (
    Outcome,
    Progress,
    job_start,
    register_kind,
    run_here,
    run_job,
    services,
    watching,
)
from carte.core.jobs.worker import Supervisor, worker_commands
from carte.core.models import AuditEntry, Job, JobStatus
from carte.core.testing import PROBLEM_JSON, assert_constant_queries, assert_problem

PROBE = register_kind("tests.probe", title="A probe of background work")
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@task()
def probe(job_id: int) -> None:
    run_job(job_id, _probe)


def _probe(job: Job, progress: Progress) -> Outcome:
    mode = job.params.get("mode", "")
    for step in range(3):
        progress(step, 3, f"Step {step + 1} of 3")
    if mode == "refuse":
        raise DomainError("The probe was refused.")
    if mode == "crash":
        raise RuntimeError("a bug")
    if mode == "problems":
        return Outcome(report={"problems": ["row 2: wrong"]}, error="1 problem: nothing kept.")
    return Outcome(
        report={"steps": 3},
        content=b"probe result",
        filename="probe.txt",
        content_type="text/plain",
    )


def start(who: Any, mode: str = "", **kw: Any) -> Job:
    return job_start(
        actor=who.actor, kind=PROBE, label="Probe", task=probe, params={"mode": mode}, **kw
    )


def page(job: Job, tail: str = "") -> str:
    return f"/o/{job.organisation.slug}/jobs/{job.pk}/{tail}"


def api(job: Job, tail: str = "") -> str:
    return f"/api/v1/orgs/{job.organisation.slug}/jobs/{job.pk}{tail}"


def audit_of(job: Job) -> list[tuple[str, dict[str, Any]]]:
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Job), object_id=job.pk
    ).order_by("id")
    return [(e.action, e.changes) for e in entries]


# ---------------------------------------------------------------- services


def test_it_runs_a_job_and_keeps_its_result_for_its_starter(director: Any) -> None:
    job = start(director)
    assert job.status == JobStatus.DONE and job.user == director.user
    assert job.started_by == director.user.email and job.label == "Probe"
    assert (job.progress_done, job.progress_total, job.percent) == (3, 3, 100)
    assert job.report == {"steps": 3} and job.error == ""
    assert job.result_name == "probe.txt" and job.result_type == "text/plain"
    with job.result_file.open("rb") as handle:
        assert handle.read() == b"probe result"
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    assert job.task_id  # the backend's id, to find the task in its own records
    (created, created_changes), (ended, ended_changes) = audit_of(job)
    assert created == "create" and created_changes["kind"]["after"] == "tests.probe"
    assert ended == "update"
    assert ended_changes == {"status": {"before": "Running", "after": "Done"}}


def test_progress_is_written_at_most_so_often_and_heard_at_every_step(
    director: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = start(director, background=False)
    running = services.job_claim(job.pk)
    assert running is not None and running.status == JobStatus.RUNNING
    heard: list[tuple[int, int, str]] = []
    progress = Progress(running)
    stored = Job.objects.filter(pk=job.pk).values_list(
        "progress_done", "progress_total", "progress_message"
    )
    with watching(lambda j: heard.append((j.progress_done, j.progress_total, j.progress_message))):
        progress(5, 10, "Halfway")
        assert stored.get() == (5, 10, "Halfway")
        progress(6, 10)  # too soon after the last write: heard, not written
        assert stored.get() == (5, 10, "Halfway")
        monkeypatch.setattr(services, "PROGRESS_INTERVAL", 0)
        progress(7, 10)
        assert stored.get() == (7, 10, "Halfway")
        monkeypatch.setattr(services, "PROGRESS_INTERVAL", 3600)
        progress(12, 10, "Nearly")  # a new message is written; past the total is the total
        assert stored.get() == (10, 10, "Nearly")
    assert heard == [(5, 10, "Halfway"), (6, 10, "Halfway"), (7, 10, "Halfway"), (10, 10, "Nearly")]


def test_a_refusal_fails_the_job_with_its_reason_and_drops_the_upload(director: Any) -> None:
    from django.core.files.base import ContentFile

    job = start(director, "refuse", upload=ContentFile(b"rows"), upload_name="rows.csv")
    assert job.status == JobStatus.FAILED and job.error == "The probe was refused."
    assert not job.result_file and not job.input_file and job.input_name == "rows.csv"
    assert audit_of(job)[-1][1] == {
        "status": {"before": "Running", "after": "Failed"},
        "error": {"before": None, "after": "The probe was refused."},
    }


def test_an_outcome_with_an_error_fails_the_job_and_keeps_its_report(director: Any) -> None:
    job = start(director, "problems")
    assert job.status == JobStatus.FAILED and job.error == "1 problem: nothing kept."
    assert job.report == {"problems": ["row 2: wrong"]}


def test_an_unexpected_error_fails_the_job_and_reaches_the_worker(director: Any) -> None:
    job = start(director, "crash")  # the immediate backend keeps the error on its result
    assert job.status == JobStatus.FAILED and job.error == services.UNEXPECTED
    recorded = start(director, "crash", background=False)
    with pytest.raises(RuntimeError, match="a bug"):
        run_here(recorded, probe)  # the command line's way: the error goes on up
    recorded.refresh_from_db()
    assert recorded.status == JobStatus.FAILED


def test_a_job_runs_once(director: Any) -> None:
    job = start(director)
    finished_at = job.finished_at
    assert services.job_claim(job.pk) is None
    probe.call(job_id=job.pk)  # a backend that hands the task out again
    job.refresh_from_db()
    assert job.finished_at == finished_at and len(audit_of(job)) == 2


def test_only_a_declared_kind_of_job_starts(director: Any) -> None:
    from carte.core.jobs import JobKind

    with pytest.raises(ValueError, match="Register"):
        job_start(actor=director.actor, kind=JobKind("nobody.knows", "?"), label="x", task=probe)


def test_the_database_backend_queues_the_task_with_the_job_and_its_worker_runs_it(
    director: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.TASKS = DATABASE
    # The worker drops stale connections between tasks: on PostgreSQL that would end the
    # test's own transaction.
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    with pytest.raises(RuntimeError), transaction.atomic():
        start(director)
        raise RuntimeError("the request failed after starting the job")
    assert not Job.objects.exists() and not DBTaskResult.objects.exists()  # neither kept

    job = start(director)
    assert job.status == JobStatus.QUEUED
    queued = DBTaskResult.objects.get()
    assert str(queued.id) == job.task_id and queued.args_kwargs["kwargs"] == {"job_id": job.pk}
    db_worker.Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test",
        excluded_queue_names=[],
    ).run()
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.report == {"steps": 3}
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_backend_elsewhere_gets_the_task_once_the_job_is_committed(
    director: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = DUMMY
    backend = cast(DummyBackend, task_backends["default"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        job = start(director)
        assert backend.results == []
    assert len(callbacks) == 1
    (result,) = backend.results
    assert result.kwargs == {"job_id": job.pk}
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED and job.task_id == result.id


# ---------------------------------------------------------------- pages


def test_the_page_shows_a_finished_job_its_download_and_stops_htmx_polling(
    director: Any,
) -> None:
    job = start(director)
    html = director.client.get(page(job)).content.decode()
    assert '<h1 class="page-title">Probe</h1>' in html
    assert 'data-testid="job-status">Done<' in html
    assert f'href="{page(job, "result/")}"' in html and "Download probe.txt" in html
    assert "hx-trigger" not in html and 'http-equiv="refresh"' not in html
    partial = director.client.get(page(job), headers={"HX-Request": "true"})
    assert partial.status_code == 286  # htmx's "stop polling"
    assert "<html" not in partial.content.decode()
    download = director.client.get(page(job, "result/"))
    assert download["Content-Type"] == "text/plain"
    assert 'filename="probe.txt"' in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == b"probe result"


def test_the_page_follows_a_running_job_with_htmx_or_without_javascript(
    director: Any,
) -> None:
    job = start(director, background=False)
    html = director.client.get(page(job)).content.decode()
    assert 'data-testid="job-status">Queued<' in html
    assert "Waiting for a worker" in html
    assert 'aria-live="polite"' in html and 'hx-trigger="every 2s"' in html
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert "<script>" not in html  # no inline script: the CSP allows 'self' only
    running = services.job_claim(job.pk)
    assert running is not None
    Progress(running)(1200, 5000, "Writing 5,000 rows")
    partial = director.client.get(page(job), headers={"HX-Request": "true"})
    assert partial.status_code == 200
    text = partial.content.decode()
    assert '<progress id="job-progress" class="w-100" max="5000" value="1200">' in text
    assert "Writing 5,000 rows" in text and "1,200 of 5,000 (24%)" in text
    assert director.client.get(page(job, "result/")).status_code == 404  # nothing yet


def test_the_page_shows_why_a_job_failed(director: Any) -> None:
    job = start(director, "refuse")
    html = director.client.get(page(job)).content.decode()
    assert 'data-testid="job-error"' in html and "The probe was refused." in html
    assert "Download" not in html


def test_a_job_is_its_starters_alone(director: Any, persona: Any, outsider: Any) -> None:
    job = start(director)
    colleague = persona("director", "admin")  # every right in the organisation, but not its
    for who, org in ((colleague, "acme"), (outsider, "acme"), (outsider, "globex")):
        for path in (f"/o/{org}/jobs/{job.pk}/", f"/o/{org}/jobs/{job.pk}/result/"):
            assert who.client.get(path).status_code == 404, (who.user, path)
        for path in (
            f"/api/v1/orgs/{org}/jobs/{job.pk}",
            f"/api/v1/orgs/{org}/jobs/{job.pk}/result",
        ):
            assert_problem(who.api.get(path), 404)
        listed = who.client.get(f"/o/{who.organisation.slug}/jobs/").content.decode()
        assert page(job) not in listed and "Nothing yet" in listed
    assert director.client.get(f"/o/globex/jobs/{job.pk}/").status_code == 404


def test_the_list_shows_ones_own_jobs_in_as_many_queries_whatever_their_number(
    director: Any, staff: Any
) -> None:
    mine = start(director)
    theirs = start(staff)
    html = director.client.get("/o/acme/jobs/").content.decode()
    assert f'href="{page(mine)}"' in html and f'href="{page(theirs)}"' not in html
    assert "1 job" in html

    def grow() -> None:
        for _ in range(10):
            start(director, background=False)

    assert_constant_queries(lambda: director.client.get("/o/acme/jobs/"), grow)
    assert_constant_queries(lambda: director.api.get("/api/v1/orgs/acme/jobs"), grow)


def test_the_job_page_reads_in_as_many_queries_whatever_the_report(director: Any) -> None:
    job = start(director)

    def grow() -> None:
        Job.objects.filter(pk=job.pk).update(report={f"row {i}": "x" * 50 for i in range(2000)})
        for _ in range(5):
            start(director)

    small, _ = assert_constant_queries(lambda: director.client.get(page(job)), grow)
    assert small <= 6  # the session, the actor, the job: a handful, however large


# ---------------------------------------------------------------- API


def test_the_api_shows_the_job_and_its_result(director: Any) -> None:
    job = start(director)
    body = director.api.get(api(job)).json()
    assert body["kind"] == "tests.probe" and body["label"] == "Probe"
    assert (body["status"], body["status_label"]) == ("done", "Done")
    assert body["progress"] == {"done": 3, "total": 3, "percent": 100, "message": "Step 3 of 3"}
    assert body["url"] == api(job) and body["page"] == page(job)
    assert body["result"] == {
        "url": api(job, "/result"),
        "name": "probe.txt",
        "content_type": "text/plain",
    }
    download = director.api.get(api(job, "/result"))
    assert b"".join(download.streaming_content) == b"probe result"
    listed = director.api.get("/api/v1/orgs/acme/jobs").json()
    assert [j["id"] for j in listed["items"]] == [job.pk]


def test_the_api_says_when_a_result_is_not_there_yet(director: Any) -> None:
    job = start(director, background=False)
    body = director.api.get(api(job)).json()
    assert body["status"] == "queued" and body["result"] is None
    assert body["progress"]["percent"] is None
    response = director.api.get(api(job, "/result"))
    assert response["Content-Type"] == PROBLEM_JSON
    assert_problem(response, 409, detail="not over")
    failed = start(director, "refuse")
    assert_problem(director.api.get(api(failed, "/result")), 404, detail="no result")


# ---------------------------------------------------------------- the worker


def test_carte_run_has_a_worker_only_with_the_database_backend(settings: Any) -> None:
    assert worker_commands(1) == []  # the immediate backend (tests) needs none
    settings.TASKS = DATABASE
    (command,) = worker_commands(1)
    assert command[:2] == [sys.executable, "-m"] and "db_worker" in command
    assert "--no-reload" in command and len(worker_commands(2)) == 2
    assert worker_commands(0) == []


def test_the_worker_stops_with_the_server() -> None:
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    supervisor = Supervisor([sys.executable, "-c", "import sys; sys.exit(3)"], [sleeper], 0.05)
    began = time.monotonic()
    assert supervisor.run() == 3
    assert time.monotonic() - began < 30
    (worker,) = supervisor.workers
    assert worker.returncode == -15  # asked to stop (SIGTERM), not left behind
