"""Pages and API lists make as many SQL queries for 200 rows as for 10 (no N+1), and the
detail page and its History tab as many for a long history as for a short one."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from carte.core.models import AuditAction, AuditEntry
from carte.core.testing import assert_constant_queries
from carte.organisations.models import PMO, CustomerGroup, Membership, Person
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    MembershipFactory,
    PersonFactory,
    PMOFactory,
)

# A ceiling per request, so a slow creep shows up as well as an N+1.
MAX_QUERIES = 15
# The home page adds what waits for the person (My work: a query or two per kind of work).
HOME_MAX_QUERIES = 20
_serial = itertools.count()


def add_pmos(org, n):
    parent = PMOFactory(organisation=org)
    for pmo in PMOFactory.create_batch(n - 1, organisation=org, parent=parent):
        PersonFactory(organisation=org, pmo=pmo)


def add_people(org, n):
    pmo, group = PMOFactory(organisation=org), CustomerGroupFactory(organisation=org)
    for _ in range(n):
        login = MembershipFactory(organisation=org).user
        PersonFactory(organisation=org, pmo=pmo, customer_group=group, user=login)


def add_groups(org, n):
    for group in CustomerGroupFactory.create_batch(n, organisation=org):
        PersonFactory(organisation=org, customer_group=group)


def add_members(org, n):
    MembershipFactory.create_batch(n, organisation=org, roles=["staff", "viewer"])


def add_audit(org, n, obj=None):
    """Audit entries of several kinds of object (or all of `obj`), with changes to show."""
    objs: list[Any] = (
        [obj] if obj else [PMOFactory(organisation=org), PersonFactory(organisation=org)]
    )
    AuditEntry.objects.bulk_create(
        AuditEntry(
            organisation=org,
            at=timezone.now(),
            actor_label="someone@acme.example",
            action=AuditAction.UPDATE,
            content_type=ContentType.objects.get_for_model(objs[i % len(objs)]),
            object_id=objs[i % len(objs)].pk,
            object_repr=str(objs[i % len(objs)]),
            changes={"name": {"before": f"old {next(_serial)}", "after": "new"}},
        )
        for i in range(n)
    )


def add_everything(org, n):
    add_pmos(org, n)
    add_groups(org, n)
    add_members(org, n)
    add_audit(org, n)


LISTS = {
    # name: (page URL name, API collection or None, model counted, add rows)
    "pmos": ("pmo_list", "pmos", PMO, add_pmos),
    "people": ("person_list", "people", Person, add_people),
    "customer-groups": ("customer_group_list", "customer-groups", CustomerGroup, add_groups),
    "members": ("member_list", "members", Membership, add_members),
    "activity": ("activity", None, AuditEntry, add_audit),
    "home": ("org_home", None, PMO, add_everything),
}


@pytest.mark.parametrize("name", LISTS)
def test_it_renders_a_list_page_in_constant_queries(admin, org, name):
    url_name, _, model, add = LISTS[name]
    add(org, 10)
    url = reverse(url_name, args=[org.slug])

    def request():
        return admin.client.get(url, {"page_size": 200, "status": "all"})

    small, _ = assert_constant_queries(request, lambda: add(org, 190))
    assert small <= (HOME_MAX_QUERIES if name == "home" else MAX_QUERIES)
    assert model._default_manager.filter(organisation=org).count() >= 200
    if url_name.endswith("_list"):
        # Every row was rendered, not just the first page.
        links = re.findall(rf'href="/o/{org.slug}/{name}/\d+/"', request().content.decode())
        assert len(links) == min(200, model._default_manager.filter(organisation=org).count())


@pytest.mark.parametrize("name", [n for n, spec in LISTS.items() if spec[1]])
def test_it_answers_an_api_list_in_constant_queries(admin, org, name):
    _, collection, _, add = LISTS[name]
    add(org, 10)
    path = f"/api/v1/orgs/{org.slug}/{collection}"

    def request():
        return admin.api.get(path, page_size=200)

    small, _ = assert_constant_queries(request, lambda: add(org, 190))
    assert small <= MAX_QUERIES
    assert len(request().json()["items"]) == 200


def _with_links(org, kind):
    """One row of `kind` with every relation the detail page shows filled in."""
    if kind == "pmos":
        return PMOFactory(organisation=org, parent=PMOFactory(organisation=org))
    if kind == "people":
        login = MembershipFactory(organisation=org).user
        return PersonFactory(
            organisation=org,
            pmo=PMOFactory(organisation=org),
            customer_group=CustomerGroupFactory(organisation=org),
            user=login,
        )
    if kind == "customer-groups":
        return CustomerGroupFactory(organisation=org)
    return MembershipFactory(organisation=org, roles=["staff", "viewer", "director"])


DETAIL = {
    "pmos": "pmo_detail",
    "people": "person_detail",
    "customer-groups": "customer_group_detail",
    "members": "member_detail",
}


@pytest.mark.parametrize("kind", DETAIL)
@pytest.mark.parametrize("tab", ["overview", "history"])
def test_it_renders_a_detail_page_in_constant_queries(admin, org, kind, tab):
    obj = _with_links(org, kind)
    add_audit(org, 3, obj)
    url = reverse(DETAIL[kind], args=[org.slug, obj.pk])

    def request():
        return admin.client.get(url, {"tab": tab})

    small, _ = assert_constant_queries(request, lambda: add_audit(org, 45, obj))
    assert small <= MAX_QUERIES
    if tab == "history":
        assert request().content.count(b"<strong>Updated</strong>") == 48


@pytest.mark.parametrize("kind", DETAIL)
def test_it_answers_an_api_detail_in_constant_queries(admin, org, kind):
    obj = _with_links(org, kind)
    path = f"/api/v1/orgs/{org.slug}/{kind}/{obj.pk}"

    def request():
        return admin.api.get(path)

    small, _ = assert_constant_queries(request, lambda: add_audit(org, 45, obj))
    assert small <= MAX_QUERIES
