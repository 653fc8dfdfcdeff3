"""The job pages under `/o/<org>/jobs/`: the list of one's jobs, a job (its progress,
polled with htmx; without JavaScript the page refreshes itself while the work runs) and
its result's download. Each page receives the actor from `scoped` (the organisations
app's `org_view`): core knows no app."""

from __future__ import annotations

from typing import Any, cast

from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_GET

from carte.core.jobs import selectors
from carte.core.jobs.services import kind_of
from carte.core.models import Job
from carte.core.permissions import ActorLike
from carte.core.views import Scoped, is_htmx, page_size

# htmx stops polling when the answer has this status (its convention): the job is over.
STOP_POLLING = 286


def job_url(actor: ActorLike, job: Job) -> str:
    return reverse("job_detail", args=[actor.organisation.slug, job.pk])


def _state(actor: ActorLike, job: Job) -> dict[str, Any]:
    kind = kind_of(job)
    return {
        "job": job,
        "kind": kind,
        "job_url": job_url(actor, job),
        "result_url": reverse("job_result", args=[actor.organisation.slug, job.pk])
        if job.result_file
        else "",
        "report_template": kind.report_template if job.report else "",
    }


@require_GET
def job_list(request: HttpRequest, actor: ActorLike) -> HttpResponse:
    """The work this user started here, newest first."""
    page = Paginator(selectors.job_list(actor=actor), page_size(request)).get_page(
        request.GET.get("page")
    )
    rows = [(job, job_url(actor, job)) for job in page.object_list]
    return render(request, "core/job_list.html", {"page": page, "rows": rows})


def job_detail(request: HttpRequest, actor: ActorLike, pk: int) -> HttpResponse:
    """How the work goes; its result or its error once it is over. htmx polls the state
    part alone, and is told to stop once the job is over."""
    job = selectors.job_get(actor=actor, pk=pk)  # first: another's job is 404 whatever the verb
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    context = _state(actor, job)
    if is_htmx(request):
        status = STOP_POLLING if job.finished else 200
        return render(request, "core/_job_state.html", context, status=status)
    return render(request, "core/job_detail.html", context)


def job_result(request: HttpRequest, actor: ActorLike, pk: int) -> HttpResponse:
    """The file the work made, as a download (its report is on the job's page)."""
    job = selectors.job_get(actor=actor, pk=pk)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    if not job.result_file:
        raise Http404("This job has no file to download.")
    response = FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=job.result_name,
        content_type=job.result_type or "application/octet-stream",
    )
    # A streamed response, which the page wrapper's signature (HttpResponse) does not name.
    return cast(HttpResponse, response)


def job_urls(scoped: Scoped) -> list[Any]:
    """The job pages, each behind `scoped` (the request's actor in `/o/<org>/`)."""
    return [
        path("jobs/", scoped(job_list), name="job_list"),
        path("jobs/<id:pk>/", scoped(job_detail), name="job_detail"),
        path("jobs/<id:pk>/result/", scoped(job_result), name="job_result"),
    ]
