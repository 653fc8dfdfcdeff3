"""The catalogue's long work as background jobs (`catalogue.tasks`): the PDF and the
import, started from the page and the API, their progress, their result for their
starter only, and a job whose starter has left."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carte.catalogue import tasks
from carte.catalogue.models import Service
from carte.catalogue.tests.test_transfer import build_catalogue
from carte.catalogue.transfer.export import export_bytes
from carte.conftest import make_persona
from carte.core.jobs import run_here, watching
from carte.core.models import Job, JobStatus
from carte.core.testing import assert_problem, no_writes_but_jobs
from carte.organisations import services as org_services
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Membership, Organisation


@pytest.fixture
def acme(org: Organisation) -> Actor:
    return build_catalogue(org)


def renamed_file(acme: Actor, name: str = "Renamed in the background") -> SimpleUploadedFile:
    doc = json.loads(export_bytes(acme, "json"))
    for row in doc["tables"]["services"]:
        if row["code"] == "GOV-1":
            row["name"] = name
    return SimpleUploadedFile("catalogue.json", json.dumps(doc).encode())


def gov(org: Organisation) -> Service:
    return Service.objects.get(organisation=org, code="GOV-1")


def test_the_api_draws_the_pdf_in_the_background_for_its_caller_only(
    org: Organisation, acme: Actor, customer: Any, director: Any, outsider: Any
) -> None:
    pytest.importorskip("weasyprint")
    response = customer.api.post(f"/api/v1/orgs/{org.slug}/catalogue/document/pdf")
    assert response.status_code == 202, response.content
    body = response.json()
    assert response["Location"] == body["url"] and body["kind"] == "catalogue.pdf"
    assert body["status"] == "done" and body["label"] == "The catalogue as PDF"
    assert body["result"]["name"] == "acme-service-catalogue.pdf"
    download = customer.api.get(body["result"]["url"])
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content).startswith(b"%PDF-")
    # Nobody else gets it: not the Director, not another organisation's admin.
    assert_problem(director.api.get(body["result"]["url"]), 404)
    assert director.client.get(body["page"]).status_code == 404
    assert_problem(outsider.api.get(body["url"]), 404)
    assert_problem(outsider.api.post(f"/api/v1/orgs/{org.slug}/catalogue/document/pdf"), 404)


def test_an_import_reports_its_progress_as_it_goes(
    org: Organisation, acme: Actor, director: Any
) -> None:
    heard: list[tuple[int, int, str]] = []
    with watching(lambda j: heard.append((j.progress_done, j.progress_total, j.progress_message))):
        response = director.client.post(
            f"/o/{org.slug}/catalogue/transfer/import/", {"file": renamed_file(acme)}
        )
    assert response.status_code == 302
    assert heard[0] == (0, 0, "Reading the file")
    writing = [h for h in heard if h[2].startswith("Writing")]
    total = writing[0][1]
    assert total > 0 and writing[0][0] == 0 and writing[-1] == (total, total, writing[-1][2])
    assert [h[0] for h in writing] == sorted(h[0] for h in writing)  # only ever forward
    job = Job.objects.get()
    assert (job.progress_done, job.progress_total) == (total, total)
    assert job.status == JobStatus.DONE and gov(org).name == "Renamed in the background"


def test_a_job_whose_starter_has_left_fails_and_writes_nothing(
    org: Organisation, acme: Actor, director: Any, admin: Any
) -> None:
    job = tasks.import_start(
        actor=director.actor, upload=renamed_file(acme), name="catalogue.json", background=False
    )
    # Another director stays: the organisation must keep one.
    make_persona(org, [OrgRole.DIRECTOR], "second.director@acme.example")
    membership = Membership.objects.get(organisation=org, user=director.user)
    org_services.membership_archive(actor=admin.actor, membership=membership)
    with no_writes_but_jobs(gov(org)):
        job = run_here(job, tasks.catalogue_import)
    assert job.status == JobStatus.FAILED
    assert job.error == "You are no longer a member of this organisation."


def test_who_may_not_import_starts_no_job(org: Organisation, acme: Actor, staff: Any) -> None:
    response = staff.api.client.post(
        f"/api/v1/orgs/{org.slug}/catalogue/import",
        {"file": renamed_file(acme)},
        headers=staff.api.headers,
    )
    assert_problem(response, 403)
    assert not Job.objects.exists()
