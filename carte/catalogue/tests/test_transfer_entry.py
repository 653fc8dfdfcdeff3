"""The export/import entry points: the transfer page (downloads, dry runs, problems,
imports in the background, plain and htmx posts) and the API (`/catalogue/export`,
`/catalogue/import`: a dry run answers, an import is a job), with who may do what, the
size limit and tenancy."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse

from carte.catalogue.models import Service
from carte.catalogue.tests.test_transfer import build_catalogue, directory
from carte.catalogue.transfer import importer
from carte.catalogue.transfer.export import CONTENT_TYPES, EXTENSIONS, FORMATS, export_bytes
from carte.catalogue.transfer.importer import import_catalogue
from carte.core.models import Job, JobStatus
from carte.core.testing import assert_problem, no_writes, no_writes_but_jobs
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation
from carte.organisations.tests.factories import OrganisationFactory

CODES = ["GOV-1", "REP-1", "REP-2"]


@pytest.fixture
def acme(org: Organisation) -> Actor:
    """The organisation under test, with a catalogue of three services."""
    return build_catalogue(org)


def page(org: Organisation, name: str = "") -> str:
    base = f"/o/{org.slug}/catalogue/transfer/"
    return base + name


def api(org: Organisation | str, name: str) -> str:
    slug = org if isinstance(org, str) else org.slug
    return f"/api/v1/orgs/{slug}/catalogue/{name}"


def body(response: Any) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    content: bytes = response.content
    return content


def document(acme: Actor) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(export_bytes(acme, "json"))
    return doc


def upload(doc: dict[str, Any], name: str = "catalogue.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, json.dumps(doc).encode(), content_type="application/json")


def renamed(acme: Actor, name: str = "Assurance reviews, renamed") -> dict[str, Any]:
    """The exported catalogue with GOV-1 renamed."""
    doc = document(acme)
    for row in doc["tables"]["services"]:
        if row["code"] == "GOV-1":
            row["name"] = name
    return doc


def broken(acme: Actor) -> dict[str, Any]:
    """The exported catalogue with GOV-1 (first row) in a category that does not exist."""
    doc = renamed(acme)
    assert doc["tables"]["services"][0]["code"] == "GOV-1"
    doc["tables"]["services"][0]["category"] = "No such category"
    return doc


def job_page(org: Organisation, job: Job) -> str:
    return f"/o/{org.slug}/jobs/{job.pk}/"


def gov(org: Organisation) -> Service:
    return Service.objects.get(organisation=org, code="GOV-1")


def assert_download(response: HttpResponse, org: Organisation, fmt: str) -> bytes:
    assert response.status_code == 200, body(response)[:300]
    assert response["Content-Type"] == CONTENT_TYPES[fmt]
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f'filename="{org.slug}-catalogue.{EXTENSIONS[fmt]}"' in disposition
    return body(response)


def assert_round_trips(data: bytes, fmt: str) -> None:
    """The file reads back, into an organisation with the same directory, as 3 services."""
    if fmt in ("json", "yaml"):
        doc = json.loads(data) if fmt == "json" else yaml.safe_load(data)
        assert sorted(r["code"] for r in doc["tables"]["services"]) == CODES
    target = OrganisationFactory(slug=f"copy-{fmt}")
    directory(target)
    report = import_catalogue(
        Actor.for_system(target),
        io.BytesIO(data),
        name=f"x.{EXTENSIONS[fmt]}",
        dry_run=True,
    )
    assert report.ok, report.errors
    assert sorted(report.created["services"]) == CODES


# ---------------------------------------------------------------- pages


def test_the_page_offers_every_export_and_the_import_to_who_may(
    org: Organisation, acme: Actor, director: Any, staff: Any
) -> None:
    response = director.client.get(page(org))
    assert response.status_code == 200
    html = response.content.decode()
    for fmt in FORMATS:
        assert f'href="{page(org)}export/{fmt}/"' in html
    assert 'hx-encoding="multipart/form-data"' in html
    assert "carte/upload.js" in html
    assert "<progress" in html
    # Staff may export but not import.
    html = staff.client.get(page(org)).content.decode()
    assert f"{page(org)}export/json/" in html
    assert "import-form" not in html
    # The menu's button is there for those who may add services only.
    assert page(org) in director.client.get(f"/o/{org.slug}/catalogue/").content.decode()
    assert page(org) not in staff.client.get(f"/o/{org.slug}/catalogue/").content.decode()


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_page_downloads_each_format(
    org: Organisation, acme: Actor, staff: Any, fmt: str
) -> None:
    data = assert_download(staff.client.get(page(org, f"export/{fmt}/")), org, fmt)
    assert_round_trips(data, fmt)


def test_an_unknown_format_is_not_found(org: Organisation, staff: Any) -> None:
    assert staff.client.get(page(org, "export/pdf/")).status_code == 404


def test_a_dry_run_shows_what_would_change_and_writes_nothing(
    org: Organisation, acme: Actor, director: Any
) -> None:
    service = gov(org)
    with no_writes(service):
        response = director.client.post(
            page(org, "import/"), {"file": upload(renamed(acme)), "dry_run": "on"}
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Dry run: nothing was written" in html
    assert "GOV-1" in html  # named among the rows that would change
    assert "<html" in html  # without htmx, the whole page


def test_a_bad_file_fails_its_job_showing_table_row_and_column_and_writes_nothing(
    org: Organisation, acme: Actor, director: Any
) -> None:
    service = gov(org)
    with no_writes_but_jobs(service):
        response = director.client.post(page(org, "import/"), {"file": upload(broken(acme))})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job_page(org, job)
    assert job.status == JobStatus.FAILED and not job.input_file
    assert job.error == "1 problem in the file: nothing was written."
    html = director.client.get(response["Location"]).content.decode()
    assert "nothing was written" in html
    assert "<td>services</td><td>1</td><td>category</td>" in html


def test_a_good_file_imports_in_the_background(
    org: Organisation, acme: Actor, director: Any
) -> None:
    response = director.client.post(page(org, "import/"), {"file": upload(renamed(acme))})
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job_page(org, job)
    assert (job.kind, job.status, job.user) == ("catalogue.import", JobStatus.DONE, director.user)
    assert gov(org).name == "Assurance reviews, renamed"
    html = director.client.get(response["Location"]).content.decode()
    assert "Imported" in html and "GOV-1" in html
    assert "The import runs in the background" in html  # the message the page left


def test_htmx_gets_a_dry_runs_result_only_and_follows_an_import_to_its_job(
    org: Organisation, acme: Actor, director: Any
) -> None:
    response = director.client.post(
        page(org, "import/"),
        {"file": upload(broken(acme)), "dry_run": "on"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" not in html
    assert 'data-testid="problems"' in html
    assert not Job.objects.exists()
    response = director.client.post(
        page(org, "import/"), {"file": upload(renamed(acme))}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == job_page(org, Job.objects.get())


def test_a_missing_or_unreadable_file_is_a_form_error(
    org: Organisation, acme: Actor, director: Any
) -> None:
    response = director.client.post(page(org, "import/"), {"dry_run": "on"})
    assert response.status_code == 422
    assert 'data-testid="form-errors"' in response.content.decode()
    bad = SimpleUploadedFile("notes.txt", b"hello")
    response = director.client.post(page(org, "import/"), {"file": bad})
    assert response.status_code == 422
    assert "Use an .xlsx" in response.content.decode()


def test_the_page_refuses_a_file_over_the_limit(
    org: Organisation, acme: Actor, director: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_BYTES", 100)
    service = gov(org)
    with no_writes(service):
        response = director.client.post(page(org, "import/"), {"file": upload(renamed(acme))})
        assert response.status_code == 413
        assert "The file is over 100 bytes" in response.content.decode()
        # A request far over the limit is refused by its declared length.
        huge = SimpleUploadedFile("big.json", b" " * (200 * 1024))
        response = director.client.post(page(org, "import/"), {"file": huge})
        assert response.status_code == 413


@pytest.mark.parametrize("role", ["staff", "viewer", "customer"])
def test_only_who_may_add_services_may_import(
    org: Organisation, acme: Actor, persona: Any, role: str
) -> None:
    who = persona(role)
    service = gov(org)
    with no_writes(service):
        assert who.client.get(page(org, "import/")).status_code == 403
        response = who.client.post(page(org, "import/"), {"file": upload(renamed(acme))})
        assert response.status_code == 403


def test_customers_may_not_export(org: Organisation, acme: Actor, customer: Any) -> None:
    assert customer.client.get(page(org)).status_code == 403
    for fmt in FORMATS:
        assert customer.client.get(page(org, f"export/{fmt}/")).status_code == 403


def test_an_outsider_gets_404_everywhere(org: Organisation, acme: Actor, outsider: Any) -> None:
    service = gov(org)
    with no_writes(service):
        for url in [page(org), page(org, "import/"), *(page(org, f"export/{f}/") for f in FORMATS)]:
            assert outsider.client.get(url).status_code == 404, url
        response = outsider.client.post(page(org, "import/"), {"file": upload(renamed(acme))})
        assert response.status_code == 404
        for fmt in FORMATS:
            response = outsider.api.get(api(org, "export"), format=fmt)
            assert_problem(response, 404)
        response = outsider.api.client.post(
            api(org, "import"), {"file": upload(renamed(acme))}, headers=outsider.api.headers
        )
        assert_problem(response, 404)


# ---------------------------------------------------------------- API


def post_file(who: Any, org: Organisation, doc: dict[str, Any], query: str = "") -> Any:
    return who.api.client.post(
        api(org, "import") + query, {"file": upload(doc)}, headers=who.api.headers
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_api_exports_each_format(org: Organisation, acme: Actor, viewer: Any, fmt: str) -> None:
    data = assert_download(viewer.api.get(api(org, "export"), format=fmt), org, fmt)
    assert_round_trips(data, fmt)


def test_the_api_refuses_an_unknown_format_and_customers(
    org: Organisation, acme: Actor, customer: Any, staff: Any
) -> None:
    assert_problem(staff.api.get(api(org, "export"), format="pdf"), 422, "format")
    assert_problem(customer.api.get(api(org, "export"), format="json"), 403)


def test_the_api_dry_run_reports_and_writes_nothing(
    org: Organisation, acme: Actor, pmo_manager: Any
) -> None:
    service = gov(org)
    with no_writes(service):
        response = post_file(pmo_manager, org, renamed(acme), "?dry_run=true")
    assert response.status_code == 200, response.content
    report = response.json()
    assert report["dry_run"] is True and report["applied"] is False
    assert report["tables"]["services"] == {"created": 0, "changed": 1, "removed": 0}
    assert report["changed"]["services"] == ["GOV-1"]
    # dry_run as a form field works too.
    with no_writes(service):
        response = pmo_manager.api.client.post(
            api(org, "import"),
            {"file": upload(renamed(acme)), "dry_run": "true"},
            headers=pmo_manager.api.headers,
        )
    assert response.json()["dry_run"] is True


def test_the_api_imports_in_the_background(org: Organisation, acme: Actor, director: Any) -> None:
    response = post_file(director, org, renamed(acme, "Renamed by API"))
    assert response.status_code == 202, response.content
    job = Job.objects.get()
    assert response["Location"] == f"/api/v1/orgs/{org.slug}/jobs/{job.pk}"
    body = response.json()
    assert (body["id"], body["kind"], body["status"]) == (job.pk, "catalogue.import", "done")
    assert body["report"]["applied"] is True
    assert body["report"]["changed"]["services"] == ["GOV-1"]
    assert gov(org).name == "Renamed by API"
    followed = director.api.get(response["Location"]).json()
    assert followed["status_label"] == "Done" and followed["result"]["name"] == "report.json"
    report = director.api.get(followed["result"]["url"])
    assert report.status_code == 200 and report.json()["applied"] is True


def test_the_api_lists_problems_of_an_invalid_file(
    org: Organisation, acme: Actor, director: Any
) -> None:
    service = gov(org)
    with no_writes(service):
        response = post_file(director, org, broken(acme), "?dry_run=true")
    problem = assert_problem(response, 422, "file")
    assert {k: problem["problems"][0][k] for k in ("table", "row", "column")} == {
        "table": "services",
        "row": 1,
        "column": "category",
    }
    # Imported, not checked: the job fails, listing the same problems, and writes nothing.
    with no_writes_but_jobs(service):
        response = post_file(director, org, broken(acme))
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "failed" and "nothing was written" in body["error"]
    assert body["report"]["problems"][0] == {**problem["problems"][0]}


def test_the_api_refuses_a_file_over_the_limit(
    org: Organisation, acme: Actor, director: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_BYTES", 100)
    service = gov(org)
    with no_writes(service):
        assert_problem(post_file(director, org, renamed(acme)), 413, "file")


def test_the_api_needs_a_file(org: Organisation, director: Any) -> None:
    response = director.api.client.post(api(org, "import"), {}, headers=director.api.headers)
    assert_problem(response, 422)


@pytest.mark.parametrize("role", ["staff", "viewer", "customer"])
def test_the_api_import_needs_the_right_to_add_services(
    org: Organisation, acme: Actor, persona: Any, role: str
) -> None:
    who = persona(role)
    service = gov(org)
    with no_writes(service):
        assert_problem(post_file(who, org, renamed(acme)), 403)
