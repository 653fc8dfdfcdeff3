"""Codes and names that differ only in case (issue 12, item 12): the organisation holds
them unique whatever their case, so an import matches them so; a row's own code or name
changed in case is a change, written once; a name that only refers to another row
(a category, a PMO, a person, a service replaced...) is that row, whatever its case."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from openpyxl import load_workbook  # type: ignore[import-untyped]

from carte.catalogue.models import Artefact, Category, Service, ServiceOutput
from carte.catalogue.tests.test_transfer import build_catalogue, run_import
from carte.catalogue.transfer.export import export_bytes
from carte.catalogue.transfer.importer import Report
from carte.core.testing import no_writes
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation

Doc = dict[str, Any]


@pytest.fixture
def source(org: Organisation) -> Actor:
    return build_catalogue(org)


def _export(actor: Actor) -> Doc:
    doc: Doc = json.loads(export_bytes(actor, "json"))
    return doc


def _import(actor: Actor, doc: Doc) -> Report:
    report = run_import(actor, json.dumps(doc).encode(), "json")
    assert report.ok and report.applied, report.errors
    return report


def _unchanged(actor: Actor, doc: Doc) -> None:
    """Importing `doc` finds nothing to do and writes nothing."""
    with no_writes():
        report = run_import(actor, json.dumps(doc).encode(), "json")
    assert report.ok, report.errors
    assert report.counts() == {}


def _changed(**tables: int) -> dict[str, dict[str, int]]:
    return {t: {"created": 0, "changed": n, "removed": 0} for t, n in tables.items()}


def _edit(doc: Doc, table: str, column: str, old: str, new: str) -> None:
    """Write `new` for `old` in one column of a table (exactly, or in a list cell)."""
    hits = 0
    for row in doc["tables"][table]:
        value = row[column]
        if value == old:
            row[column] = new
            hits += 1
        elif isinstance(value, list) and old in value:
            row[column] = sorted(new if v == old else v for v in value)
            hits += 1
    assert hits, (table, column, old)


def _sorted(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(row, sort_keys=True) for row in rows)


def _code(org: Organisation, name: str) -> str:
    return Service.objects.get(organisation=org, name=name).code


def test_a_code_changed_in_case_is_written_once_then_stable(source: Actor) -> None:
    org = source.organisation
    original = _export(source)
    doc = copy.deepcopy(original)
    # Only the services sheet says so: REP-2's `replaces`, the inputs' source and the
    # parts' `service` still name it as before.
    _edit(doc, "services", "code", "REP-1", "rep-1")

    assert _import(source, doc).counts() == _changed(services=1)
    assert _code(org, "Dashboards") == "rep-1"
    _unchanged(source, doc)

    # The export as it was: the old case back, once.
    report = _import(source, original)
    assert report.counts() == _changed(services=1)
    assert report.changed["services"] == ["REP-1"]
    assert _code(org, "Dashboards") == "REP-1"
    _unchanged(source, original)


def test_a_workbook_with_a_code_changed_in_case_is_written_once(source: Actor) -> None:
    book = load_workbook(io.BytesIO(export_bytes(source, "xlsx")))
    sheet = book["services"]
    assert sheet["A2"].value == "GOV-1"  # its own artefact's sheet still says so
    sheet["A2"] = "gov-1"
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()

    report = run_import(source, data, "xlsx")
    assert report.applied and report.counts() == _changed(services=1), report.errors
    with no_writes():
        again = run_import(source, data, "xlsx")
    assert again.ok and again.counts() == {}, again.errors


def test_a_code_changed_in_case_everywhere_changes_only_the_service(source: Actor) -> None:
    doc = _export(source)
    _edit(doc, "services", "code", "REP-1", "rep-1")
    _edit(doc, "services", "replaces", "REP-1", "rep-1")
    _edit(doc, "inputs", "source_service", "REP-1", "rep-1")
    for table in ("symptoms", "outputs", "customers", "artefact_uses"):
        _edit(doc, table, "service", "REP-1", "rep-1")

    assert _import(source, doc).counts() == _changed(services=1)
    _unchanged(source, doc)
    # The export says what the file said (its rows in the export's order: by code).
    exported = _export(source)["tables"]
    for table, rows in doc["tables"].items():
        assert _sorted(exported[table]) == _sorted(rows), table


def test_a_category_renamed_in_case_is_written_once_then_stable(source: Actor) -> None:
    org = source.organisation
    doc = _export(source)
    _edit(doc, "categories", "name", "Governance", "GOVERNANCE")  # its services still say so

    assert _import(source, doc).counts() == _changed(categories=1)
    assert Category.objects.filter(organisation=org, name="GOVERNANCE").exists()
    _unchanged(source, doc)


def test_an_artefact_renamed_in_case_is_written_once_then_stable(source: Actor) -> None:
    org = source.organisation
    doc = _export(source)
    _edit(doc, "artefacts", "name", "Review checklist", "Review Checklist")
    _edit(doc, "artefacts", "name", "RAID log", "Raid Log")  # the uses still say "RAID log"

    assert _import(source, doc).counts() == _changed(artefacts=2)
    names = set(Artefact.objects.filter(organisation=org).values_list("name", flat=True))
    assert names == {"Review Checklist", "Raid Log"}
    _unchanged(source, doc)


def test_parts_renamed_in_case_are_written_once_then_stable(source: Actor) -> None:
    org = source.organisation
    doc = _export(source)
    # Outputs and suppliers are named by inputs, which keep the old case.
    _edit(doc, "outputs", "name", "Monthly report", "Monthly Report")
    _edit(doc, "suppliers", "name", "Sponsor", "SPONSOR")
    _edit(doc, "levels", "name", "Light", "light")
    _edit(doc, "steps", "name", "Review", "review")
    _edit(doc, "governance", "item", "Mandate from the board", "Mandate from the Board")

    assert _import(source, doc).counts() == _changed(
        levels=1, suppliers=1, outputs=1, steps=1, governance=1
    )
    assert ServiceOutput.objects.filter(organisation=org, name="Monthly Report").exists()
    _unchanged(source, doc)


@pytest.mark.parametrize(
    "edit",
    [
        lambda d: _edit(d, "services", "category", "Governance", "governance"),
        lambda d: _edit(d, "services", "delivering_pmos", "IT PMO", "it pmo"),
        lambda d: _edit(d, "roles", "person_email", "alice@acme.example", "Alice@Acme.Example"),
        lambda d: _edit(d, "roles", "pmo", "IT PMO", "It Pmo"),
        lambda d: _edit(d, "symptoms", "statement", "Projects run late", "projects run LATE"),
        lambda d: _edit(d, "suppliers", "customer_group", "Finance", "FINANCE"),
        lambda d: _edit(d, "suppliers", "person_email", "bob@acme.example", "BOB@acme.example"),
        lambda d: _edit(d, "inputs", "supplier", "Sponsor", "sponsor"),
        lambda d: _edit(d, "inputs", "source_output", "Monthly report", "MONTHLY REPORT"),
        lambda d: _edit(d, "inputs", "source_service", "REP-1", "Rep-1"),
        lambda d: _edit(d, "outputs", "customers", "Finance", "finance"),
        lambda d: _edit(d, "customers", "customer_group", "Operations", "operations"),
        lambda d: _edit(d, "artefacts", "owner_pmo", "CoE Methods", "COE METHODS"),
        lambda d: _edit(d, "artefacts", "owner_service", "GOV-1", "gov-1"),
        lambda d: _edit(d, "artefact_uses", "artefact", "RAID log", "raid LOG"),
        lambda d: _edit(d, "artefact_uses", "artefact_owner_pmo", "CoE Methods", "coe methods"),
        # A need names a competence of the framework: in another case, the same one.
        lambda d: _edit(d, "competences", "competence", "Assurance", " ASSURANCE "),
    ],
    ids=[
        "category",
        "delivering_pmo",
        "role_person",
        "role_pmo",
        "symptom",
        "supplier_group",
        "supplier_person",
        "input_supplier",
        "input_source_output",
        "input_source_service",
        "output_customers",
        "customer_group",
        "artefact_owner_pmo",
        "artefact_owner_service",
        "use_artefact",
        "use_owner_pmo",
        "need_competence",
    ],
)
def test_a_reference_in_another_case_is_no_change(
    source: Actor, edit: Callable[[Doc], None]
) -> None:
    doc = _export(source)
    edit(doc)
    _unchanged(source, doc)


def test_the_command_reports_a_case_change_once(source: Actor, tmp_path: Path, capsys: Any) -> None:
    doc = _export(source)
    _edit(doc, "services", "code", "GOV-1", "gov-1")
    _edit(doc, "categories", "name", "-Reporting", "-REPORTING")
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(doc))

    call_command("catalogue", "import", str(path), "--org", "acme")
    out = capsys.readouterr().out
    assert "services: 0 created, 1 changed, 0 removed" in out
    assert "categories: 0 created, 1 changed, 0 removed" in out
    call_command("catalogue", "import", str(path), "--org", "acme", "--dry-run")
    assert "Nothing to change." in capsys.readouterr().out
    assert _code(source.organisation, "Assurance reviews") == "gov-1"
