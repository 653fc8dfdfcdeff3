"""The API holds under property-based fuzzing (issue 12): every operation of the OpenAPI
document, with valid and invalid data generated from its schema by schemathesis, answers
without a 5xx, with a status it documents, a body matching the documented schema, and
problem+json on every error.

The demo organisation `northwind` gives the requests real rows to hit; the seed is fixed
and each operation gets a bounded number of examples, so the run is repeatable and takes
a few minutes. `python -m bench.fuzz` is the long run (bench/README.md, "Fuzzing").
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.fuzz import SEED, Fuzzer, Ids, Persona, Report, load_schema
from carte.organisations import services
from carte.organisations.models import Organisation, User

ORG = "northwind"

# One worker runs the module, so the demo is loaded once for all its tests.
pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("api-fuzz")]


@pytest.fixture(scope="module")
def schema() -> Any:
    return load_schema()


def _fuzz(schema: Any, role: str, *, requests: int, examples: int) -> Report:
    """A pass as the demo login of `role`, with a token of its own; the personas'
    memberships are never the ids of a generated request (the pass would lock itself
    out)."""
    user = User.objects.get(email=f"{role}@{ORG}.example")
    _, raw = services.token_create(user=user, name="fuzz")
    ids = Ids()
    ids.protected["members"] = set(
        user.memberships.filter(organisation__slug=ORG).values_list("pk", flat=True)
    )
    fuzzer = Fuzzer(schema, Persona(role, ORG, raw), ids)
    fuzzer.harvest(limit=4)
    return fuzzer.run(requests=requests, examples=examples, seed=SEED)


def _assert_clean(report: Report, at_least: int) -> None:
    # (`report.not_generated` names the few operations with nothing to make invalid, such
    # as a GET whose only parameter is the organisation: not a failure.)
    assert report.requests >= at_least
    assert not report.findings, report.summary()


def test_an_administrator_breaks_nothing(demo: dict[str, Organisation], schema: Any) -> None:
    """The main pass: every right, so every operation reaches its validation and its
    domain rules, with valid and invalid bodies, queries and ids."""
    report = _fuzz(schema, "admin", requests=6000, examples=12)
    # A quarter or more succeed: the ids name real rows, so the domain rules are reached.
    assert report.statuses[200] + report.statuses[201] > report.requests // 4
    _assert_clean(report, 5000)


@pytest.mark.parametrize("role", ["viewer", "customer"])
def test_a_lower_role_breaks_nothing(demo: dict[str, Organisation], schema: Any, role: str) -> None:
    """A short pass for the roles that are refused most: refusals are documented
    problems too."""
    report = _fuzz(schema, role, requests=800, examples=2)
    assert report.statuses[403] > 0
    _assert_clean(report, 400)
