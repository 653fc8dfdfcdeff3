"""Export and import of the catalogue: the round trip in every format, dry runs,
re-imports, every kind of bad input (nothing written), and the `carte catalogue` command."""

from __future__ import annotations

import datetime as dt
import gc
import io
import json
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import load_workbook  # type: ignore[import-untyped]

from carte.catalogue import services, snapshots
from carte.catalogue.choices import (
    ArtefactKind,
    DeliveryMode,
    PricingBasis,
    ServiceRoleKind,
    SupplierKind,
)
from carte.catalogue.models import (
    Artefact,
    Category,
    CompetenceNeed,
    Service,
    ServiceInput,
    ServiceSymptom,
    Supplier,
    Symptom,
)
from carte.catalogue.services import bulk
from carte.catalogue.tests.factories import CompetenceFactory
from carte.catalogue.transfer import importer
from carte.catalogue.transfer.export import EXTENSIONS, FORMATS, export_bytes
from carte.catalogue.transfer.importer import Report, import_catalogue
from carte.catalogue.transfer.shapes import (
    HEADERS,
    artefact_row,
    neutralise,
    part_queryset,
    part_row,
    service_row,
    table_rows,
    unneutralise,
)
from carte.core.errors import DomainError
from carte.core.models import AuditEntry, Job
from carte.core.tabular import xlsx
from carte.core.testing import no_writes, no_writes_but_jobs
from carte.organisations.actor import Actor
from carte.organisations.models import Competence, Organisation
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    OrganisationFactory,
    PersonFactory,
    PMOFactory,
)

# ---------------------------------------------------------------- a rich catalogue

PEOPLE = [("Alice Owner", "alice@acme.example"), ("Bob Manager", "bob@acme.example")]
PEOPLE += [("Carol Operative", "carol@acme.example")]
PMOS = ["Central PMO", "IT PMO", "CoE Methods"]
GROUPS = ["Finance", "Operations", "@Board"]


def directory(org: Organisation) -> dict[str, Any]:
    """The people, PMOs and customer groups a catalogue refers to, made in `org`."""
    return {
        "people": {
            email: PersonFactory(organisation=org, name=name, email=email) for name, email in PEOPLE
        },
        "pmos": {name: PMOFactory(organisation=org, name=name) for name in PMOS},
        "groups": {name: CustomerGroupFactory(organisation=org, name=name) for name in GROUPS},
    }


def build_catalogue(org: Organisation) -> Actor:
    """Three services with every part, through the services, as the system of `org`."""
    actor = Actor.for_system(org)
    d = directory(org)
    people, pmos, groups = d["people"], d["pmos"], d["groups"]
    gov = services.category_create(actor=actor, name="Governance", description="=SUM(A1)")
    rep = services.category_create(actor=actor, name="-Reporting", description="@ all levels")

    reviews = services.service_create(
        actor=actor,
        code="GOV-1",
        name="Assurance reviews",
        category=gov,
        summary="-dash first",
        description="=cmd|' /C calc'!A0",
        outcome="+ better projects",
        rationale=["control", "effective"],
        rationale_note="@PMO decides",
        scopes=["project", "programme"],
        delivery_mode=DeliveryMode.HYBRID,
        provider_kind="external",
        provider_name="Review Partners Ltd",
        delivering_pmos=[pmos["Central PMO"], pmos["IT PMO"]],
        hours="Mon-Fri 9:00-17:00",
        pricing_basis=PricingBasis.PER_UNIT,
        price=Decimal("1234.56"),
        currency="EUR",
        price_unit="per review",
        is_temporary=True,
        end_date=dt.date(2027, 1, 31),
    )
    reports = services.service_create(
        actor=actor, code="REP-1", name="Dashboards", category=rep, summary="'=quoted"
    )
    successor = services.service_create(
        actor=actor,
        code="REP-2",
        name="Dashboards 2",
        category=rep,
        replaces=reports,
        pricing_basis=PricingBasis.FIXED_FEE,
        price=Decimal("0.10"),
        currency="GBP",
    )

    def part(service: Service, part_kind: str, **data: Any) -> Any:
        return services.part_create(actor=actor, service=service, kind=part_kind, data=data)

    part(reviews, "levels", name="Light", description="-one look", effort_hours=Decimal("1.50"))
    part(reviews, "levels", name="Deep", effort_hours=Decimal("12.25"), price=Decimal("99.99"))
    part(reviews, "roles", role=ServiceRoleKind.OWNER, person=people["alice@acme.example"])
    part(
        reviews,
        "roles",
        role=ServiceRoleKind.MANAGER,
        person=people["bob@acme.example"],
        pmo=pmos["IT PMO"],
    )
    part(reviews, "roles", role=ServiceRoleKind.OPERATIVE, person=people["carol@acme.example"])
    late = services.symptom_get_or_create(actor=actor, statement="Projects run late")
    odd = services.symptom_get_or_create(actor=actor, statement="=Nobody knows")
    part(reviews, "symptoms", symptom=late, weight=5)
    part(reviews, "symptoms", symptom=odd, weight=1)
    part(reports, "symptoms", symptom=late, weight=3)  # a shared symptom
    sponsor = part(reviews, "suppliers", name="Sponsor", kind=SupplierKind.ROLE)
    part(
        reviews,
        "suppliers",
        name="Bob",
        kind=SupplierKind.PERSON,
        person=people["bob@acme.example"],
    )
    part(
        reviews,
        "suppliers",
        name="Finance team",
        kind=SupplierKind.CUSTOMER_GROUP,
        customer_group=groups["Finance"],
    )
    monthly = part(
        reports, "outputs", name="Monthly report", customers=[groups["Finance"], groups["@Board"]]
    )
    part(reports, "outputs", name="-Exceptions", quality_criteria="=none")
    part(reviews, "inputs", name="Request", is_trigger=True, supplier=sponsor)
    part(reviews, "inputs", name="Status data", source_output=monthly)  # a dependency
    part(reviews, "inputs", name="Request", quality_criteria="again, same name")
    part(successor, "inputs", name="Old figures", source_output=monthly)
    part(reviews, "steps", name="Plan", performer="Service Manager", description="+ scope")
    part(reviews, "steps", name="Review", performer="-Operative")
    part(reviews, "steps", name="Report", performer="Service Operative")
    part(reviews, "outputs", name="Review report", customers=[groups["Operations"]])
    part(reviews, "customers", customer_group=groups["Finance"], note="=main")
    part(reviews, "customers", customer_group=groups["@Board"])
    part(reports, "customers", customer_group=groups["Operations"])
    # Needs name competences of the framework: found or recorded there by name.
    part(reviews, "competences", competence_name="Assurance", level=3, fte=Decimal("0.75"))
    part(reviews, "competences", competence_name="Reporting", level=1, fte=Decimal("2"))
    part(reviews, "governance", item="Mandate from the board", in_place=True)
    part(reviews, "governance", item="-Escalation path")
    services.artefact_create(
        actor=actor,
        name="Review checklist",
        kind=ArtefactKind.TEMPLATE,
        owner_service=reviews,
        url="https://example.org/checklist",
    )
    coe = services.artefact_create(
        actor=actor,
        name="RAID log",
        kind=ArtefactKind.TOOL,
        owner_pmo=pmos["CoE Methods"],
        description="=shared",
    )
    part(reviews, "artefacts", artefact=coe, note="@ weekly")  # reused by reference
    part(reports, "artefacts", artefact=coe)
    return actor


@pytest.fixture
def source(org: Organisation) -> Actor:
    return build_catalogue(org)


@pytest.fixture
def target(db: None) -> Actor:
    """An empty organisation with the same people, PMOs and customer groups."""
    org = OrganisationFactory(name="Target", slug="target")
    directory(org)
    return Actor.for_system(org)


def catalogue_of(org: Organisation) -> dict[str, Any]:
    """Everything an import must reproduce, with no id in it."""
    live = {"organisation": org, "archived_at__isnull": True}
    return {
        "services": {
            s.code: snapshots.build(s) for s in Service.objects.filter(**live).order_by("code")
        },
        "categories": list(
            Category.objects.filter(**live).values_list("name", "description", "position")
        ),
        "artefacts": sorted(
            (a.name, a.kind, a.description, a.url, a.owner_pmo.name if a.owner_pmo else "")
            for a in Artefact.objects.filter(**live).select_related("owner_pmo")
        ),
    }


def run_import(actor: Actor, data: bytes, fmt: str, **kwargs: Any) -> Report:
    return import_catalogue(actor, io.BytesIO(data), name=f"cat.{EXTENSIONS[fmt]}", **kwargs)


def problems(report: Report) -> list[tuple[str, int | None, str | None]]:
    return [(p.table, p.row, p.column) for p in report.errors]


# ---------------------------------------------------------------- the round trip


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_reproduces_the_catalogue(source: Actor, target: Actor, fmt: str) -> None:
    data = export_bytes(source, fmt)
    report = run_import(target, data, fmt)
    assert report.ok, report.errors
    assert report.applied
    assert report.counts()["services"]["created"] == 3
    assert catalogue_of(target.organisation) == catalogue_of(source.organisation)
    # Exporting the copy gives the same file content (JSON: byte for byte).
    if fmt in ("json", "yaml"):
        assert export_bytes(target, fmt) == data

    # Importing the same file again changes nothing and writes nothing.
    with no_writes():
        again = run_import(target, data, fmt)
    assert again.ok and again.counts() == {}


def test_an_import_names_needs_competences_of_the_framework_recording_the_missing(
    source: Actor, target: Actor
) -> None:
    org = target.organisation
    known = CompetenceFactory(organisation=org, name="ASSURANCE")
    gone = CompetenceFactory(
        organisation=org, name="Reporting", archived_at=dt.datetime.now(dt.UTC)
    )
    data = export_bytes(source, "json")
    assert [r["competence"] for r in json.loads(data)["tables"]["competences"]] == [
        "Assurance",
        "Reporting",
    ]

    report = run_import(target, data, "json")
    assert report.ok and report.applied, report.errors
    needs = {n.competence.name: n for n in CompetenceNeed.objects.filter(organisation=org)}
    assert set(needs) == {"ASSURANCE", "Reporting"}
    assert needs["ASSURANCE"].competence == known  # found whatever its case
    recorded = needs["Reporting"].competence
    assert recorded != gone and not recorded.is_archived  # an archived one is not reused
    assert Competence.objects.filter(organisation=org, archived_at__isnull=True).count() == 2
    # The export names them as the framework does; the file, in another case, is no change.
    exported = json.loads(export_bytes(target, "json"))["tables"]["competences"]
    assert [r["competence"] for r in exported] == ["ASSURANCE", "Reporting"]
    with no_writes():
        assert run_import(target, data, "json").counts() == {}


def test_an_import_refuses_a_competence_name_too_long_and_writes_nothing(
    source: Actor, target: Actor
) -> None:
    doc = json.loads(export_bytes(source, "json"))
    doc["tables"]["competences"][1]["competence"] = "x" * 201
    with no_writes_but_jobs():
        report = run_import(target, json.dumps(doc).encode(), "json")
    assert problems(report) == [("competences", 2, "competence")]
    assert not Competence.objects.filter(organisation=target.organisation).exists()


def test_an_import_runs_with_the_cycle_collector_paused(
    source: Actor, target: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paused, the collector no longer walks every object of the process a few times a
    batch (a fifth of a 2,000-service import); it is back on afterwards."""
    seen: list[bool] = []
    build = importer._Plan.build

    def watched(plan: Any) -> None:
        seen.append(gc.isenabled())
        build(plan)

    monkeypatch.setattr(importer._Plan, "build", watched)
    report = run_import(target, export_bytes(source, "json"), "json")
    assert report.applied and seen == [False] and gc.isenabled()


def _rows_from_instances(table: str, org: Organisation) -> list[dict[str, Any]]:
    """A table's rows as the importer reads stored rows: from model instances."""
    live = {"organisation": org, "archived_at__isnull": True}
    if table == "categories":
        return [
            {"name": c.name, "description": c.description, "position": c.position}
            for c in Category.objects.filter(**live).order_by("position", "name", "id")
        ]
    if table == "services":
        found = Service.objects.filter(**live).prefetch_related("delivering_pmos")
        return [service_row(s) for s in found.order_by("code", "id")]
    if table == "artefacts":
        owned = Artefact.objects.filter(**live).exclude(owner_service__archived_at__isnull=False)
        return [artefact_row(a) for a in owned.order_by("name", "id")]
    return [{"service": p.service.code, **part_row(table, p)} for p in part_queryset(table, org)]


def test_export_reads_the_rows_the_instances_give(source: Actor) -> None:
    # The export reads plain values (no model instances); the importer compares a file
    # with rows built from instances: both must agree, or a re-import would see changes.
    org = source.organisation
    sponsor = Supplier.objects.get(organisation=org, name="Sponsor")
    services.part_archive(actor=source, part=sponsor)  # an input's supplier is removed
    for table in HEADERS:
        exported = list(table_rows(table, org))
        assert exported == _rows_from_instances(table, org), table
        assert all(list(row) == list(HEADERS[table]) for row in exported), table
    inputs = {r["name"]: r for r in table_rows("inputs", org)}
    assert inputs["Request"]["supplier"] == ""


def test_xlsx_has_a_sheet_per_part_and_neutralised_cells(source: Actor) -> None:
    book = load_workbook(io.BytesIO(export_bytes(source, "xlsx")))
    assert book.sheetnames == list(HEADERS)
    services_sheet = book["services"]
    header = [c.value for c in services_sheet[1]]
    assert header == list(HEADERS["services"])
    row = {h: c.value for h, c in zip(header, services_sheet[2], strict=True)}
    assert row["description"] == "'=cmd|' /C calc'!A0"
    assert row["summary"] == "'-dash first"
    assert row["outcome"] == "'+ better projects"
    assert row["price"] == 1234.56
    for sheet in book.worksheets:
        for cells in sheet.iter_rows():
            assert all(c.data_type != "f" for c in cells)


def test_csv_is_a_zip_of_one_file_per_table(source: Actor) -> None:
    archive = zipfile.ZipFile(io.BytesIO(export_bytes(source, "csv")))
    assert archive.namelist() == [f"{t}.csv" for t in HEADERS]
    text = archive.read("categories.csv").decode("utf-8-sig")
    assert "'=SUM(A1)" in text
    assert "'-Reporting" in text


@pytest.mark.parametrize(
    "text",
    ["=1", "+1", "-1", "@a", "\t=1", "\r=1", "'\t=1", "'=1", "''", "'", "'abc", "plain", "", "a=b"],
)
def test_neutralise_is_undone_exactly(text: str) -> None:
    safe = neutralise(text)
    assert not safe.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unneutralise(safe) == text


# ---------------------------------------------------------------- dry run and changes


def test_dry_run_reports_and_writes_nothing(source: Actor, target: Actor) -> None:
    data = export_bytes(source, "json")
    with no_writes():
        report = run_import(target, data, "json", dry_run=True)
    assert report.ok and report.dry_run and not report.applied
    assert report.created["services"] == ["GOV-1", "REP-1", "REP-2"]
    assert report.counts()["inputs"]["created"] == 4
    assert not Service.objects.filter(organisation=target.organisation).exists()


def test_reimport_reports_only_what_changed(source: Actor, target: Actor) -> None:
    doc = json.loads(export_bytes(source, "json"))
    assert run_import(target, json.dumps(doc).encode(), "json").applied
    doc["tables"]["services"][0]["name"] = "Assurance reviews (new)"
    doc["tables"]["levels"][0]["effort_hours"] = "2.00"
    doc["tables"]["governance"] = [r for r in doc["tables"]["governance"] if r["in_place"]]
    doc["tables"]["steps"].append(
        {"service": "REP-1", "position": 1, "name": "Collect", "description": "", "performer": "x"}
    )
    changed = json.dumps(doc).encode()

    with no_writes():
        dry = run_import(target, changed, "json", dry_run=True)
    assert dry.counts() == {
        "services": {"created": 0, "changed": 1, "removed": 0},
        "levels": {"created": 0, "changed": 1, "removed": 0},
        "steps": {"created": 1, "changed": 0, "removed": 0},
        "governance": {"created": 0, "changed": 0, "removed": 1},
    }
    assert dry.changed["services"] == ["GOV-1"]

    report = run_import(target, changed, "json")
    assert report.applied
    gov = Service.objects.get(organisation=target.organisation, code="GOV-1")
    assert gov.name == "Assurance reviews (new)"
    assert [g.item for g in gov.governance.filter(archived_at__isnull=True)] == [
        "Mandate from the board"
    ]
    assert run_import(target, changed, "json").counts() == {}


def test_reimport_changes_a_symptom_link_and_adds_no_symptom(source: Actor) -> None:
    doc = json.loads(export_bytes(source, "json"))
    row = next(r for r in doc["tables"]["symptoms"] if r["weight"] == 5)
    row["weight"] = 2
    before = Symptom.objects.filter(organisation=source.organisation).count()
    report = run_import(source, json.dumps(doc).encode(), "json")
    assert report.applied, report.errors
    assert report.counts() == {"symptoms": {"created": 0, "changed": 1, "removed": 0}}
    assert Symptom.objects.filter(organisation=source.organisation).count() == before
    link = ServiceSymptom.objects.get(
        service__code=row["service"], symptom__statement=row["statement"]
    )
    assert link.weight == 2


def test_import_changes_an_existing_owner(source: Actor) -> None:
    doc = json.loads(export_bytes(source, "json"))
    for row in doc["tables"]["roles"]:
        if row["role"] == "owner":
            row["person_email"] = "carol@acme.example"
    report = run_import(source, json.dumps(doc).encode(), "json")
    assert report.applied, report.errors
    assert report.counts()["roles"] == {"created": 1, "changed": 0, "removed": 1}


# ---------------------------------------------------------------- bad input


def _document(source: Actor) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(export_bytes(source, "json"))
    return doc


def _row(doc: dict[str, Any], table: str, **match: Any) -> dict[str, Any]:
    return next(r for r in doc["tables"][table] if all(r[k] == v for k, v in match.items()))


def _refused(target: Actor, doc: dict[str, Any]) -> Report:
    with no_writes():
        report = run_import(target, json.dumps(doc).encode(), "json")
    assert not report.ok and not report.applied
    assert not Service.objects.filter(organisation=target.organisation).exists()
    return report


def test_duplicate_code_is_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    doc["tables"]["services"].append(dict(doc["tables"]["services"][1], code="rep-1"))
    assert ("services", 4, "code") in problems(_refused(target, doc))


def test_second_owner_is_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    doc["tables"]["roles"].append(
        {"service": "GOV-1", "role": "owner", "person_email": "bob@acme.example", "pmo": ""}
    )
    report = _refused(target, doc)
    assert ("roles", 4, "role") in problems(report)
    assert "already has an Owner" in str(report.errors[0])


def test_manager_without_pmo_is_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    _row(doc, "roles", role="manager")["pmo"] = ""
    assert problems(_refused(target, doc)) == [("roles", 2, "pmo")]


def test_manager_of_a_pmo_not_delivering_is_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    _row(doc, "roles", role="manager")["pmo"] = "CoE Methods"
    assert problems(_refused(target, doc)) == [("roles", 2, "pmo")]


def test_link_to_another_organisations_output_is_refused(
    source: Actor, target: Actor, other_org: Organisation
) -> None:
    other = build_catalogue(other_org)
    assert Service.objects.filter(organisation=other.organisation, code="XO-1").count() == 0
    services.service_create(
        actor=other,
        code="XO-1",
        name="Elsewhere",
        category=Category.objects.get(organisation=other_org, name="Governance"),
    )
    doc = _document(source)
    row = _row(doc, "inputs", name="Status data")
    row["source_service"], row["source_output"] = "XO-1", "Monthly report"
    assert problems(_refused(target, doc)) == [("inputs", 2, "source_service")]


def test_input_from_its_own_output_is_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    row = _row(doc, "inputs", name="Status data")
    row["source_service"], row["source_output"] = "GOV-1", "Review report"
    assert problems(_refused(target, doc)) == [("inputs", 2, "source_output")]


def test_unknown_output_and_half_a_dependency_are_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    _row(doc, "inputs", name="Status data")["source_output"] = "No such output"
    _row(doc, "inputs", name="Old figures")["source_service"] = ""
    assert problems(_refused(target, doc)) == [
        ("inputs", 2, "source_output"),
        ("inputs", 4, "source_service"),
    ]


def test_price_without_currency_is_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    _row(doc, "services", code="GOV-1")["currency"] = ""
    report = _refused(target, doc)
    assert problems(report) == [("services", 1, "currency")]
    assert str(report.errors[0]) == "services, row 1, column currency: A price needs a currency."


def test_unknown_people_pmos_and_groups_are_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    _row(doc, "roles", role="owner")["person_email"] = "nobody@acme.example"
    _row(doc, "services", code="GOV-1")["delivering_pmos"] = ["Central PMO", "Ghost PMO"]
    _row(doc, "customers", customer_group="Finance")["customer_group"] = "Nobody"
    assert set(problems(_refused(target, doc))) >= {
        ("roles", 1, "person_email"),
        ("services", 1, "delivering_pmos"),
        ("customers", 1, "customer_group"),
    }


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("services", "price", "twelve"),
        ("services", "is_temporary", "maybe"),
        ("services", "delivery_mode", "teleport"),
        ("services", "end_date", "31/01/2027"),
        ("services", "code", "has spaces"),
        ("services", "currency", "euro"),
        ("levels", "position", "first"),
        ("symptoms", "weight", 9),
        ("competences", "level", 7),
        ("artefacts", "url", "not a link"),
        ("roles", "role", "boss"),
    ],
)
def test_wrong_types_are_refused(
    source: Actor, target: Actor, table: str, column: str, value: Any
) -> None:
    doc = _document(source)
    doc["tables"][table][0][column] = value
    assert (table, 1, column) in problems(_refused(target, doc))


def test_unknown_tables_and_columns_are_refused(source: Actor, target: Actor) -> None:
    doc = _document(source)
    doc["tables"]["service"] = doc["tables"].pop("services")
    doc["tables"]["levels"][0]["colour"] = "red"
    del doc["tables"]["roles"][0]["pmo"]
    assert set(problems(_refused(target, doc))) == {
        ("service", None, None),
        ("services", None, None),  # missing: it would read as "no services"
        ("levels", 1, "colour"),
        ("roles", 1, "pmo"),
    }


def _xlsx_edit(data: bytes, sheet: str, cell: str, value: Any, title: str | None = None) -> bytes:
    book = load_workbook(io.BytesIO(data))
    book[sheet][cell] = value
    if title:
        book[sheet].title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_formula_in_a_cell_is_refused(source: Actor, target: Actor) -> None:
    data = _xlsx_edit(export_bytes(source, "xlsx"), "services", "B2", "=HYPERLINK(A1)")
    report = run_import(target, data, "xlsx")
    assert problems(report) == [("services", 2, "name")]
    assert "formula" in report.errors[0].message


def test_wrong_sheet_name_and_header_are_refused(source: Actor, target: Actor) -> None:
    data = export_bytes(source, "xlsx")
    renamed = _xlsx_edit(data, "levels", "A1", "service", title="Levels of service")
    assert problems(run_import(target, renamed, "xlsx")) == [
        ("Levels of service", None, None),
        ("levels", None, None),
    ]
    bad_header = _xlsx_edit(data, "roles", "B1", "function")
    assert problems(run_import(target, bad_header, "xlsx")) == [
        ("roles", 1, "function"),
        ("roles", 1, "role"),
    ]


def test_wrong_value_in_a_csv_cell_is_refused(source: Actor, target: Actor) -> None:
    archive = zipfile.ZipFile(io.BytesIO(export_bytes(source, "csv")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as copy:
        for name in archive.namelist():
            content = archive.read(name)
            if name == "services.csv":
                content = content.replace(b"1234.56", b"12x34")
            copy.writestr(name, content)
    assert problems(run_import(target, out.getvalue(), "csv")) == [("services", 2, "price")]


def test_a_table_twice_is_refused(source: Actor, target: Actor) -> None:
    archive = zipfile.ZipFile(io.BytesIO(export_bytes(source, "csv")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as copy:
        for name in archive.namelist():
            copy.writestr(name, archive.read(name))
        copy.writestr("more/levels.csv", archive.read("levels.csv"))
    assert problems(run_import(target, out.getvalue(), "csv")) == [("levels", None, None)]


def test_import_needs_the_right_to_add_services(source: Actor, viewer: Any) -> None:
    data = export_bytes(source, "json")
    with no_writes(), pytest.raises(DomainError) as exc:
        run_import(viewer.actor, data, "json")
    assert exc.value.code == "forbidden"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cat.xlsx", b"this is not a workbook", "damaged or truncated"),
        ("cat.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "password-protected"),
        ("cat.zip", b"PK\x03\x04 broken", "damaged or truncated"),
        ("cat.json", b'{"format": "carte-catalogue", "tables": {', "not valid JSON"),
        ("cat.yaml", b"format: [unclosed", "not valid YAML"),
        ("cat.json", b'{"format": "other"}', "Not a catalogue export"),
        ("cat.csv", b"code,name\n", "as a .zip"),
        ("cat.txt", b"hello", "Use an .xlsx"),
        ("cat.json", b"", "empty"),
    ],
)
def test_unreadable_files_are_refused(
    target: Actor, name: str, content: bytes, message: str
) -> None:
    with no_writes():
        report = import_catalogue(target, io.BytesIO(content), name=name)
    assert problems(report) == [("file", None, None)]
    assert message in report.errors[0].message


def test_truncated_xlsx_is_refused(source: Actor, target: Actor) -> None:
    data = export_bytes(source, "xlsx")
    with no_writes():
        report = run_import(target, data[: len(data) // 2], "xlsx")
    assert problems(report) == [("file", None, None)]
    assert "damaged or truncated" in report.errors[0].message


def test_oversized_file_is_refused_before_reading(source: Actor, target: Actor) -> None:
    data = export_bytes(source, "json")
    report = run_import(target, data, "json", max_bytes=len(data) - 1)
    assert problems(report) == [("file", None, None)]
    assert "over" in report.errors[0].message


def test_a_refusal_while_writing_rolls_everything_back(source: Actor, target: Actor) -> None:
    # The file is consistent, but an output still used by another service's input
    # cannot be removed: the whole import is undone and the refusal reported.
    doc = _document(source)
    assert run_import(target, json.dumps(doc).encode(), "json").applied
    doc["tables"]["services"] = [r for r in doc["tables"]["services"] if r["code"] == "REP-1"]
    for table in HEADERS:
        if "service" in HEADERS[table]:
            doc["tables"][table] = [r for r in doc["tables"][table] if r["service"] == "REP-1"]
    doc["tables"]["artefacts"] = []
    doc["tables"]["artefact_uses"] = []
    doc["tables"]["outputs"] = [
        r for r in doc["tables"]["outputs"] if r["name"] != "Monthly report"
    ]
    before = AuditEntry.objects.count()
    report = run_import(target, json.dumps(doc).encode(), "json")
    assert not report.applied
    assert problems(report) == [("outputs", None, None)]
    assert "unlink them first" in report.errors[0].message
    assert AuditEntry.objects.count() == before
    assert (
        ServiceInput.objects.filter(
            organisation=target.organisation, source_output__name="Monthly report"
        ).count()
        == 2
    )


def test_a_refused_row_of_a_batch_is_named_and_nothing_is_written(
    source: Actor, target: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse_the_second(*, actor: Actor, kind: str, rows: Any) -> Any:
        raise bulk.RowError(1, DomainError.field("name", "Refused here."))

    monkeypatch.setattr(bulk, "parts_create_many", refuse_the_second)
    before = AuditEntry.objects.count()
    report = run_import(target, export_bytes(source, "xlsx"), "xlsx")
    assert not report.applied
    # Levels are written first; the second level is row 3 of its sheet.
    assert [(p.table, p.row, p.column, p.message) for p in report.errors] == [
        ("levels", 3, "name", "name: Refused here.")
    ]
    assert not Service.objects.filter(organisation=target.organisation).exists()
    assert AuditEntry.objects.count() == before


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _as_a_spreadsheet_program_saves_it(data: bytes) -> bytes:
    """The workbook with its text in a shared-strings table (one string as rich-text
    runs) and cells without references in the header rows, as Excel or LibreOffice
    write them (openpyxl writes every string inline, with references)."""
    ET.register_namespace("", MAIN)
    strings: list[str] = []
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, zipfile.ZipFile(out, "w") as new:
        for name in old.namelist():
            content = old.read(name)
            if name.startswith("xl/worksheets/"):
                root = ET.fromstring(content)
                for row in root.iter(f"{{{MAIN}}}row"):
                    for cell in row:
                        if row.get("r") == "1":
                            del cell.attrib["r"]
                        if cell.get("t") == "inlineStr":
                            text = "".join(t.text or "" for t in cell.iter(f"{{{MAIN}}}t"))
                            cell.remove(cell[0])
                            cell.set("t", "s")
                            ET.SubElement(cell, f"{{{MAIN}}}v").text = str(len(strings))
                            strings.append(text)
                content = ET.tostring(root, xml_declaration=True, encoding="UTF-8")
            elif name == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
                    b"</Types>",
                )
            elif name == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rIdStrings" Target="sharedStrings.xml" Type="http://'
                    b"schemas.openxmlformats.org/officeDocument/2006/relationships/"
                    b'sharedStrings"/></Relationships>',
                )
            new.writestr(name, content)
        table = ET.Element(f"{{{MAIN}}}sst")
        for n, text in enumerate(strings):
            item = ET.SubElement(table, f"{{{MAIN}}}si")
            if n == 0 and len(text) > 1:  # rich text: two runs
                for part in (text[:1], text[1:]):
                    ET.SubElement(ET.SubElement(item, f"{{{MAIN}}}r"), f"{{{MAIN}}}t").text = part
            else:
                ET.SubElement(item, f"{{{MAIN}}}t").text = text
        new.writestr("xl/sharedStrings.xml", ET.tostring(table, encoding="UTF-8"))
    return out.getvalue()


def test_xlsx_import_reads_what_openpyxl_reads(source: Actor, target: Actor) -> None:
    data = _as_a_spreadsheet_program_saves_it(export_bytes(source, "xlsx"))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b'<c t="s">' in archive.read("xl/worksheets/sheet1.xml")
        assert archive.read("xl/sharedStrings.xml").count(b"<si>") > 100
    book = load_workbook(io.BytesIO(data), read_only=True)
    reread = xlsx.Workbook(io.BytesIO(data))
    try:
        assert [s.title for s in reread.sheets] == book.sheetnames
        for sheet in reread.sheets:
            expected = [[c.value for c in row] for row in book[sheet.title].iter_rows()]
            got = [row.values for row in reread.rows(sheet)]
            # openpyxl pads every row to the widest one; the reader stops at the last cell.
            got = [
                values + [None] * (len(e) - len(values))
                for values, e in zip(got, expected, strict=True)
            ]
            assert got == expected, sheet.title
    finally:
        reread.close()
        book.close()
    report = run_import(target, data, "xlsx")
    assert report.ok and report.applied, report.errors
    assert catalogue_of(target.organisation) == catalogue_of(source.organisation)


# ---------------------------------------------------------------- the command


def test_command_exports_and_imports(
    source: Actor, target: Actor, tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "catalogue.yaml"
    call_command("catalogue", "export", "--org", "acme", "--format", "yaml", "--out", str(path))
    assert yaml.safe_load(path.read_text())["format"] == "carte-catalogue"

    call_command("catalogue", "import", str(path), "--org", "target", "--dry-run")
    out = capsys.readouterr().out
    assert "services: 3 created, 0 changed, 0 removed" in out
    assert "Dry run: nothing was written." in out
    assert not Service.objects.filter(organisation=target.organisation).exists()

    call_command("catalogue", "import", str(path), "--org", "target")
    captured = capsys.readouterr()
    assert "Imported." in captured.out
    # The job's progress, drawn by rich: its last step, complete.
    assert "100%" in captured.err and "Writing" in captured.err
    assert Service.objects.filter(organisation=target.organisation).count() == 3
    # Each ran as a job of its organisation, started by the system (no user: no page).
    jobs = Job.objects.filter(user=None).order_by("id")
    assert [(j.kind, j.status, j.organisation.slug) for j in jobs] == [
        ("catalogue.export", "done", "acme"),
        ("catalogue.import", "done", "target"),
        ("catalogue.import", "done", "target"),
    ]
    assert jobs[1].params == {"dry_run": True} and not jobs[2].input_file


def test_command_refuses_bad_files_with_exit_code_2(
    source: Actor, target: Actor, tmp_path: Path, capsys: Any
) -> None:
    doc = _document(source)
    _row(doc, "services", code="GOV-1")["currency"] = ""
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(CommandError) as exc:
        call_command("catalogue", "import", str(path), "--org", "target")
    assert exc.value.returncode == 2
    assert "nothing was written" in str(exc.value)
    assert "services, row 1, column currency: A price needs a currency." in capsys.readouterr().err

    for args in (
        ["import", str(tmp_path / "missing.json"), "--org", "target"],
        ["import", str(path), "--org", "nowhere"],
    ):
        with pytest.raises(CommandError) as exc:
            call_command("catalogue", *args)
        assert exc.value.returncode == 2


def test_cli_main_exits_with_2_on_a_refusal(target: Actor, tmp_path: Path) -> None:
    from carte.cli import main

    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(SystemExit) as exc:
        main(["catalogue", "import", str(path), "--org", "target"])
    assert exc.value.code == 2


@pytest.mark.django_db
def test_it_refreshes_planner_statistics_after_an_import_on_postgresql(org, director):
    """Fresh rows leave PostgreSQL's planner blind until autovacuum; the import analyses."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from carte.catalogue.transfer import export, importer

    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE is a PostgreSQL statement")
    category = services.category_create(actor=director.actor, name="Reporting")
    services.service_create(
        actor=director.actor, code="REP-01", name="Reporting", category=category
    )
    data = export.export_bytes(director.actor, "json")
    with CaptureQueriesContext(connection) as ctx:
        report = importer.import_catalogue(director.actor, io.BytesIO(data), name="c.json")
    assert report.applied
    assert any(q["sql"].startswith('ANALYZE "catalogue_service"') for q in ctx.captured_queries)
