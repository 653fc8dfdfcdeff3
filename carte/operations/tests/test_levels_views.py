"""The service-level pages: the section on the Operations tab, the target form (in place
with htmx and as a page), archive and restore, the breaches list; rights, tenancy and
bounded queries."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from carte.catalogue.models import Service
from carte.conftest import Persona
from carte.core.clock import as_of
from carte.core.testing import assert_constant_queries, no_writes
from carte.operations.models import ServiceLevelTarget
from carte.operations.tests.conftest import Ops
from carte.operations.tests.factories import KPIFactory
from carte.operations.tests.test_levels_services import MOMENT, kpi_with_values, make_target
from carte.organisations.tests.factories import CustomerGroupFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def url(name: str, ops: Ops, *args: Any) -> str:
    return reverse(f"operations:{name}", args=[ops.org.slug, ops.service.pk, *args])


def breaches_url(ops: Ops) -> str:
    return reverse("operations:level_breaches", args=[ops.org.slug])


def html(response: Any) -> str:
    return str(response.content.decode())


def field_error(response: Any, name: str) -> str | None:
    match = re.search(
        rf'<div class="invalid-feedback[^"]*" id="id_{re.escape(name)}_error"[^>]*>([^<]*)</div>',
        html(response),
    )
    return match.group(1).strip() if match else None


def form_data(ops: Ops, kpi: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "customer_group": ops.group.pk,
        "kpi": kpi.pk,
        "level": "",
        "statement": "Status pack delivered within 5 working days of month end",
        "target": "95",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------- the section


def test_the_tab_shows_attainment_by_customer_group(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "96", "2026-02-01": "94", "2026-03-01": "97"})
    target = make_target(ops, kpi, statement="Status pack on time for finance")
    with as_of(MOMENT):
        response = ops.owner.client.get(url("service", ops))
    page = html(response)
    assert response.status_code == 200
    assert "Status pack on time for finance" in page
    assert "Finance programmes" in page
    # Jan met, Feb missed, Mar met, Apr not reported (overdue): 2 of 4.
    share = re.search(rf'data-testid="share-{target.pk}">([^<]*)<', page)
    assert share is not None and share.group(1) == "50%"
    assert "Feb 2026: Missed (94%)" in page
    assert "Apr 2026: No report" in page
    assert 'data-testid="recent-breaches"' in page
    assert url("level_target_update", ops, target.pk) in page  # the Owner may edit


def test_staff_without_a_role_see_the_levels_but_cannot_change_them(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "96"})
    target = make_target(ops, kpi)
    response = ops.staff.client.get(url("service", ops))
    assert response.status_code == 200
    assert target.statement in html(response)
    assert url("level_target_update", ops, target.pk) not in html(response)
    assert url("level_target_create", ops) not in html(response)
    for persona in (ops.staff, ops.viewer, ops.operative):
        with no_writes(target):
            assert persona.client.get(url("level_target_create", ops)).status_code == 403
            assert (
                persona.client.post(
                    url("level_target_create", ops), form_data(ops, kpi)
                ).status_code
                == 403
            )
            assert (
                persona.client.post(url("level_target_archive", ops, target.pk)).status_code == 403
            )


def test_customers_cannot_see_the_forms_or_the_breaches(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    target = make_target(ops, kpi)
    client = ops.customer.client
    assert client.get(url("service", ops)).status_code == 403
    assert client.get(url("level_target_create", ops)).status_code == 403
    assert client.get(url("level_target_update", ops, target.pk)).status_code == 403
    assert client.get(breaches_url(ops)).status_code == 403
    # A service the customer cannot see at all is not revealed.
    Service.objects.filter(pk=ops.other_service.pk).update(current_version=None)
    hidden = reverse("operations:service", args=[ops.org.slug, ops.other_service.pk])
    assert client.get(hidden).status_code == 404


# ---------------------------------------------------------------- the form


def test_the_manager_adds_a_service_level_in_place(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service, name="Packs on time")
    form = ops.manager.client.get(url("level_target_create", ops), headers=HTMX)
    assert form.status_code == 200
    assert "Finance programmes" in html(form) and "Packs on time" in html(form)
    assert "<html" not in html(form)
    response = ops.manager.client.post(
        url("level_target_create", ops), form_data(ops, kpi, level=ops.level.pk), headers=HTMX
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == url("service", ops)
    target = ServiceLevelTarget.objects.get()
    assert (target.kpi, target.level, target.target) == (kpi, ops.level, Decimal(95))


def test_a_refusal_is_shown_next_to_its_field_and_nothing_is_written(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service, minimum=Decimal(0), maximum=Decimal(100))
    existing = make_target(ops, kpi)
    response = ops.manager.client.post(url("level_target_create", ops), form_data(ops, kpi))
    assert response.status_code == 422
    assert "already has a target" in (field_error(response, "customer_group") or "")
    with no_writes(existing):
        response = ops.manager.client.post(
            url("level_target_create", ops), form_data(ops, kpi, target="120"), headers=HTMX
        )
    assert response.status_code == 422
    assert "above 100" in (field_error(response, "target") or "")
    assert 'value="Status pack delivered within 5 working days of month end"' in html(response)
    assert ServiceLevelTarget.objects.count() == 1


def test_the_form_offers_only_the_groups_using_the_service(ops: Ops) -> None:
    CustomerGroupFactory(organisation=ops.org, name="HR change")
    kpi = KPIFactory(service=ops.service)
    response = ops.manager.client.get(url("level_target_create", ops))
    assert "HR change" not in html(response)
    outsider_group = CustomerGroupFactory(organisation=ops.org, name="Estates")
    response = ops.manager.client.post(
        url("level_target_create", ops), form_data(ops, kpi, customer_group=outsider_group.pk)
    )
    assert response.status_code == 422
    assert field_error(response, "customer_group")
    assert not ServiceLevelTarget.objects.exists()


def test_the_owner_edits_then_archives_and_restores_a_level(ops: Ops) -> None:
    kpi = KPIFactory(service=ops.service)
    target = make_target(ops, kpi)
    page = ops.owner.client.get(url("level_target_update", ops, target.pk))
    assert page.status_code == 200 and 'value="95"' in html(page)
    response = ops.owner.client.post(
        url("level_target_update", ops, target.pk), form_data(ops, kpi, target="97")
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.target == Decimal(97)
    assert ops.owner.client.get(url("level_target_archive", ops, target.pk)).status_code == 405
    assert ops.owner.client.post(url("level_target_archive", ops, target.pk)).status_code == 302
    target.refresh_from_db()
    assert target.archived_at is not None
    assert f'data-testid="level-target-{target.pk}"' not in html(
        ops.owner.client.get(url("service", ops))
    )
    assert ops.owner.client.post(url("level_target_restore", ops, target.pk)).status_code == 302
    target.refresh_from_db()
    assert target.archived_at is None


# ---------------------------------------------------------------- breaches


def test_the_breaches_list_filters_and_links_to_the_service(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "80", "2026-02-01": "96", "2026-03-01": "70"})
    make_target(ops, kpi, statement="Packs on time for finance")
    response = ops.director.client.get(breaches_url(ops))
    page = html(response)
    assert response.status_code == 200
    assert "2 breaches" in page
    assert page.index("Mar 2026") < page.index("Jan 2026")  # newest first
    assert url("service", ops) + "#levels" in page
    since = ops.director.client.get(breaches_url(ops), {"since": "2026-02-01"}, headers=HTMX)
    assert "1 breach" in html(since) and "Jan 2026" not in html(since)
    assert "<html" not in html(since)
    other = ops.director.client.get(breaches_url(ops), {"service": ops.other_service.pk})
    assert "No breach matches" in html(other)
    bad = ops.director.client.get(breaches_url(ops), {"since": "last week"})
    assert bad.status_code == 200 and "2 breaches" in html(bad)


def test_the_breaches_list_runs_the_same_queries_at_two_sizes(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "80"})
    make_target(ops, kpi)

    def grow() -> None:
        for i in range(8):
            more = kpi_with_values(
                ops, {"2026-01-01": "70", "2026-02-01": "71", "2026-03-01": "72"}, name=f"M{i}"
            )
            make_target(ops, more)

    assert_constant_queries(lambda: ops.director.client.get(breaches_url(ops)), grow)


# ---------------------------------------------------------------- tenancy


def test_another_organisation_gets_404_on_every_levels_page(
    ops: Ops, outsider: Persona, other_org: Any
) -> None:
    from carte.operations.views.levels import urlpatterns

    kpi = KPIFactory(service=ops.service)
    target = make_target(ops, kpi)
    values = {"pk": ops.service.pk, "item": target.pk}
    with no_writes(target):
        for pattern in urlpatterns:
            kwargs = {k: v for k, v in values.items() if k in pattern.pattern.converters}
            for slug in (ops.org.slug, other_org.slug) if kwargs else (ops.org.slug,):
                path = reverse(f"operations:{pattern.name}", kwargs={"org": slug, **kwargs})
                assert outsider.client.get(path).status_code == 404, path
                assert outsider.client.post(path, form_data(ops, kpi)).status_code == 404, path
    assert len(urlpatterns) == 5


def test_dates_are_shown_as_people_name_periods(ops: Ops) -> None:
    kpi = kpi_with_values(ops, {"2026-01-01": "80"})
    make_target(ops, kpi)
    with as_of(dt.datetime(2026, 2, 20, tzinfo=dt.UTC)):
        page = html(ops.director.client.get(url("service", ops)))
    assert "Jan 2026: Missed (80%)" in page


def test_editing_a_level_whose_kpi_was_archived_says_so_on_the_field(ops: Ops) -> None:
    from carte.core.testing import archived

    kpi = KPIFactory(service=ops.service, name="Packs on time")
    target = make_target(ops, kpi)
    archived(kpi)
    page = ops.owner.client.get(url("level_target_update", ops, target.pk))
    assert "Packs on time" in html(page)
    with no_writes(target):
        response = ops.owner.client.post(
            url("level_target_update", ops, target.pk), form_data(ops, kpi, target="90")
        )
    assert response.status_code == 422
    assert "archived" in (field_error(response, "kpi") or "")
