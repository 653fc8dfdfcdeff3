"""The Centre of Excellence's task-list templates: the page (lines in order, adding a
line, removing one, who sees the forms, tenancy) and the API (list, create, change,
archive, 422, tenancy), each at a constant number of queries."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from carte.catalogue.tests.factories import ArtefactFactory
from carte.conftest import Persona
from carte.core.errors import DomainError
from carte.core.models import AuditEntry
from carte.core.testing import assert_constant_queries, assert_problem, no_writes
from carte.lifecycle import services
from carte.lifecycle.models import TemplateTask
from carte.lifecycle.tests.conftest import World
from carte.organisations.choices import OrgRole, PMOKind
from carte.organisations.tests.factories import PMOFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/orgs/acme/task-templates"


def page(world: World) -> str:
    return reverse("lifecycle:templates", args=[world.org.slug])


def add_url(world: World, template_pk: int) -> str:
    return reverse("lifecycle:template_task_create", args=[world.org.slug, template_pk])


def archive_url(world: World, line: TemplateTask) -> str:
    return reverse("lifecycle:template_task_archive", args=[world.org.slug, line.pk])


def lines(world: World) -> list[str]:
    return list(
        TemplateTask.objects.filter(
            template=world.setup_template, archived_at__isnull=True
        ).values_list("title", flat=True)
    )


# ---------------------------------------------------------------- the page


def test_the_page_lists_each_template_with_its_lines_in_order(world: World) -> None:
    TemplateTask.objects.filter(template=world.setup_template, title="Write procedures").update(
        archived_at="2026-01-01T00:00Z"
    )
    response = world.staff.client.get(page(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Service closure plan") < html.index("Service set-up plan")
    assert html.index("Train operatives") < html.index("Brief customers")
    assert "Write procedures" not in html  # archived
    assert html.count('data-testid="add-line"') == 2


def test_the_board_links_to_the_templates(world: World) -> None:
    response = world.staff.client.get(reverse("lifecycle:board", args=[world.org.slug]))
    assert page(world) in response.content.decode()


def test_a_line_is_added_last(world: World) -> None:
    prefix = f"t{world.setup_template.pk}"
    response = world.pmo_manager.client.post(
        add_url(world, world.setup_template.pk),
        {f"{prefix}-title": "Publish the service", f"{prefix}-due_after_days": "30"},
    )
    assert response.status_code == 302
    line = TemplateTask.objects.get(title="Publish the service")
    assert (line.template, line.due_after_days, line.position) == (world.setup_template, 30, 13)
    assert lines(world)[-1] == "Publish the service"
    assert AuditEntry.objects.filter(object_id=line.pk, action="create").exists()


def test_an_empty_title_is_shown_next_to_the_field_and_nothing_is_written(world: World) -> None:
    prefix = f"t{world.setup_template.pk}"
    with no_writes(world.setup_template):
        response = world.staff.client.post(
            add_url(world, world.setup_template.pk),
            {f"{prefix}-title": "", f"{prefix}-due_after_days": "-1"},
        )
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="id_{prefix}-title_error"' in html
    assert f'id="id_{prefix}-due_after_days_error"' in html
    assert lines(world) == ["Write procedures", "Train operatives", "Brief customers"]


def test_a_line_is_removed(world: World) -> None:
    line = TemplateTask.objects.get(title="Train operatives")
    response = world.staff.client.post(archive_url(world, line))
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.archived_at is not None
    assert lines(world) == ["Write procedures", "Brief customers"]
    assert world.staff.client.get(archive_url(world, line)).status_code == 404  # archived


def test_a_viewer_sees_the_lines_but_no_forms_and_may_not_change_them(
    world: World, persona: Any
) -> None:
    viewer = persona(OrgRole.VIEWER)
    response = viewer.client.get(page(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Train operatives" in html
    assert 'data-testid="add-line"' not in html and "Remove" not in html
    line = TemplateTask.objects.get(title="Train operatives")
    prefix = f"t{world.setup_template.pk}"
    with no_writes(line):
        assert viewer.client.post(archive_url(world, line)).status_code == 403
        assert (
            viewer.client.post(
                add_url(world, world.setup_template.pk),
                {f"{prefix}-title": "Hijack", f"{prefix}-due_after_days": "0"},
            ).status_code
            == 403
        )


def test_customers_are_refused(world: World) -> None:
    assert world.customer.client.get(page(world)).status_code == 403


def test_an_outsider_gets_404_on_the_page(world: World, outsider: Persona) -> None:
    line = TemplateTask.objects.get(title="Train operatives")
    assert outsider.client.get(page(world)).status_code == 404
    with no_writes(line):
        assert outsider.client.post(archive_url(world, line)).status_code == 404
        assert outsider.client.post(add_url(world, world.setup_template.pk), {}).status_code == 404


def test_a_line_of_another_organisation_is_404_to_a_member(
    world: World, outsider: Persona, other_org: Any
) -> None:
    theirs = their_template(other_org)
    line = TemplateTask.objects.create(organisation=other_org, template=theirs, title="Theirs")
    with no_writes(line):
        assert world.staff.client.post(archive_url(world, line)).status_code == 404
        assert world.staff.client.post(add_url(world, theirs.pk), {}).status_code == 404


def their_template(other_org: Any) -> Any:
    coe = PMOFactory(organisation=other_org, kind=PMOKind.CENTRE_OF_EXCELLENCE)
    return ArtefactFactory(
        organisation=other_org, owner_service=None, owner_pmo=coe, kind="template"
    )


def _grow(world: World) -> None:
    for i in range(5):
        template = ArtefactFactory(
            organisation=world.org, owner_service=None, owner_pmo=world.coe, kind="template"
        )
        for j in range(3):
            TemplateTask.objects.create(
                organisation=world.org, template=template, title=f"Line {i}.{j}", position=j
            )


def test_the_page_makes_the_same_queries_at_any_size(world: World) -> None:
    assert_constant_queries(lambda: world.staff.client.get(page(world)), lambda: _grow(world))


# ---------------------------------------------------------------- the API


def test_the_api_lists_templates_with_their_lines(world: World) -> None:
    response = world.staff.api.get(API)
    assert response.status_code == 200
    body = response.json()
    assert [t["name"] for t in body] == ["Service closure plan", "Service set-up plan"]
    setup = body[1]
    assert setup["owner_pmo"] == {"id": world.coe.pk, "name": "Centre of Excellence"}
    assert [t["title"] for t in setup["tasks"]] == [
        "Write procedures",
        "Train operatives",
        "Brief customers",
    ]
    assert setup["tasks"][1]["due_after_days"] == 14


def test_the_api_creates_changes_and_archives_a_line(world: World) -> None:
    base = f"{API}/{world.setup_template.pk}/tasks"
    made = world.staff.api.post(base, {"title": "Publish", "due_after_days": 21})
    assert made.status_code == 201, made.content
    line = made.json()
    assert (line["title"], line["due_after_days"], line["position"]) == ("Publish", 21, 13)
    changed = world.staff.api.patch(f"{base}/{line['id']}", {"title": "Publish it"})
    assert changed.status_code == 200
    assert (changed.json()["title"], changed.json()["due_after_days"]) == ("Publish it", 21)
    archived = world.staff.api.post(f"{base}/{line['id']}/archive", {})
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert "Publish it" not in lines(world)
    # Archiving again changes nothing, as for every archived row; changing it is refused.
    again = world.staff.api.post(f"{base}/{line['id']}/archive", {})
    assert again.status_code == 200 and again.json()["archived"] is True
    assert_problem(world.staff.api.patch(f"{base}/{line['id']}", {"title": "Revived"}), 409)


def test_the_api_refuses_bad_input_naming_the_field(world: World) -> None:
    line = TemplateTask.objects.get(title="Train operatives")
    base = f"{API}/{world.setup_template.pk}/tasks"
    with no_writes(line):
        assert_problem(world.staff.api.post(base, {"title": ""}), 422, "title")
        assert_problem(world.staff.api.post(base, {"title": "x", "due_after_days": -1}), 422)
        assert_problem(world.staff.api.post(base, {"title": "x", "colour": "red"}), 422)
        assert_problem(world.staff.api.patch(f"{base}/{line.pk}", {"title": None}), 422, "title")
        assert_problem(world.staff.api.patch(f"{base}/{line.pk}", {"title": ""}), 422, "title")


def test_the_services_refuse_unknown_fields(world: World) -> None:
    line = TemplateTask.objects.get(title="Train operatives")
    with no_writes(line), pytest.raises(DomainError) as exc:
        services.template_task_update(actor=world.staff.actor, item=line, data={"colour": "red"})
    assert "colour" in exc.value.errors


def test_the_api_refuses_a_viewer_and_a_customer(world: World, persona: Any) -> None:
    line = TemplateTask.objects.get(title="Train operatives")
    base = f"{API}/{world.setup_template.pk}/tasks"
    viewer = persona(OrgRole.VIEWER)
    with no_writes(line):
        assert_problem(viewer.api.patch(f"{base}/{line.pk}", {"title": "Hijack"}), 403)
        assert_problem(viewer.api.post(f"{base}/{line.pk}/archive", {}), 403)
        assert_problem(world.customer.api.get(API), 403)


def test_the_api_answers_404_for_another_organisation(
    world: World, outsider: Persona, other_org: Any
) -> None:
    line = TemplateTask.objects.get(title="Train operatives")
    base = f"{API}/{world.setup_template.pk}/tasks"
    own = outsider.api.get(API.replace("/acme/", f"/{other_org.slug}/"))
    assert (own.status_code, own.json()) == (200, [])  # their own list holds none of acme's
    with no_writes(line):
        assert_problem(outsider.api.get(API), 404)
        assert_problem(outsider.api.post(base, {"title": "Hijack"}), 404)
        assert_problem(outsider.api.patch(f"{base}/{line.pk}", {"title": "Hijack"}), 404)
        assert_problem(outsider.api.post(f"{base}/{line.pk}/archive", {}), 404)
    # A member naming another organisation's ids, and a line under the wrong template.
    theirs = their_template(other_org)
    their_line = TemplateTask.objects.create(organisation=other_org, template=theirs, title="T")
    with no_writes(their_line, line):
        assert_problem(world.staff.api.post(f"{API}/{theirs.pk}/tasks", {"title": "x"}), 404)
        wrong = f"{API}/{world.closure_template.pk}/tasks/{line.pk}"
        assert_problem(world.staff.api.patch(wrong, {"title": "x"}), 404)
        assert_problem(world.staff.api.post(f"{base}/{their_line.pk}/archive", {}), 404)


def test_the_api_list_makes_the_same_queries_at_any_size(world: World) -> None:
    assert_constant_queries(lambda: world.staff.api.get(API), lambda: _grow(world))


def test_templates_with_lines_come_first(world: World) -> None:
    ArtefactFactory(
        organisation=world.org, owner_service=None, owner_pmo=world.coe, name="A plain document"
    )
    body = world.director.api.get(f"/api/v1/orgs/{world.org.slug}/task-templates").json()
    names = [t["name"] for t in (body["items"] if isinstance(body, dict) else body)]
    assert names == ["Service closure plan", "Service set-up plan", "A plain document"]
