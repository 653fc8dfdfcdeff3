"""The competence framework (issue 14): its pages and API through the CRUD contract
(permissions, tenancy, audit), the levels shown in words, bad input, bounded queries, the
choices other apps' forms read, and the framework as a file: export, import back (no
change), a bad row (nothing written, the row and column named), YAML too."""

from __future__ import annotations

import io
import re
from typing import Any

import factory
import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]

from carte.core.models import AuditEntry
from carte.core.testing import (
    PROBLEM_JSON,
    archived,
    assert_constant_queries,
    assert_problem,
    no_writes,
)
from carte.organisations import selectors
from carte.organisations import urls as org_urls
from carte.organisations.models import Competence
from carte.organisations.testing import (
    ApiContract,
    CrudContract,
    PageContract,
    api_operations,
    outsider_failures,
    outsider_paths,
)
from carte.organisations.tests.factories import OrganisationFactory

STRUCTURE_EDITORS = frozenset({"admin", "director", "pmo_manager"})
ALL_BUT_CUSTOMERS = frozenset({"admin", "director", "pmo_manager", "staff", "viewer"})
MAX_QUERIES = 15
LEVELS = ["level_1", "level_2", "level_3", "level_4", "level_5"]


class CompetenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Competence

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Competence {n}")
    group = "Delivery"
    description = "What it is about."
    level_1 = "Knows the terms."
    level_2 = "Does it with help."
    level_3 = "Does it alone."
    level_4 = "Teaches it."
    level_5 = "Sets the standard."


def _levels(prefix: str) -> dict[str, str]:
    return {f"level_{i}": f"{prefix} {i}" for i in range(1, 6)}


class CompetenceContract(CrudContract):
    model = Competence
    editors = STRUCTURE_EDITORS
    viewers = ALL_BUT_CUSTOMERS

    def make(self, organisation):
        return CompetenceFactory(organisation=organisation)

    def create_input(self, organisation):
        data = {
            "name": "Risk management",
            "group": "Control",
            "description": "Finding and treating risks.",
            **_levels("Risk level"),
        }
        return data, dict(data)


class TestCompetencePages(CompetenceContract, PageContract):
    url_stem = "competence"

    def update_input(self, obj):
        data = {
            "name": "Planning and scheduling",
            "group": obj.group,
            "description": obj.description,
            **{f: getattr(obj, f) for f in LEVELS},
            "level_3": "Plans a programme alone.",
        }
        changes = {
            "name": (obj.name, "Planning and scheduling"),
            "level_3": (obj.level_3, "Plans a programme alone."),
        }
        return data, changes


class TestCompetenceApi(CompetenceContract, ApiContract):
    api_path = "competences"

    def update_input(self, obj):
        payload = {"group": "Analysis", "level_5": "Writes the method."}
        changes = {"group": (obj.group, "Analysis"), "level_5": (obj.level_5, "Writes the method.")}
        return payload, changes


# ---------------------------------------------------------------- pages


def test_the_detail_page_says_what_each_level_means(org, staff):
    c = CompetenceFactory(organisation=org, level_4="Coaches others", level_5="")
    page = staff.client.get(reverse("competence_detail", args=[org.slug, c.pk])).content.decode()
    assert "<strong>Awareness</strong> — Knows the terms." in page
    assert "<strong>Working knowledge</strong> — Does it with help." in page
    assert "<strong>Expert</strong> — Coaches others" in page
    assert "<strong>Authority</strong> — <span" in page and "not described yet" in page
    # The History tab does not repeat the levels.
    history = staff.client.get(
        reverse("competence_detail", args=[org.slug, c.pk]), {"tab": "history"}
    )
    assert b"competence-levels" not in history.content


def test_the_form_labels_the_five_levels_by_their_names(org, director):
    page = director.client.get(reverse("competence_create", args=[org.slug])).content.decode()
    for label in ("Awareness", "Working knowledge", "Practitioner", "Expert", "Authority"):
        assert re.search(rf'<label[^>]*for="id_level_\d"[^>]*>{label}', page), label


def test_the_list_filters_by_words_and_group_and_orders_by_group_then_name(org, viewer):
    CompetenceFactory(organisation=org, name="Governance", group="Control")
    CompetenceFactory(organisation=org, name="Benefits management", group="Value")
    CompetenceFactory(organisation=org, name="Facilitation", group="Control")
    url = reverse("competence_list", args=[org.slug])
    page = viewer.client.get(url).content.decode()
    assert page.index("Facilitation") < page.index("Governance") < page.index("Benefits")
    assert '<option value="Control"' in page and '<option value="Value"' in page
    assert "Download .xlsx" in page and "Download YAML" in page
    assert reverse("competence_import", args=[org.slug]) not in page  # a viewer imports nothing
    only = viewer.client.get(url, {"group": "control"}).content.decode()
    assert "Facilitation" in only and "Benefits management" not in only
    found = viewer.client.get(url, {"q": "benefit"}).content.decode()
    assert "Benefits management" in found and "Governance" not in found
    results = viewer.client.get(url, {"q": "gov"}, headers={"HX-Request": "true"})
    assert b"Governance" in results.content and b"<html" not in results.content


def test_an_editor_sees_the_import_link(org, pmo_manager):
    page = pmo_manager.client.get(reverse("competence_list", args=[org.slug]))
    assert reverse("competence_import", args=[org.slug]).encode() in page.content


def test_a_duplicate_name_in_any_case_is_refused_on_its_field(org, director):
    CompetenceFactory(organisation=org, name="Risk management")
    data = {"name": "RISK MANAGEMENT", "group": "", "description": ""}
    count = Competence.objects.count()
    response = director.client.post(reverse("competence_create", args=[org.slug]), data)
    assert response.status_code == 422
    assert "A competence with this name already exists." in response.content.decode()
    assert Competence.objects.count() == count
    body = director.api.post(f"/api/v1/orgs/{org.slug}/competences", {"name": "risk Management"})
    assert_problem(body, 422, "name")
    assert Competence.objects.count() == count


def test_an_archived_name_can_be_used_again_but_not_restored_over_a_live_one(org, director):
    old = archived(CompetenceFactory(organisation=org, name="Methods"))
    response = director.api.post(f"/api/v1/orgs/{org.slug}/competences", {"name": "methods"})
    assert response.status_code == 201
    assert_problem(director.api.post(f"/api/v1/orgs/{org.slug}/competences/{old.pk}/restore"), 422)


def test_text_outside_the_policy_is_refused_naming_the_field(org, director):
    c = CompetenceFactory(organisation=org)
    with no_writes(c):
        response = director.client.post(
            reverse("competence_update", args=[org.slug, c.pk]),
            {"name": c.name, "description": "bad\x07text"},
        )
        assert response.status_code == 422
        page = response.content.decode()
        assert re.search(r'id="id_description_error"[^>]*>[^<]*control character \(U\+0007\)', page)
        base = f"/api/v1/orgs/{org.slug}/competences"
        assert_problem(director.api.patch(f"{base}/{c.pk}", {"level_2": "a\x07b"}), 422, "level_2")
        assert_problem(director.api.post(base, {"name": "x" * 201}), 422, "name")
        assert_problem(director.api.patch(f"{base}/{c.pk}", {"name": None}), 422, "name")


def test_the_api_lists_with_filters_and_the_level_texts(org, staff):
    CompetenceFactory(organisation=org, name="Coaching", group="People", level_3="Coaches a team")
    CompetenceFactory(organisation=org, name="Tool administration", group="Tools")
    body = staff.api.get(f"/api/v1/orgs/{org.slug}/competences", group="people").json()
    assert [c["name"] for c in body["items"]] == ["Coaching"]
    assert body["items"][0]["level_3"] == "Coaches a team"
    body = staff.api.get(f"/api/v1/orgs/{org.slug}/competences", q="tool").json()
    assert [c["name"] for c in body["items"]] == ["Tool administration"]


def test_a_customer_is_shown_nothing_of_the_framework(org, customer):
    c = CompetenceFactory(organisation=org)
    assert (
        customer.client.get(reverse("competence_detail", args=[org.slug, c.pk])).status_code == 404
    )
    assert customer.client.get(reverse("competence_list", args=[org.slug])).status_code == 403
    assert_problem(customer.api.get(f"/api/v1/orgs/{org.slug}/competences/{c.pk}"), 404)
    assert_problem(customer.api.get(f"/api/v1/orgs/{org.slug}/competences/export"), 403)
    list_url = reverse("competence_list", args=[org.slug])
    assert customer.client.get(list_url, {"format": "xlsx"}).status_code == 403


def test_the_choices_are_the_live_competences_by_group_then_name(org, other_org, staff):
    b = CompetenceFactory(organisation=org, name="Benefits", group="Value")
    a = CompetenceFactory(organisation=org, name="Audit", group="Control")
    z = CompetenceFactory(organisation=org, name="Zeal", group="Control")
    archived(CompetenceFactory(organisation=org, name="Gone", group="Control"))
    CompetenceFactory(organisation=other_org, name="Theirs", group="Control")
    assert list(selectors.competence_choices(actor=staff.actor)) == [a, z, b]
    assert list(selectors.competence_choices(staff.actor)) == [a, z, b]


def test_an_outsider_gets_404_on_every_framework_page_and_operation(outsider, org, other_org):
    live = CompetenceFactory(organisation=org, name="Acme Secret Competence")
    gone = archived(CompetenceFactory(organisation=org, name="Acme Secret Archived"))
    patterns = [p for p in org_urls.urlpatterns if (p.name or "").startswith("competence_")]
    actions = {p.name.removeprefix("competence_") for p in patterns}
    assert actions == {"list", "create", "detail", "update", "archive", "restore", "import"}
    failures = []
    anonymous = Client()
    with no_writes(live, gone):
        for pattern in patterns:
            takes_pk = "pk" in pattern.pattern.converters
            for slug in (org.slug, other_org.slug) if takes_pk else (org.slug,):
                for row in (live, gone) if takes_pk else (None,):
                    kwargs = {"org": slug, **({"pk": row.pk} if row else {})}
                    url = reverse(pattern.name, kwargs=kwargs)
                    for method in ("get", "post"):
                        status = getattr(outsider.client, method)(url, {"name": "x"}).status_code
                        if status != 404:
                            failures.append((method.upper(), url, status))
                    if slug == org.slug:
                        response = anonymous.get(url)
                        assert response.status_code == 302, url
                        assert response["Location"].startswith(reverse("login") + "?next=")
        ops = api_operations(
            outsider.api.client,
            lambda template, op: template.startswith("/api/v1/orgs/{org}/competences"),
        )
        assert len(ops) == 8  # list, create, retrieve, update, archive, restore, export, import
        calls = [
            (method, path, {"name": "Hijack"})
            for method, template, _ in ops
            for row in (live, gone)
            for path in outsider_paths(template, {"{id}": row}, org.slug, other_org.slug)
        ]
        failures += outsider_failures(outsider.api, calls)
    assert failures == []
    # The outsider's own lists show none of acme's competences.
    for path in ("competences?status=all", "competences/export?format=yaml"):
        response = outsider.api.get(f"/api/v1/orgs/{other_org.slug}/{path}")
        assert response.status_code == 200 and b"Acme Secret" not in response.content
    page = outsider.client.get(reverse("competence_list", args=[other_org.slug]), {"status": "all"})
    assert page.status_code == 200 and b"Acme Secret" not in page.content


# ---------------------------------------------------------------- bounded queries


def _add(org, n):
    CompetenceFactory.create_batch(n, organisation=org, group=factory.Iterator(["A", "B", "C"]))


def test_the_list_page_runs_in_constant_queries(org, admin):
    _add(org, 5)
    url = reverse("competence_list", args=[org.slug])

    def request():
        return admin.client.get(url, {"page_size": 200, "status": "all"})

    small, _ = assert_constant_queries(request, lambda: _add(org, 60))
    assert small <= MAX_QUERIES
    links = re.findall(rf'href="/o/{org.slug}/competences/\d+/"', request().content.decode())
    assert len(links) == 65


def test_the_api_list_runs_in_constant_queries(org, admin):
    _add(org, 5)
    path = f"/api/v1/orgs/{org.slug}/competences"

    def request():
        return admin.api.get(path, page_size=200)

    small, _ = assert_constant_queries(request, lambda: _add(org, 60))
    assert small <= MAX_QUERIES
    assert len(request().json()["items"]) == 65


def test_the_exports_run_in_constant_queries(org, admin):
    _add(org, 5)
    path = f"/api/v1/orgs/{org.slug}/competences/export"
    for fmt in ("xlsx", "yaml"):

        def export(fmt: str = fmt) -> Any:
            return admin.api.get(path, format=fmt)

        assert_constant_queries(export, lambda: _add(org, 20))


# ---------------------------------------------------------------- the framework as a file


def _framework(org):
    CompetenceFactory(
        organisation=org,
        name="Financial analysis",
        group="Analysis",
        description="Costs, budgets and forecasts.\nWith a second line.",
        level_1="=SUM(A1) is a formula-like text",
        level_5="",
    )
    CompetenceFactory(organisation=org, name="Stakeholder engagement", group="People")
    CompetenceFactory(organisation=org, name="Reporting and data analysis", group="Analysis")
    archived(CompetenceFactory(organisation=org, name="Old method", group="Methods"))


def _upload(api, org, content, name, **params):
    """POST a multipart file to the import endpoint, as a client would."""
    path = f"/api/v1/orgs/{org.slug}/competences/import"
    if params:
        path += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return api.client.post(path, {"file": SimpleUploadedFile(name, content)}, headers=api.headers)


def _stored(org):
    return list(
        Competence.objects.filter(organisation=org)
        .order_by("id")
        .values("id", "name", "group", "description", *LEVELS, "archived_at", "updated_at")
    )


def test_the_export_holds_one_row_per_live_competence(org, staff):
    _framework(org)
    response = staff.client.get(reverse("competence_list", args=[org.slug]), {"format": "xlsx"})
    assert response.status_code == 200
    assert 'filename="' + org.slug + "-competences-" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "Name",
        "Group",
        "Description",
        "Awareness",
        "Working knowledge",
        "Practitioner",
        "Expert",
        "Authority",
    )
    assert [r[0] for r in rows[1:]] == [
        "Financial analysis",
        "Reporting and data analysis",
        "Stakeholder engagement",
    ]
    assert rows[1][3] == "'=SUM(A1) is a formula-like text"  # neutralised, not a formula
    document = yaml.safe_load(
        staff.api.get(f"/api/v1/orgs/{org.slug}/competences/export", format="yaml").content
    )
    assert document[0] == {
        "name": "Financial analysis",
        "group": "Analysis",
        "description": "Costs, budgets and forecasts.\nWith a second line.",
        "awareness": "=SUM(A1) is a formula-like text",
        "working_knowledge": "Does it with help.",
        "practitioner": "Does it alone.",
        "expert": "Teaches it.",
        "authority": "",
    }


@pytest.mark.parametrize("fmt", ["xlsx", "yaml"])
def test_importing_an_export_changes_nothing(org, director, fmt):
    _framework(org)
    exported = director.api.get(f"/api/v1/orgs/{org.slug}/competences/export", format=fmt)
    before = _stored(org)
    with no_writes():
        response = _upload(director.api, org, exported.content, f"framework.{fmt}")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "dry_run": False,
        "applied": True,
        "rows": 3,
        "created": [],
        "updated": [],
        "unchanged": 3,
    }
    assert _stored(org) == before


@pytest.mark.parametrize("fmt", ["xlsx", "yaml"])
def test_an_import_updates_by_name_in_any_case_and_adds_the_others(org, director, fmt):
    _framework(org)
    rows = [
        {"name": "FINANCIAL ANALYSIS", "group": "Finance", "awareness": "Reads a budget."},
        {"name": "Change management", "group": "People", "expert": "Leads a change."},
    ]
    content = _yaml(rows) if fmt == "yaml" else _xlsx(rows)
    entries = AuditEntry.objects.count()
    response = _upload(director.api, org, content, f"mine.{fmt}")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == ["Change management"]
    assert response.json()["updated"] == ["FINANCIAL ANALYSIS"]
    fa = Competence.objects.get(organisation=org, name="FINANCIAL ANALYSIS")
    assert (fa.group, fa.level_1) == ("Finance", "Reads a budget.")
    assert fa.level_2 == "Does it with help."  # a column left out is left as it is
    assert fa.description.startswith("Costs")
    new = Competence.objects.get(organisation=org, name="Change management")
    assert (new.level_4, new.level_1) == ("Leads a change.", "")
    # One audit entry per competence written, by the importer.
    assert AuditEntry.objects.count() == entries + 2
    latest = AuditEntry.objects.filter(object_id=fa.pk, action="update").latest("id")
    assert latest.actor == director.user
    assert latest.changes["group"] == {"before": "Analysis", "after": "Finance"}


def _xlsx(rows, header=None):
    book = Workbook()
    sheet = book.active
    names = header or list(dict.fromkeys(k for row in rows for k in row))
    sheet.append(names)
    for row in rows:
        sheet.append([row.get(n) for n in names])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _yaml(rows):
    return yaml.safe_dump(rows, allow_unicode=True, sort_keys=False).encode()


@pytest.mark.parametrize("fmt", ["xlsx", "yaml"])
def test_a_bad_row_writes_nothing_and_is_named_by_row_and_column(org, director, fmt):
    _framework(org)
    rows = [
        {"name": "Financial analysis", "group": "Finance"},  # fine on its own
        {"name": "Coaching", "group": "x" * 101},
        {"name": "coaching", "group": "People"},
        {"name": "", "group": "People"},
    ]
    content = _yaml(rows) if fmt == "yaml" else _xlsx(rows)
    before = _stored(org)
    with no_writes():
        response = _upload(director.api, org, content, f"bad.{fmt}")
    body = assert_problem(response, 422, "file")
    assert response["Content-Type"] == PROBLEM_JSON
    first = 2 if fmt == "xlsx" else 1  # a sheet's rows count its header
    assert body["problems"] == [
        {
            "row": first + 1,
            "column": "group",
            "message": "Ensure this value has at most 100 characters (it has 101).",
        },
        {
            "row": first + 2,
            "column": "name",
            "message": f"“coaching” is in row {first + 1} too: a competence appears once.",
        },
        {"row": first + 3, "column": "name", "message": "Name the competence."},
    ]
    assert body["total_problems"] == 3
    assert _stored(org) == before


def test_imported_text_follows_the_text_policy(org, director):
    rows = [{"name": "Coaching", "expert": "bad\x01text"}, {"name": "Gov\x00ernance"}]
    with no_writes():
        body = assert_problem(_upload(director.api, org, _yaml(rows), "f.yaml"), 422)
    assert [(p["row"], p["column"]) for p in body["problems"]] == [(1, "expert"), (2, "name")]
    assert "control character (U+0001)" in body["problems"][0]["message"]
    assert "NUL" in body["problems"][1]["message"]


def test_the_file_shape_is_checked_before_any_row(org, director):
    with no_writes():
        wrong = _xlsx([{"name": "A"}], header=["name", "colour", "name"])
        body = assert_problem(_upload(director.api, org, wrong, "f.xlsx"), 422)
        assert [(p["row"], p["column"], p["message"]) for p in body["problems"]] == [
            (1, "colour", "Unknown column."),
            (1, "name", "This column appears twice."),
        ]
        body = assert_problem(_upload(director.api, org, b"{a: [1, 2", "f.yaml"), 422)
        assert "not valid YAML" in body["problems"][0]["message"]
        alias = b"- &a {name: A}\n- *a\n"
        body = assert_problem(_upload(director.api, org, alias, "f.yaml"), 422)
        assert "aliases" in body["problems"][0]["message"]
        body = assert_problem(_upload(director.api, org, b"name: A\n", "f.yaml"), 422)
        assert "Expected a list of competences" in body["problems"][0]["message"]
        body = assert_problem(_upload(director.api, org, b"x", "f.csv"), 422)
        assert "Use an .xlsx or a .yaml file." in body["detail"]
        not_a_book = _upload(director.api, org, b"PK\x03\x04 not really", "f.xlsx")
        assert "damaged" in assert_problem(not_a_book, 422)["problems"][0]["message"]
        nested = _yaml([{"name": "A", "group": ["x", "y"]}, {"name": "B", "expert": True}])
        body = assert_problem(_upload(director.api, org, nested, "f.yaml"), 422)
        assert [(p["row"], p["column"]) for p in body["problems"]] == [(1, "group"), (2, "expert")]
        formula = _xlsx([{"name": "=1+1"}], header=["name"])
        book = load_workbook(io.BytesIO(formula))
        book.active["A2"] = "=1+1"
        out = io.BytesIO()
        book.save(out)
        body = assert_problem(_upload(director.api, org, out.getvalue(), "f.xlsx"), 422)
        assert body["problems"][0]["column"] == "name"
        assert "formula" in body["problems"][0]["message"]


def test_a_dry_run_reports_and_writes_nothing(org, director):
    _framework(org)
    content = _yaml([{"name": "Governance", "group": "Control"}])
    with no_writes():
        response = _upload(director.api, org, content, "f.yaml", dry_run="true")
    assert response.status_code == 200
    assert response.json()["dry_run"] is True and response.json()["applied"] is False
    assert response.json()["created"] == ["Governance"]
    assert not Competence.objects.filter(name="Governance").exists()


def test_who_may_import_and_export(org, other_org, persona, outsider):
    _framework(org)
    content = _yaml([{"name": "Governance"}])
    for role in ("staff", "viewer"):
        reader = persona(role)
        api = reader.api
        assert api.get(f"/api/v1/orgs/{org.slug}/competences/export").status_code == 200
        with no_writes():
            assert_problem(_upload(api, org, content, "f.yaml"), 403)
            # Refused before the body is read: no file at all is 403 too, not 422.
            assert_problem(api.post(f"/api/v1/orgs/{org.slug}/competences/import", {}), 403)
    with no_writes():
        assert_problem(outsider.api.get(f"/api/v1/orgs/{org.slug}/competences/export"), 404)
        assert_problem(_upload(outsider.api, org, content, "f.yaml"), 404)
        for name in ("competence_list", "competence_import"):
            url = reverse(name, args=[org.slug])
            assert outsider.client.get(url, {"format": "yaml"}).status_code == 404
            assert (
                outsider.client.post(
                    url, {"file": SimpleUploadedFile("f.yaml", content)}
                ).status_code
                == 404
            )
    # The outsider's own export holds none of acme's competences.
    mine = outsider.api.get(f"/api/v1/orgs/{other_org.slug}/competences/export", format="yaml")
    assert yaml.safe_load(mine.content) == []
    assert reader.client.get(reverse("competence_import", args=[org.slug])).status_code == 403


def test_the_import_page_checks_then_imports(org, director):
    _framework(org)
    url = reverse("competence_import", args=[org.slug])
    assert director.client.get(url).status_code == 200
    good = _yaml([{"name": "Governance", "group": "Control"}])
    with no_writes():
        checked = director.client.post(
            url, {"file": SimpleUploadedFile("f.yaml", good), "dry_run": "on"}
        )
    assert checked.status_code == 200
    assert "Dry run: nothing was written" in checked.content.decode()
    bad = _xlsx([{"name": "Coaching"}, {"name": "COACHING"}])
    with no_writes():
        refused = director.client.post(url, {"file": SimpleUploadedFile("f.xlsx", bad)})
    assert refused.status_code == 422
    page = refused.content.decode()
    assert "1 problem: nothing was written" in page
    assert re.search(r"<td>3</td><td>name</td><td>“COACHING” is in row 2 too", page)
    done = director.client.post(url, {"file": SimpleUploadedFile("f.yaml", good)})
    assert done.status_code == 302 and done["Location"] == reverse(
        "competence_list", args=[org.slug]
    )
    assert Competence.objects.filter(organisation=org, name="Governance").exists()
    assert director.client.post(url, {}).status_code == 422  # no file


# ---------------------------------------------------------------- in a browser, on a phone


@pytest.fixture
def framework_director(transactional_db):
    """A Director of acme with a small framework, made before the browser starts."""
    from carte.organisations.tests.factories import MembershipFactory, UserFactory

    acme = OrganisationFactory(name="Acme Group", slug="acme")
    user = UserFactory(email="dana@acme.example", full_name="Dana Director")
    MembershipFactory(organisation=acme, user=user, roles=["director"])
    CompetenceFactory(organisation=acme, name="Benefits management", group="Value")
    return user


@pytest.mark.browser
def test_a_director_shapes_the_framework_on_a_phone(page, framework_director):
    from playwright.sync_api import expect

    from carte.conftest import log_in, screenshot, watch

    problems = watch(page)
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "dana@acme.example")
    page.goto("/o/acme/competences/")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "competences-list-390.png")
    page.get_by_role("link", name="Add competence").click()
    page.get_by_label("Name", exact=True).fill("Facilitation")
    page.get_by_label("Group", exact=True).fill("People")
    page.get_by_label("Awareness").fill("Knows what a workshop is for.")
    page.get_by_label("Authority").fill("Trains facilitators.")
    page.get_by_role("button", name="Create").click()
    levels = page.get_by_test_id("competence-levels")
    expect(levels).to_contain_text("Awareness — Knows what a workshop is for.")
    expect(levels).to_contain_text("Authority — Trains facilitators.")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "competence-detail-390.png")
    page.goto("/o/acme/competences/import/")
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    screenshot(page, "competence-import-390.png")
    assert problems == []
