"""The catalogue bench works, and its pages and API cost the same queries at two sizes.

Timings are reported but never asserted: they depend on the machine.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.catalogue import (
    GRAPH_TARGET_MS,
    IMPORT_SLUG,
    PAGE_TARGET_MS,
    SEARCH_TARGET_MS,
    SIPOC_ROWS,
    SLUG,
    TRANSFER_TARGET_S,
    run_catalogue,
    seed_catalogue,
)
from carte.catalogue.models import Service
from carte.organisations.models import Organisation


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Seeding hashes one password; the default hasher would spend most of the test on it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _queries(report: dict[str, Any]) -> dict[str, int]:
    return {r["name"]: r["queries"] for r in report["results"]}


@pytest.mark.django_db
def test_catalogue_report_shape_and_equal_queries_at_two_sizes() -> None:
    """Every endpoint answers 200, the transfer round-trips, and 5 or 15 services cost
    the same number of queries per request."""
    lines: list[str] = []
    seed_catalogue(5, progress=lines.append)
    small = run_catalogue(requests=2, warmup=1, progress=lines.append)

    assert small["scale"]["services"] == 5
    assert small["scale"]["running"] == small["scale"]["published"] == 3
    assert small["scale"]["sipoc_rows_per_service"] == SIPOC_ROWS == 20
    assert small["scale"]["inputs_from_other_services"] > 0
    assert set(small) >= {"database", "machine", "targets", "results", "transfer"}
    assert small["targets"] == {
        "page_p95_ms": PAGE_TARGET_MS,
        "search_p95_ms": SEARCH_TARGET_MS,
        "dependency_graph_p95_ms": GRAPH_TARGET_MS,
        "xlsx_export_import_s": TRANSFER_TARGET_S,
    }
    assert [r["name"] for r in small["results"]] == [
        "page catalogue",
        "page search",
        "page service overview",
        "page service sipoc",
        "api services",
        "api search",
        "api dependency-graph",
        "page dependency-graph",
    ]
    for result in small["results"]:
        assert result["status"] == 200
        assert result["requests"] == 2
        assert result["queries"] > 0
        assert result["p50_ms"] <= result["p95_ms"] <= result["max_ms"]
        assert isinstance(result["meets_targets"], bool)
    transfer = {t["name"]: t for t in small["transfer"]}
    assert set(transfer) == {
        "xlsx export",
        "xlsx export (tracemalloc)",
        "xlsx import dry run",
        "xlsx import dry run (tracemalloc)",
        "xlsx import",
    }
    assert transfer["xlsx export"]["bytes"] > 0
    assert transfer["xlsx export (tracemalloc)"]["tracemalloc_peak_mb"] > 0
    assert transfer["xlsx import"]["services_imported"] == 5
    assert not Organisation.objects.filter(slug=IMPORT_SLUG).exists()  # cleaned up
    assert isinstance(small["meets_targets"], bool)

    seed_catalogue(15)  # replaces the 5
    big = run_catalogue(requests=2, warmup=1, skip_transfer=True)

    assert Service.objects.filter(organisation__slug=SLUG).count() == 15
    assert big["transfer"] == []
    assert _queries(big) == _queries(small)
