"""Malformed and hostile files (`hostile`) refused by the catalogue import, by the
function, the API, the page and the command: a clear refusal of the file, nothing
written, and memory bounded by what the file holds, not by what it claims."""

from __future__ import annotations

import html
import io
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from carte.catalogue.tests.hostile import Hostile, deep_json, deep_yaml, spreadsheet_files
from carte.catalogue.transfer.importer import import_catalogue
from carte.catalogue.transfer.shapes import HEADERS
from carte.core.models import Job, JobStatus
from carte.core.testing import assert_problem, no_writes, no_writes_but_jobs
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

PEAK = 50 * 1024 * 1024  # the most any of these files may make an import hold


def _zip(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


FILES: list[Hostile] = [
    *spreadsheet_files("services", list(HEADERS["services"])),
    Hostile("json-100000-deep", "deep.json", deep_json(), "nests values over"),
    Hostile("yaml-20000-deep", "deep.yaml", deep_yaml(), "nests values over"),
    Hostile(
        "json-a-cell-nested",
        "cell.json",
        b'{"format": "carte-catalogue", "version": 1, "tables": {"services": '
        b'[{"name": [[[["x"]]]]}]}}',
        "nests values over",
    ),
    Hostile("yaml-alias", "alias.yaml", b"a: &a [x, x]\nb: [*a, *a]\n", "aliases"),
    Hostile("csv-not-utf8", "cat.zip", _zip(**{"services.csv": b"code\xff\xfe\n"}), "UTF-8"),
    Hostile(
        "csv-unpacks-too-much",
        "cat.zip",
        _zip(**{"services.csv": b"code,name\n" + b"x,y\n" * 1_000_000}),
        "unpacks to too much data",
    ),
]


@pytest.fixture
def acme(org: Organisation) -> Actor:
    return Actor.for_system(org)


def refusal(message: str, file: Hostile) -> None:
    assert file.says in message, (file.key, message)


@pytest.mark.parametrize("file", FILES, ids=str)
def test_the_import_refuses_the_file_in_bounded_memory(acme: Actor, file: Hostile) -> None:
    tracemalloc.start()
    try:
        with no_writes():
            report = import_catalogue(acme, io.BytesIO(file.content), name=file.name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(p.table, p.row, p.column) for p in report.errors] == [("file", None, None)]
    refusal(report.errors[0].message, file)
    assert not report.applied
    assert peak < PEAK, f"{file.key}: {peak / 1e6:.1f} MB"


def upload(file: Hostile) -> SimpleUploadedFile:
    return SimpleUploadedFile(file.name, file.content)


@pytest.mark.parametrize("file", FILES, ids=str)
def test_the_api_refuses_the_file(org: Organisation, director: Any, file: Hostile) -> None:
    url = f"/api/v1/orgs/{org.slug}/catalogue/import"
    with no_writes_but_jobs():
        checked = director.api.client.post(
            url + "?dry_run=true", {"file": upload(file)}, headers=director.api.headers
        )
        started = director.api.client.post(
            url, {"file": upload(file)}, headers=director.api.headers
        )
    body = assert_problem(checked, 422, "file")
    refusal(str(body), file)
    if started.status_code == 422:  # refused before its job starts (by its first bytes)
        refusal(str(assert_problem(started, 422, "file")), file)
        assert not Job.objects.exists()
    else:
        assert started.status_code == 202, started.content
        job = Job.objects.get()
        assert job.status == JobStatus.FAILED and "nothing was written" in job.error
        assert job.report is not None
        refusal(job.report["problems"][0]["message"], file)


@pytest.mark.parametrize("file", FILES, ids=str)
def test_the_page_refuses_the_file(org: Organisation, director: Any, file: Hostile) -> None:
    with no_writes():
        response = director.client.post(
            f"/o/{org.slug}/catalogue/transfer/import/", {"file": upload(file), "dry_run": "on"}
        )
    assert response.status_code == 422
    refusal(html.unescape(response.content.decode()), file)


@pytest.mark.parametrize("file", FILES, ids=str)
def test_the_command_refuses_the_file_with_exit_code_2(
    org: Organisation, file: Hostile, tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / file.name
    path.write_bytes(file.content)
    with no_writes_but_jobs(), pytest.raises(CommandError) as caught:
        call_command("catalogue", "import", str(path), "--org", org.slug)
    assert caught.value.returncode == 2
    refusal(str(caught.value) + capsys.readouterr().err, file)
