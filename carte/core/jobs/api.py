"""API of jobs (`/api/v1/orgs/{org}/jobs`): the caller's jobs, one job (status, progress,
result link) and its result; and `accepted`, the 202 answer of an endpoint that starts
long work, with what an import endpoint declares and reads (`import_responses`,
`wants_dry_run`). Another user's job, or another organisation's, is 404.

No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

import json
from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from ninja import Field, Router, Schema, Status

from carte.core.api import _actor, paged
from carte.core.errors import CONFLICT, NOT_FOUND, DomainError
from carte.core.jobs import selectors
from carte.core.models import Job, JobStatus

router = Router()

TAG = "Background jobs"
JOB = "/orgs/{org}/jobs/{int:id}"
PROBLEM_CONTENT = {"application/problem+json": {"schema": {"type": "object"}}}
_TRUE = {"true", "1", "yes", "on"}


class ProgressOut(Schema):
    """How far the work is."""

    done: int
    total: int = Field(..., description="0 while the total is not known.")
    percent: int | None = Field(..., description="0 to 100; null while the total is not known.")
    message: str


class ResultOut(Schema):
    """What the work left: a file, or (for an import) its report as JSON."""

    url: str = Field(..., description="GET it to download the result.")
    name: str
    content_type: str


class JobOut(Schema):
    """Long work started by the caller: where it is, and what it left."""

    id: int
    kind: str = Field(..., description="What the work is, e.g. `catalogue.import`.")
    label: str
    status: JobStatus
    status_label: str
    progress: ProgressOut
    started_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str = Field(..., description="Why it failed; empty otherwise.")
    report: dict[str, Any] | None = Field(
        ..., description="The work's report (an import's counts or problems), once over."
    )
    result: ResultOut | None
    url: str = Field(..., description="This job in the API.")
    page: str = Field(..., description="This job's page, for people.")

    @staticmethod
    def resolve_status_label(obj: Job) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_progress(obj: Job) -> dict[str, Any]:
        return {
            "done": obj.progress_done,
            "total": obj.progress_total,
            "percent": obj.percent,
            "message": obj.progress_message,
        }

    @staticmethod
    def resolve_url(obj: Job) -> str:
        return api_url(obj)

    @staticmethod
    def resolve_page(obj: Job) -> str:
        return reverse("job_detail", args=[obj.organisation.slug, obj.pk])

    @staticmethod
    def resolve_result(obj: Job) -> dict[str, str] | None:
        url = api_url(obj) + "/result"
        if obj.result_file:
            return {"url": url, "name": obj.result_name, "content_type": obj.result_type}
        if obj.finished and obj.report is not None:
            return {"url": url, "name": "report.json", "content_type": "application/json"}
        return None


def api_url(job: Job) -> str:
    """The job's address in the API."""
    return reverse("api:job_retrieve", kwargs={"org": job.organisation.slug, "id": job.pk})


def accepted(job: Job, response: HttpResponse) -> Status[Any]:
    """The answer of an endpoint that started long work: 202, the job, and its address
    in `Location` (declare `response={202: JobOut}` and take `response: HttpResponse`)."""
    response["Location"] = api_url(job)
    return Status(202, job)


ACCEPTED_DOC = {
    "description": "The work is queued: follow the job at `Location` (its `result` once "
    "it is done)."
}


def import_responses(problems: str) -> dict[str, Any]:
    """The `openapi_extra` of an endpoint that imports a file as a job: 202 and the job,
    413 for a file too large, 422 for the problems a dry run found (`problems` says how
    they are listed)."""
    return {
        "responses": {
            202: ACCEPTED_DOC,
            413: {"description": "The file is too large.", "content": PROBLEM_CONTENT},
            422: {"description": problems, "content": PROBLEM_CONTENT},
        }
    }


def wants_dry_run(request: HttpRequest, dry_run: bool) -> bool:
    """Whether an import asks for a dry run: `dry_run` in the query, or as a field of its
    multipart form (django-ninja reads only the query's)."""
    return dry_run or str(request.POST.get("dry_run", "")).lower() in _TRUE


@router.get(
    "/orgs/{org}/jobs",
    response=list[JobOut],
    tags=[TAG],
    summary="List the caller's jobs",
    operation_id="jobs_list",
)
@paged
def jobs_list(request: HttpRequest, org: str) -> Any:
    """The jobs the caller started in this organisation, newest first."""
    actor = _actor(request, org)
    return selectors.job_list(actor=actor)


@router.get(
    JOB,
    response=JobOut,
    tags=[TAG],
    summary="Retrieve a job",
    operation_id="jobs_retrieve",
    url_name="job_retrieve",
)
def jobs_retrieve(request: HttpRequest, org: str, id: int) -> Any:
    """Status, progress and, once over, the report or the link to the result."""
    actor = _actor(request, org)
    return selectors.job_get(actor=actor, pk=id)


@router.get(
    JOB + "/result",
    tags=[TAG],
    summary="Download a job's result",
    operation_id="jobs_result",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file the work made, of the type it says (a PDF, a "
                "workbook, an archive...), or, for work that makes no file, its report as JSON.",
                "content": {
                    "application/json": {"schema": {"type": "object"}},
                    "*/*": {"schema": {"type": "string", "format": "binary"}},
                },
            },
            404: {"description": "No such job of the caller's.", "content": PROBLEM_CONTENT},
            409: {"description": "The job is not over yet.", "content": PROBLEM_CONTENT},
        }
    },
)
def jobs_result(request: HttpRequest, org: str, id: int) -> HttpResponseBase:
    """The file the work made; for work that makes none (an import), its report."""
    actor = _actor(request, org)
    job = selectors.job_get(actor=actor, pk=id)
    if job.result_file:
        return FileResponse(
            job.result_file.open("rb"),
            as_attachment=True,
            filename=job.result_name,
            content_type=job.result_type or "application/octet-stream",
        )
    if not job.finished:
        raise DomainError(
            f"The job is not over: it is {job.get_status_display().lower()}.", code=CONFLICT
        )
    if job.report is None:
        raise DomainError("This job left no result.", code=NOT_FOUND)
    return HttpResponse(json.dumps(job.report), content_type="application/json")
