"""The demo catalogues are data in the catalogue's own export format
(`carte/catalogue/demo/<slug>.yaml`), loaded through the importer: each file imports
cleanly, and reads as an export of what it loads, so it stays what the export writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from carte.catalogue.demo import demo_file, load_catalogue_demo
from carte.catalogue.models import Service
from carte.catalogue.transfer.export import export_bytes
from carte.catalogue.transfer.importer import import_catalogue
from carte.organisations.actor import Actor
from carte.organisations.demo import DEMO_SLUGS, load_organisations_demo
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def organisations(db: None) -> dict[str, Organisation]:
    """The demo organisations alone: the people, PMOs and groups the files name."""
    return {org.slug: org for org in load_organisations_demo()}


def _file(slug: str) -> Path:
    path = demo_file(slug)
    assert path is not None, f"no demo catalogue for {slug}"
    return path


def _document(slug: str) -> dict[str, Any]:
    document = yaml.safe_load(_file(slug).read_text())
    assert isinstance(document, dict)
    return document


def test_it_has_a_catalogue_file_for_each_demo_organisation() -> None:
    assert {slug for slug in DEMO_SLUGS if demo_file(slug)} == set(DEMO_SLUGS)
    assert demo_file("acme") is None


def test_each_file_imports_cleanly_in_a_dry_run(organisations: dict[str, Organisation]) -> None:
    for slug, org in organisations.items():
        tables = _document(slug)["tables"]

        report = import_catalogue(Actor.for_system(org), _file(slug), dry_run=True)

        assert report.errors == [], slug
        assert report.counts() == {
            table: {"created": len(rows), "changed": 0, "removed": 0}
            for table, rows in tables.items()
            if rows
        }, slug
        assert not Service.objects.filter(organisation=org).exists()


def test_each_file_is_what_an_export_of_it_writes(organisations: dict[str, Organisation]) -> None:
    for slug, org in organisations.items():
        actor = Actor.for_system(org)
        document = _document(slug)

        by_code = load_catalogue_demo(actor=actor)

        assert list(by_code) == [row["code"] for row in document["tables"]["services"]]
        assert all(s.organisation_id == org.pk for s in by_code.values())
        assert yaml.safe_load(export_bytes(actor, "yaml")) == document, slug


def test_an_organisation_without_a_file_gets_no_catalogue(
    org: Organisation,
) -> None:
    assert load_catalogue_demo(actor=Actor.for_system(org)) == {}
    assert not Service.objects.filter(organisation=org).exists()
