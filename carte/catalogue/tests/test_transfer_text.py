"""The text policy (`core.text`) on the catalogue's import: a refused character or a text
over the ceiling is the cell's problem (table, row, column), nothing is written; line
breaks are read as the database keeps them, so a text with "\\r" goes round an .xlsx
export and import unchanged, and an unchanged file imports as no change."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from carte.catalogue.models import Service
from carte.catalogue.tests.test_transfer import build_catalogue, problems, run_import
from carte.catalogue.transfer.export import export_bytes
from carte.core.testing import no_writes
from carte.core.text import LONG_TEXT
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation


@pytest.fixture
def source(org: Organisation) -> Actor:
    return build_catalogue(org)


def _doc(actor: Actor) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(export_bytes(actor, "json"))
    return doc


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("Weekly\x00 status", "U+0000"),
        ("Weekly\x0b status", "U+000B"),
        ("Weekly \ud800", "U+D800"),
        ("x" * (LONG_TEXT + 1), "At most 20,000 characters"),
    ],
)
def test_a_refused_text_is_the_cells_problem_and_nothing_is_written(
    source: Actor, value: str, says: str
) -> None:
    doc = copy.deepcopy(_doc(source))
    doc["tables"]["services"][0]["description"] = value
    data = json.dumps(doc).encode()
    with no_writes():
        report = run_import(source, data, "json")
    assert not report.ok
    assert problems(report) == [("services", 1, "description")]
    assert says in report.errors[0].message


@pytest.mark.parametrize("fmt", ["xlsx", "csv", "json"])
def test_line_breaks_go_round_unchanged(source: Actor, fmt: str) -> None:
    service = Service.objects.filter(organisation=source.organisation).order_by("code").first()
    assert service is not None
    doc = copy.deepcopy(_doc(source))
    row = next(r for r in doc["tables"]["services"] if r["code"] == service.code)
    row["description"] = "First line\r\nsecond line\rthird line"
    assert run_import(source, json.dumps(doc).encode(), "json").ok
    service.refresh_from_db()
    assert service.description == "First line\nsecond line\nthird line"
    exported = export_bytes(source, fmt)
    with no_writes():
        again = run_import(source, exported, fmt)
    assert again.ok and again.counts() == {}, again.errors
