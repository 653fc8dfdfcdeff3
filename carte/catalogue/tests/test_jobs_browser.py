"""A real browser on a job's page: the Director watches a queued catalogue import, which
a worker then runs; the page follows it by itself (htmx polling, under the strict CSP)
to its report, at phone width. No console error on the way."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from carte.catalogue import tasks
from carte.catalogue.tests.test_transfer import build_catalogue
from carte.catalogue.transfer.export import export_bytes
from carte.conftest import log_in, screenshot, watch
from carte.core.jobs import run_here
from carte.core.models import Job

pytestmark = pytest.mark.browser


@pytest.fixture
def queued(transactional_db: None, org: Any, director: Any) -> tuple[Any, Job]:
    """An import the Director started, still waiting for a worker (made before the
    browser starts)."""
    actor = build_catalogue(org)
    doc = json.loads(export_bytes(actor, "json"))
    doc["tables"]["services"][0]["name"] = "Renamed by the worker"
    upload = SimpleUploadedFile("catalogue.json", json.dumps(doc).encode())
    job = tasks.import_start(
        actor=director.actor, upload=upload, name="catalogue.json", background=False
    )
    return director, job


def test_the_job_page_follows_the_work_to_its_report(
    queued: tuple[Any, Job], page: Any, live_server: Any
) -> None:
    from playwright.sync_api import expect

    director, job = queued
    problems = watch(page)
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(page, director.user.email)

    page.goto(f"/o/acme/jobs/{job.pk}/")
    expect(page.get_by_test_id("job-status")).to_have_text("Queued")
    expect(page.get_by_text("Waiting for a worker to start it")).to_be_visible()
    screenshot(page, "job-queued-phone.png")

    run_here(job, tasks.catalogue_import)  # a worker takes it

    expect(page.get_by_test_id("job-status")).to_have_text("Done", timeout=15_000)
    report = page.get_by_test_id("report")
    expect(report).to_contain_text("Imported")
    expect(report).to_contain_text("GOV-1")
    screenshot(page, "job-done-phone.png")
    box = page.get_by_test_id("job-state").bounding_box()
    assert box is not None and box["x"] + box["width"] <= 375, box  # fits a phone's width
    assert problems == []
