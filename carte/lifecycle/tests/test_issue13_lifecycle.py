"""Issue 13, defects 10, 11 and 13, as a new user meets them on the lifecycle pages:
signing off (each unmet item said in the negative, linked to the one place to fix it, a
confirmation ticked where it is, the button disabled with its reason while items are
unmet); the set-up decision (a Service Manager asked only beside a ticked PMO, Owners
only among the staff, an error summary at the top); the board (the services due for
closure named, those stuck in a stage flagged) and the service's tab bar kept."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.catalogue.tests.factories import ServiceFactory
from carte.core.errors import DomainError
from carte.core.testing import no_writes
from carte.lifecycle import models
from carte.lifecycle.choices import CriterionResultKind
from carte.lifecycle.tests.conftest import World
from carte.organisations.tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def url(name: str, world: World, *args: Any, service: Service | None = None) -> str:
    return reverse(f"lifecycle:{name}", args=[world.org.slug, (service or world.service).pk, *args])


def move_url(world: World, move: str) -> str:
    return url("move", world, move)


def html(response: Any) -> str:
    return str(response.content.decode())


def stage_of(world: World) -> str:
    return str(Service.objects.values_list("stage", flat=True).get(pk=world.service.pk))


def element(page: str, testid: str) -> str:
    """The opening tag of the element with this data-testid."""
    match = re.search(rf'<[^>]*data-testid="{re.escape(testid)}"[^>]*>', page)
    assert match, f"no element {testid!r}"
    return match.group(0)


def pilot_awaiting_outcomes(world: World) -> models.PilotIteration:
    """A pilot whose result is recorded, every criterion met, but the expected outcomes
    not yet validated."""
    world.walk(Stage.PILOT)
    world.record_pilot(outcomes=False)
    pilot = models.PilotIteration.objects.get(service=world.service)
    assert not pilot.outcomes_validated
    return pilot


# ---------------------------------------------------------------- 10. signing off


def test_an_unmet_item_says_what_is_missing_and_links_to_where_it_is_ticked(
    world: World,
) -> None:
    pilot_awaiting_outcomes(world)
    page = html(world.owner.client.get(url("service", world)))
    sign_off = page[page.index('data-testid="move-sign_off"') :]
    assert (
        f'<a href="{url("service", world)}#pilot-confirmations">'
        "Expected outcomes are not validated yet</a>" in sign_off
    )
    # What is met is said as it stands, with no link.
    assert "Resources are confirmed" in sign_off
    assert 'id="pilot-confirmations"' in page


def test_a_refused_sign_off_says_what_is_missing_in_the_negative(world: World) -> None:
    pilot_awaiting_outcomes(world)
    with no_writes(world.service):
        response = world.owner.client.post(move_url(world, "sign_off"), {"expected_from": "pilot"})
    assert response.status_code == 409
    page = html(response)
    assert "Sign off is not possible yet: expected outcomes are not validated yet." in page
    assert "not possible yet: expected outcomes are validated" not in page
    api = world.owner.api.post(
        f"/api/v1/orgs/{world.org.slug}/services/{world.service.pk}/transitions",
        {"to": "signed_off", "expected_from": "pilot"},
    )
    assert api.status_code == 409
    body = api.json()
    assert "expected outcomes are not validated yet" in body["detail"]
    assert [u["label"] for u in body["unmet"]] == ["Expected outcomes are not validated yet"]
    assert stage_of(world) == Stage.PILOT


def test_the_sign_off_button_is_disabled_with_its_reason_while_items_are_unmet(
    world: World,
) -> None:
    pilot_awaiting_outcomes(world)
    client = world.owner.client
    page = html(client.get(url("service", world)))
    button = element(page, "button-sign_off")
    assert 'aria-disabled="true"' in button and "href=" not in button
    reason = re.search(r'aria-describedby="([^"]+)"', button)
    assert reason
    assert re.search(rf'id="{reason.group(1)}"[^>]*>Not possible yet: 1 item still missing', page)

    form = html(client.get(move_url(world, "sign_off")))
    submit = re.search(
        r'<button type="submit" class="btn btn-primary"[^>]*>Sign off</button>', form
    )
    assert submit and "disabled" in submit.group(0) and 'aria-disabled="true"' in submit.group(0)
    assert 'id="submit-why"' in form and "1 item still missing" in form

    # Confirmed, the button is a link to the sign-off again.
    world.record_pilot()
    page = html(client.get(url("service", world)))
    button = element(page, "button-sign_off")
    assert f'href="{move_url(world, "sign_off")}"' in button
    assert "aria-disabled" not in button


def test_a_criterion_the_owner_may_waive_in_the_form_does_not_disable_the_sign_off(
    world: World,
) -> None:
    world.walk(Stage.PILOT)
    world.record_pilot(result=CriterionResultKind.NOT_MET)
    page = html(world.owner.client.get(url("service", world)))
    assert "Criterion not met nor waived yet" in page
    button = element(page, "button-sign_off")
    assert f'href="{move_url(world, "sign_off")}"' in button


def test_a_confirmation_is_ticked_where_it_is_shown_without_recording_the_result_again(
    world: World,
) -> None:
    pilot = pilot_awaiting_outcomes(world)
    recorded_at = pilot.result_at
    results = list(models.CriterionResult.objects.filter(pilot=pilot).values("id", "result"))
    client = world.manager.client
    confirm = url("pilot_confirm", world)
    page = html(client.get(url("service", world)))
    # In the sign-off's checklist itself, and beside the pilot's result.
    assert f'action="{confirm}"' in page
    assert 'data-testid="confirm-outcomes"' in page
    response = client.post(confirm, {"confirmation": "outcomes", "confirmed": "1", "back": "next"})
    assert response.status_code == 302
    assert response["Location"] == url("service", world) + "#next"
    pilot.refresh_from_db()
    assert pilot.outcomes_validated and pilot.result_at == recorded_at
    after = list(models.CriterionResult.objects.filter(pilot=pilot).values("id", "result"))
    assert after == results
    assert models.LifecycleEvent.objects.filter(
        service=world.service, title="Pilot 1: Expected outcomes are validated"
    ).exists()
    page = html(world.owner.client.get(url("service", world)))
    assert "aria-disabled" not in element(page, "button-sign_off")

    # From the sign-off form, back to it; withdrawn beside the pilot.
    response = client.post(
        confirm, {"confirmation": "outcomes", "confirmed": "0", "back": "sign_off"}
    )
    assert response["Location"] == move_url(world, "sign_off")
    pilot.refresh_from_db()
    assert not pilot.outcomes_validated


def test_only_those_who_manage_the_service_tick_a_confirmation(world: World) -> None:
    pilot = pilot_awaiting_outcomes(world)
    with no_writes(pilot):
        response = world.staff.client.post(
            url("pilot_confirm", world), {"confirmation": "outcomes", "confirmed": "1"}
        )
    assert response.status_code == 403
    assert 'data-testid="confirm-outcomes"' not in html(
        world.staff.client.get(url("service", world))
    )
    with no_writes(pilot):
        response = world.manager.client.post(
            url("pilot_confirm", world), {"confirmation": "nonsense"}, follow=True
        )
    assert "No such confirmation" in html(response)


# ---------------------------------------------------------------- 11. the set-up decision


def decision_post(world: World, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "expected_from": "proposed",
        "delivering_pmos": [world.pmo.pk],
        "owner": world.owner_person.pk,
        f"manager_{world.pmo.pk}": world.manager_person.pk,
        "sourcing": "in_house",
        "strategy_fit": "Supports objective 2.",
        "capacity": "Two analysts free from March.",
        "other_services": "Reporting and gate reviews.",
        "stakeholders": "Programme directors asked for it.",
        "scope": "All programmes over 1 M EUR.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_a_service_manager_is_asked_beside_each_pmo_and_only_of_those_ticked(
    world: World,
) -> None:
    page = html(world.director.client.get(move_url(world, "approve")))
    blocks = re.findall(r'<div class="decision-pmo.*?</select>', page, re.S)
    for pmo in (world.pmo, world.coe):
        mine = [b for b in blocks if f'value="{pmo.pk}"' in b and f'name="manager_{pmo.pk}"' in b]
        assert len(mine) == 1, f"the manager of {pmo.name} is not beside its checkbox"
    # Only the ticked PMO needs its manager: the Centre of Excellence is left alone.
    response = world.director.client.post(move_url(world, "approve"), decision_post(world))
    assert response.status_code == 302
    assert stage_of(world) == Stage.APPROVED_FOR_SETUP


def test_the_owner_is_chosen_among_the_staff_only(world: World) -> None:
    customer = PersonFactory(
        organisation=world.org, name="Cora Customer", customer_group=world.group
    )
    contractor = PersonFactory(
        organisation=world.org, name="Conrad Contractor", provider="Meridian"
    )
    page = html(world.director.client.get(move_url(world, "approve")))
    owner = re.search(r'<select name="owner".*?</select>', page, re.S)
    assert owner
    assert "Olive Owner" in owner.group(0)
    assert "Cora Customer" not in owner.group(0) and "Conrad Contractor" not in owner.group(0)
    manager = re.search(rf'<select name="manager_{world.pmo.pk}".*?</select>', page, re.S)
    assert manager and "Cora Customer" not in manager.group(0)

    with no_writes(world.service):
        response = world.director.client.post(
            move_url(world, "approve"), decision_post(world, owner=contractor.pk)
        )
    assert response.status_code == 422
    # The service refuses them too, whatever the caller.
    for person in (customer, contractor):
        with pytest.raises(DomainError) as refused:
            world.move(Stage.APPROVED_FOR_SETUP, world.director, **world.decision(owner=person))
        assert "owner" in refused.value.errors
    with pytest.raises(DomainError) as refused:
        world.move(
            Stage.APPROVED_FOR_SETUP,
            world.director,
            **world.decision(managers={world.pmo: customer}),
        )
    assert "managers" in refused.value.errors
    assert stage_of(world) == Stage.PROPOSED


def test_the_decision_form_summarises_its_errors_at_the_top(world: World) -> None:
    response = world.director.client.post(
        move_url(world, "approve"),
        decision_post(world, owner=None, sourcing=None, **{f"manager_{world.pmo.pk}": None}),
    )
    assert response.status_code == 422
    page = html(response)
    summary = re.search(
        r'<section class="alert alert-danger error-summary".*?</section>', page, re.S
    )
    assert summary, "no error summary"
    text = summary.group(0)
    assert '<a href="#id_owner">Service Owner</a>' in text
    assert '<a href="#id_sourcing">Sourcing</a>' in text
    assert f'<a href="#id_manager_{world.pmo.pk}">Service Manager for {world.pmo.name}</a>' in text
    # Above every field of the form.
    assert page.index("error-summary") < page.index('name="delivering_pmos"')


def test_a_core_form_page_summarises_its_errors_at_the_top(world: World) -> None:
    response = world.director.client.post(reverse("pmo_create", args=[world.org.slug]), {})
    assert response.status_code == 422
    page = html(response)
    assert 'data-testid="error-summary"' in page
    assert '<a href="#id_name">' in page
    assert page.index("error-summary") < page.index('name="name"')


# ---------------------------------------------------------------- 13. the board and the tabs


def board(world: World) -> str:
    return html(world.director.client.get(reverse("lifecycle:board", args=[world.org.slug])))


def test_due_for_closure_names_each_service_with_a_link(world: World) -> None:
    world.walk(Stage.RUNNING)
    Service.objects.filter(pk=world.service.pk).update(
        is_temporary=True, end_date=timezone.localdate() - dt.timedelta(days=3)
    )
    page = board(world)
    status = re.search(r'data-testid="board-total".*?</p>', page, re.S)
    assert status
    assert "1 due for closure" in status.group(0)
    assert f'<a href="{url("service", world)}">REP Portfolio reporting</a>' in status.group(0)


@override_settings(CARTE_STUCK_DAYS=30)
def test_a_service_long_in_a_passing_stage_is_flagged(world: World) -> None:
    world.walk(Stage.DESIGN)
    long_ago = timezone.now() - dt.timedelta(days=45, hours=1)
    Service.objects.filter(pk=world.service.pk)._move_stage(Stage.DESIGN, long_ago)
    resting = ServiceFactory(organisation=world.org, code="OLD", name="Old running service")
    Service.objects.filter(pk=resting.pk)._move_stage(Stage.RUNNING, long_ago)
    fresh = ServiceFactory(organisation=world.org, code="NEW", name="New proposal")
    page = board(world)
    design = page[page.index('data-testid="column-design"') :]
    design = design[: design.index("</section>")]
    assert 'data-stuck="true"' in design
    assert "In this stage for 45 days" in design
    running = page[page.index('data-testid="column-running"') :]
    running = running[: running.index("</section>")]
    assert "Old running service" in running and 'data-stuck="true"' not in running
    proposed = page[page.index('data-testid="column-proposed"') :]
    proposed = proposed[: proposed.index("</section>")]
    assert fresh.name in proposed and 'data-stuck="true"' not in proposed
    assert "over 30 days" in page


def test_the_lifecycle_page_keeps_the_service_tab_bar(world: World) -> None:
    page = html(world.manager.client.get(url("service", world)))
    nav = re.search(r'<nav aria-label="Service sections">.*?</nav>', page, re.S)
    assert nav, "the Lifecycle page has no tab bar"
    detail = reverse("service_detail", args=[world.org.slug, world.service.pk])
    tabs = nav.group(0)
    assert f'href="{detail}?tab=roles"' in tabs and f'href="{detail}"' in tabs
    assert re.search(r'class="nav-link active" href="[^"]+"\s*aria-current="page">Lifecycle', tabs)
    # The catalogue page draws the same bar, its own tab current.
    roles = html(world.manager.client.get(detail, {"tab": "roles"}))
    assert re.search(r'class="nav-link active" href="\?tab=roles" aria-current="page">Roles', roles)
    assert f'href="{url("service", world)}">Lifecycle</a>' in roles
