"""A person's page (organisations) links to their capacity page through the person-links
slot capacity fills (`core.slots`): only for those who may open it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carte.capacity.tests.records_setup import Cap, build
from carte.conftest import Persona
from carte.organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def cap(org: Organisation, other_org: Organisation, outsider: Persona) -> Cap:
    return build(org, other_org, outsider)


def test_a_persons_page_links_to_their_capacity_for_those_who_may_open_it(cap: Cap) -> None:
    slug = cap.org.slug
    person_page = reverse("person_detail", args=[slug, cap.alice_person.pk])
    capacity_page = reverse("capacity:person", args=[slug, cap.alice_person.pk])
    # The Director, Alice herself and the Manager of the service she works on see the link,
    # and the page it leads to opens for them.
    for who in (cap.director, cap.alice, cap.manager):
        page = who.client.get(person_page).content.decode()
        assert capacity_page in page, who.user.email
        assert who.client.get(capacity_page).status_code == 200
    # Bob (no relation to Alice's services) and the viewer read the person, not the link.
    for who in (cap.bob, cap.viewer):
        response = who.client.get(person_page)
        assert response.status_code == 200
        assert capacity_page not in response.content.decode()
        assert who.client.get(capacity_page).status_code == 404


def test_the_set_up_decision_shows_whether_the_proposal_fits_capacity(cap: Cap) -> None:
    from decimal import Decimal

    from carte.capacity.tests.factories import AssessmentFactory, AvailabilityFactory
    from carte.catalogue.tests.factories import CompetenceNeedFactory, ServiceFactory

    slug = cap.org.slug

    def decision(service_pk: int) -> str:
        page = reverse("lifecycle:move", args=[slug, service_pk, "approve"])
        response = cap.director.client.get(page)
        assert response.status_code == 200
        html = response.content.decode()
        return html[html.index('data-testid="decision-fact"') :].split("</section>", 1)[0]

    # Nobody is assessed at authority in risk management: the proposal cannot fit.
    hard = ServiceFactory(organisation=cap.org, code="NEW-1", name="Risk clinic")
    CompetenceNeedFactory(service=hard, competence=cap.risk, level=5, fte=Decimal("0.5"))
    fact = decision(hard.pk)
    assert "Does not fit in 12 of the next 12 months" in fact
    assert "Risk management: short by up to 0.50 FTE" in fact
    assert f"/capacity/fit/?service={hard.pk}" in fact
    # Alice has a contract, the competence and time nothing running needs: a small need fits.
    AvailabilityFactory(person=cap.alice_person, contracted_fte=Decimal("1"))
    AssessmentFactory(person=cap.alice_person, competence=cap.finance, level=4)
    AvailabilityFactory(person=cap.bob_person, contracted_fte=Decimal("1"))
    AssessmentFactory(person=cap.bob_person, competence=cap.finance, level=4)
    easy = ServiceFactory(organisation=cap.org, code="NEW-2", name="Cost clinic")
    CompetenceNeedFactory(service=easy, competence=cap.finance, level=3, fte=Decimal("0.2"))
    assert "Fits in each of the next 12 months" in decision(easy.pk)
    # A proposal without needs says so instead of pretending it fits.
    bare = ServiceFactory(organisation=cap.org, code="NEW-3", name="Bare")
    assert "names no competence needs yet" in decision(bare.pk)


def test_a_pmo_manager_finds_self_assessments_to_confirm_in_my_work(cap: Cap) -> None:
    from carte.capacity import services

    services.assessment_create(
        actor=cap.alice.actor,
        person=cap.alice_person,
        data={"competence": cap.finance, "level": 3, "assessed_on": "2026-11-02"},
    )
    my_work = reverse("my_work", args=[cap.org.slug])
    page = cap.pmo_manager.client.get(my_work).content.decode()
    assert "Confirm Alice Analyst&#x27;s self-assessment" in page
    assert reverse("capacity:person", args=[cap.org.slug, cap.alice_person.pk]) in page
    # Alice herself, and staff who keep nobody's records, have nothing to confirm.
    for who in (cap.alice, cap.bob):
        assert "self-assessment" not in who.client.get(my_work).content.decode()
