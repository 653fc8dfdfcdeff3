"""The data migration that turned a need's free-text competence into a competence of the
organisation's framework (catalogue 0006): every text kept, one competence per distinct
text and organisation, and back again."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

BEFORE = [("catalogue", "0005_alter_competenceneed_level")]
AFTER = [("catalogue", "0006_competenceneed_framework_competence")]
# The framework the step fills, which the catalogue before it did not depend on.
FRAMEWORK = ("organisations", "0002_competence_framework")


def _migrate(targets: list[tuple[str, str]]) -> StateApps:
    """The catalogue migrated to `targets`, and the models as they are then."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state([*targets, FRAMEWORK]).apps


@pytest.fixture
def at_0005(transactional_db: None) -> Iterator[StateApps]:
    """The models as they were before the step; the schema is brought back to the latest
    state afterwards, whatever the test did."""
    try:
        yield _migrate(BEFORE)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())


def _world(apps: StateApps) -> dict[str, Any]:
    """Two organisations with services and needs typed as text, and a framework that
    already holds one of the competences (and an archived one of another name)."""
    Organisation = apps.get_model("organisations", "Organisation")
    Competence = apps.get_model("organisations", "Competence")
    Category = apps.get_model("catalogue", "Category")
    Service = apps.get_model("catalogue", "Service")
    Need = apps.get_model("catalogue", "CompetenceNeed")
    acme = Organisation.objects.create(name="Acme", slug="acme")
    globex = Organisation.objects.create(name="Globex", slug="globex")
    existing = Competence.objects.create(organisation=acme, name="Risk management")
    archived = Competence.objects.create(
        organisation=acme, name="Facilitation", archived_at="2026-01-01T00:00:00Z"
    )

    def service(org: Any, code: str) -> Any:
        category, _ = Category.objects.get_or_create(organisation=org, name="General")
        return Service.objects.create(
            organisation=org, category=category, code=code, name=code, stage="running"
        )

    a1, a2, g1 = service(acme, "A-1"), service(acme, "A-2"), service(globex, "G-1")
    texts = [
        (a1, "Planning and scheduling", 3, "0.50", None),
        (a2, " planning AND scheduling ", 2, "1.00", None),  # the same, spelt otherwise
        (a1, "risk MANAGEMENT", 4, "0.25", None),  # already in the framework
        (a2, "Facilitation", 2, "0.10", None),  # only an archived one of that name
        (a2, "Coaching", 1, "0.20", "2026-02-01T00:00:00Z"),  # an archived need
        (g1, "Planning and scheduling", 5, "2.00", None),  # another organisation's
    ]
    needs = [
        Need.objects.create(
            organisation=s.organisation,
            service=s,
            competence=text,
            level=level,
            fte=Decimal(fte),
            archived_at=archived_at,
        )
        for s, text, level, fte, archived_at in texts
    ]
    return {
        "acme": acme,
        "globex": globex,
        "existing": existing,
        "archived": archived,
        "needs": needs,
        "texts": texts,
    }


def test_it_makes_one_competence_per_distinct_text_and_keeps_every_need(at_0005):
    w = _world(at_0005)
    apps = _migrate(AFTER)
    Competence = apps.get_model("organisations", "Competence")
    Need = apps.get_model("catalogue", "CompetenceNeed")

    acme = {
        c.name: c for c in Competence.objects.filter(organisation_id=w["acme"].pk, archived_at=None)
    }
    # The first spelling met is kept; the live competence already there is reused; the
    # archived one is left alone and a live one made.
    assert set(acme) == {"Risk management", "Planning and scheduling", "Facilitation", "Coaching"}
    assert acme["Risk management"].pk == w["existing"].pk
    assert acme["Facilitation"].pk != w["archived"].pk
    globex = Competence.objects.filter(organisation_id=w["globex"].pk)
    assert [c.name for c in globex] == ["Planning and scheduling"]

    by_id = {n.pk: n for n in Need.objects.select_related("competence")}
    assert len(by_id) == len(w["needs"])
    for old, (service, text, level, fte, archived_at) in zip(w["needs"], w["texts"], strict=True):
        need = by_id[old.pk]
        assert need.competence.organisation_id == service.organisation_id
        assert need.competence.name.lower() == " ".join(text.split()).lower()
        assert (need.level, need.fte, need.service_id) == (level, Decimal(fte), service.pk)
        assert (need.archived_at is None) == (archived_at is None)
    a1_planning, a2_planning = by_id[w["needs"][0].pk], by_id[w["needs"][1].pk]
    assert a1_planning.competence_id == a2_planning.competence_id
    assert by_id[w["needs"][5].pk].competence_id != a1_planning.competence_id


def test_going_back_writes_each_competence_name_into_the_text(at_0005):
    w = _world(at_0005)
    _migrate(AFTER)
    apps = _migrate(BEFORE)
    Need = apps.get_model("catalogue", "CompetenceNeed")

    texts = dict(Need.objects.values_list("pk", "competence"))
    assert texts == {
        w["needs"][0].pk: "Planning and scheduling",
        w["needs"][1].pk: "Planning and scheduling",
        w["needs"][2].pk: "Risk management",
        w["needs"][3].pk: "Facilitation",
        w["needs"][4].pk: "Coaching",
        w["needs"][5].pk: "Planning and scheduling",
    }
