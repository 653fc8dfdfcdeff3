"""Reusable test contracts: CRUD, permissions, tenancy and audit for one tenant-owned model.

Each app's tests subclass `PageContract` (the server-rendered pages) and `ApiContract`
(the REST API) once per model, name the model, its URLs, a way to make a row in a given
organisation, a valid create and update input with the audit entry each must leave, and
which organisation roles may edit and view. The contract then runs, through real
requests: list, detail, create, update, archive and restore by every editor role; a 403
and no write for every other role (404 for a row the role may not see); a 404 and no
write for an administrator of another organisation on every page or endpoint of an
object; and the same 404 for an id that does not exist.

The contracts use the fixtures of `carte/conftest.py`: `org`, `other_org`, `persona`
and `outsider`. Beyond plain CRUD, `api_operations`, `outsider_paths` and
`outsider_failures` walk an outsider over every operation of an app's API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import pytest
from django.test import Client
from django.urls import resolve, reverse

from carte.core.models import AuditAction, TenantModel
from carte.core.testing import (
    PROBLEM_JSON,
    archived,
    assert_problem,
    last_entry,
    missing_pk,
    no_writes,
    without_csrf,
)
from carte.organisations.choices import OrgRole

if TYPE_CHECKING:
    # What the test client returns: a response with .content, .json() and more.
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

    from carte.organisations.models import Organisation

ALL_ROLES: frozenset[str] = frozenset(OrgRole.values)


class ApiLike(Protocol):
    """The JSON client of a persona (`carte.conftest.ApiClient`)."""

    def get(self, path: str, **params: Any) -> Any: ...

    def post(self, path: str, data: Any = None) -> Any: ...

    def patch(self, path: str, data: Any) -> Any: ...


class PersonaLike(Protocol):
    """A logged-in user of one organisation (`carte.conftest.Persona`)."""

    user: Any
    client: Client
    api: ApiLike


class PersonaMaker(Protocol):
    """The `persona` fixture: persona("director") -> a persona of `org` with that role."""

    def __call__(self, *roles: str) -> PersonaLike: ...


# ---------------------------------------------------------------- the contract


def _items(body: Any) -> list[dict[str, Any]]:
    """The rows of a list: a page's `items`, or the whole list (a service's parts)."""
    items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
    return items


class CrudContract:
    """What every CRUD contract needs to know about one model; see the module docstring.

    Subclasses set the class attributes and implement `make`, `create_input` and
    `update_input`. Test method arguments `editor_role` and `other_role` are
    parametrized with the roles that may and may not edit.
    """

    model: ClassVar[type[TenantModel]]
    editors: ClassVar[frozenset[str]]
    viewers: ClassVar[frozenset[str]] = ALL_ROLES

    def make(self, organisation: Organisation) -> TenantModel:
        """A live row of the model in `organisation` (from a factory)."""
        raise NotImplementedError

    def create_input(self, organisation: Organisation) -> tuple[dict[str, Any], dict[str, Any]]:
        """Valid create input, and the "after" value the create entry records per field."""
        raise NotImplementedError

    def update_input(self, obj: Any) -> tuple[dict[str, Any], dict[str, tuple[Any, Any]]]:
        """Valid update input for `obj`, and exactly the (before, after) the update entry
        records per field."""
        raise NotImplementedError

    @property
    def reader_role(self) -> str:
        """A role that may view but not edit, for the read-only checks."""
        readers = sorted(self.viewers - self.editors) or sorted(self.viewers)
        return OrgRole.VIEWER if OrgRole.VIEWER in readers else readers[0]

    def label(self, obj: Any) -> str:
        """How the row is named on pages."""
        return str(obj)

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "editor_role" in metafunc.fixturenames:
            metafunc.parametrize("editor_role", sorted(self.editors))
        if "other_role" in metafunc.fixturenames:
            metafunc.parametrize("other_role", sorted(ALL_ROLES - self.editors))

    # -- assertions on the audit trail

    def assert_audited(
        self,
        obj: TenantModel,
        action: AuditAction,
        actor: PersonaLike,
        changes: dict[str, Any],
    ) -> None:
        """The newest entry of `obj` records `action` by `actor` in obj's organisation with
        exactly these changes ({field: {"before": ..., "after": ...}})."""
        entry = last_entry(obj)
        assert entry.action == action
        assert entry.organisation_id == obj.organisation_id
        assert entry.actor_id == actor.user.pk
        assert entry.changes == changes

    def assert_created_entry(
        self, obj: TenantModel, actor: PersonaLike, after: dict[str, Any]
    ) -> None:
        entry = last_entry(obj)
        assert entry.action == AuditAction.CREATE
        assert entry.organisation_id == obj.organisation_id
        assert entry.actor_id == actor.user.pk
        for name, value in after.items():
            assert entry.changes.get(name) == {"before": None, "after": value}, (
                name,
                entry.changes,
            )

    def assert_updated_entry(
        self, obj: TenantModel, actor: PersonaLike, changes: dict[str, tuple[Any, Any]]
    ) -> None:
        self.assert_audited(
            obj,
            AuditAction.UPDATE,
            actor,
            {k: {"before": b, "after": a} for k, (b, a) in changes.items()},
        )

    def assert_archive_entry(self, obj: TenantModel, actor: PersonaLike, *, restored: bool) -> None:
        action = AuditAction.RESTORE if restored else AuditAction.ARCHIVE
        flip = {"before": restored, "after": not restored}
        self.assert_audited(obj, action, actor, {"archived": flip})

    def fresh(self, obj: TenantModel) -> TenantModel:
        return type(obj)._default_manager.get(pk=obj.pk)


# ---------------------------------------------------------------- pages


class PageContract(CrudContract):
    """The pages of one model under /o/<org>/: list, detail, new, edit, archive, restore."""

    url_stem: ClassVar[str]  # "pmo" -> pmo_list, pmo_detail, pmo_create, ...

    def url(self, action: str, slug: str, pk: int | None = None) -> str:
        kwargs: dict[str, Any] = {"org": slug}
        if pk is not None:
            kwargs["pk"] = pk
        return reverse(f"{self.url_stem}_{action}", kwargs=kwargs)

    def object_urls(self, slug: str, pk: int) -> list[str]:
        return [self.url(a, slug, pk) for a in ("detail", "update", "archive", "restore")]

    def created_pk(self, response: HttpResponse) -> int:
        assert response.status_code == 302, (response.status_code, response.content[:2000])
        match = resolve(response["Location"])
        assert match.url_name == f"{self.url_stem}_detail"
        return int(match.kwargs["pk"])

    def test_it_lists_only_the_organisations_rows(
        self, persona: PersonaMaker, org: Organisation, other_org: Organisation
    ) -> None:
        mine, theirs = self.make(org), self.make(other_org)
        user = persona(self.reader_role)
        response = user.client.get(self.url("list", org.slug))
        assert response.status_code == 200
        detail_links = re.findall(rf'href="/o/{org.slug}/[\w-]+/(\d+)/"', response.content.decode())
        assert str(mine.pk) in detail_links
        assert str(theirs.pk) not in detail_links
        assert self.label(theirs) not in response.content.decode()

    def test_it_lets_each_editor_create_update_archive_and_restore(
        self, persona: PersonaMaker, org: Organisation, editor_role: str
    ) -> None:
        user = persona(editor_role)
        client = user.client

        listing = client.get(self.url("list", org.slug))
        assert self.url("create", org.slug).encode() in listing.content  # the Add button
        assert client.get(self.url("create", org.slug)).status_code == 200
        data, after = self.create_input(org)
        created = self.model._default_manager.get(
            pk=self.created_pk(client.post(self.url("create", org.slug), data))
        )
        assert created.organisation_id == org.pk
        self.assert_created_entry(created, user, after)

        obj = self.make(org)
        detail = client.get(self.url("detail", org.slug, obj.pk))
        assert detail.status_code == 200
        assert self.url("update", org.slug, obj.pk).encode() in detail.content
        assert self.url("archive", org.slug, obj.pk).encode() in detail.content
        assert client.get(self.url("update", org.slug, obj.pk)).status_code == 200
        data, changes = self.update_input(obj)
        response = client.post(self.url("update", org.slug, obj.pk), data)
        assert response.status_code == 302, response.content[:3000]
        self.assert_updated_entry(obj, user, changes)

        assert client.get(self.url("archive", org.slug, obj.pk)).status_code == 200
        response = client.post(self.url("archive", org.slug, obj.pk))
        assert response.status_code == 302
        assert self.fresh(obj).archived_at is not None
        self.assert_archive_entry(obj, user, restored=False)

        response = client.post(self.url("restore", org.slug, obj.pk))
        assert response.status_code == 302
        assert self.fresh(obj).archived_at is None
        self.assert_archive_entry(obj, user, restored=True)

        history = client.get(self.url("detail", org.slug, obj.pk), {"tab": "history"})
        assert history.status_code == 200
        for shown in (b"<strong>Updated</strong>", b"<strong>Archived</strong>", b"Restored"):
            assert shown in history.content

    def test_it_refuses_every_write_to_other_roles(
        self, persona: PersonaMaker, org: Organisation, other_role: str
    ) -> None:
        user = persona(other_role)
        client = user.client
        live, gone = self.make(org), archived(self.make(org))
        data, _ = self.create_input(org)
        update, _ = self.update_input(live)
        count = self.model._default_manager.count()
        may_view = other_role in self.viewers

        # What the role may not see is hidden: a row answers 404, as if it did not exist.
        hidden = 200 if may_view else 404
        listing = client.get(self.url("list", org.slug))
        assert listing.status_code == (200 if may_view else 403)
        assert self.url("create", org.slug).encode() not in listing.content
        detail = client.get(self.url("detail", org.slug, live.pk))
        assert detail.status_code == hidden
        assert self.url("update", org.slug, live.pk).encode() not in detail.content
        assert self.url("archive", org.slug, live.pk).encode() not in detail.content
        refused = 403 if may_view else 404

        with no_writes(live, gone):
            assert client.get(self.url("create", org.slug)).status_code == 403
            assert client.post(self.url("create", org.slug), data).status_code == 403
            for action in ("update", "archive"):
                url = self.url(action, org.slug, live.pk)
                assert client.get(url).status_code == refused, url
                assert client.post(url, update).status_code == refused, url
            url = self.url("restore", org.slug, gone.pk)
            assert client.get(url).status_code == refused
            assert client.post(url).status_code == refused
        assert self.model._default_manager.count() == count

    def test_it_answers_404_to_another_organisation_everywhere(
        self, outsider: PersonaLike, org: Organisation, other_org: Organisation
    ) -> None:
        live, gone = self.make(org), archived(self.make(org))
        data, _ = self.create_input(org)
        count = self.model._default_manager.count()
        urls = [self.url("list", org.slug), self.url("create", org.slug)]
        for obj in (live, gone):
            # Under acme's address, and under the outsider's own with acme's ids.
            urls += self.object_urls(org.slug, obj.pk) + self.object_urls(other_org.slug, obj.pk)
        with no_writes(live, gone):
            for url in urls:
                assert outsider.client.get(url).status_code == 404, url
                assert outsider.client.post(url, data).status_code == 404, url
        assert self.model._default_manager.count() == count

    def test_it_answers_a_missing_id_as_another_organisations_id(
        self, outsider: PersonaLike, org: Organisation, other_org: Organisation
    ) -> None:
        theirs = self.make(org)
        absent = missing_pk(self.model)
        for action in ("detail", "update", "archive", "restore"):
            a = outsider.client.get(self.url(action, other_org.slug, theirs.pk))
            b = outsider.client.get(self.url(action, other_org.slug, absent))
            assert a.status_code == b.status_code == 404
            assert without_csrf(a.content) == without_csrf(b.content)


# ---------------------------------------------------------------- API


class ApiContract(CrudContract):
    """The endpoints of one model under /api/v1/orgs/{org}/<api_path>, or, for a model
    nested under a parent (`parent_path`), under /api/v1/orgs/{org}/<parent_path>/{id}/.

    A nested contract implements `make_parent(organisation)` (a parent every row of the
    test is made under: `make` uses `self.parent(organisation)`), and names the row's field
    holding its parent (`parent_field`)."""

    api_path: ClassVar[str]  # "pmos" -> /api/v1/orgs/{org}/pmos
    parent_path: ClassVar[str] = ""  # "services" -> .../services/{id}/<api_path>
    parent_field: ClassVar[str] = "service"
    # What a role that may not view the rows gets for the list: 403 (the list is refused)
    # or 404 (the parent itself is hidden from it).
    list_refusal: ClassVar[int] = 403

    def make_parent(self, organisation: Organisation) -> TenantModel:
        raise NotImplementedError

    def parent(self, organisation: Organisation) -> TenantModel:
        """The one parent of this test in `organisation` (made on first use)."""
        made: dict[int, TenantModel] = self.__dict__.setdefault("_parents", {})
        if organisation.pk not in made:
            made[organisation.pk] = self.make_parent(organisation)
        return made[organisation.pk]

    def endpoint(
        self, slug: str, pk: int | None = None, action: str | None = None, *, of: Any = None
    ) -> str:
        """The list (no `pk`), a row, or a row's action; a nested row's URL names its
        parent: that of the row `of`, else this test's parent in the organisation."""
        url = f"/api/v1/orgs/{slug}/"
        if self.parent_path:
            if of is not None:
                parent_pk = getattr(of, f"{self.parent_field}_id")
            else:
                parent_pk = self.parent(self._organisation(slug)).pk
            url += f"{self.parent_path}/{parent_pk}/"
        url += self.api_path
        if pk is not None:
            url += f"/{pk}"
        if action is not None:
            url += f"/{action}"
        return url

    def _organisation(self, slug: str) -> Organisation:
        from carte.organisations.models import Organisation

        return Organisation.objects.get(slug=slug)

    def live_rows(self, organisation: Organisation) -> Any:
        """The live rows the list of `organisation` shows."""
        rows = self.model._default_manager.filter(
            organisation=organisation, archived_at__isnull=True
        )
        if self.parent_path:
            rows = rows.filter(**{self.parent_field: self.parent(organisation)})
        return rows

    def test_it_lists_only_the_organisations_rows(
        self, persona: PersonaMaker, org: Organisation, other_org: Organisation
    ) -> None:
        mine, theirs = self.make(org), self.make(other_org)
        archived(self.make(org))
        response = persona(self.reader_role).api.get(self.endpoint(org.slug), page_size=200)
        assert response.status_code == 200
        body = response.json()
        ids = {item["id"] for item in _items(body)}
        assert ids == set(self.live_rows(org).values_list("pk", flat=True))
        assert mine.pk in ids and theirs.pk not in ids
        if isinstance(body, dict):
            assert body["count"] == len(ids)

    def test_it_retrieves_a_row_as_the_list_shows_it(
        self, persona: PersonaMaker, org: Organisation
    ) -> None:
        obj = self.make(org)
        api = persona(self.reader_role).api
        listed = _items(api.get(self.endpoint(org.slug), page_size=200).json())
        retrieved = api.get(self.endpoint(org.slug, obj.pk, of=obj))
        assert retrieved.status_code == 200
        assert retrieved.json() == next(item for item in listed if item["id"] == obj.pk)

    def test_it_lets_each_editor_create_update_archive_and_restore(
        self, persona: PersonaMaker, org: Organisation, editor_role: str
    ) -> None:
        user = persona(editor_role)
        api = user.api

        payload, after = self.create_input(org)
        response = api.post(self.endpoint(org.slug), payload)
        assert response.status_code == 201, response.content
        created = self.model._default_manager.get(pk=response.json()["id"])
        assert created.organisation_id == org.pk
        assert response.json()["archived"] is False
        self.assert_created_entry(created, user, after)

        obj = self.make(org)
        response = api.get(self.endpoint(org.slug, obj.pk, of=obj))
        assert response.status_code == 200
        assert response.json()["id"] == obj.pk
        payload, changes = self.update_input(obj)
        response = api.patch(self.endpoint(org.slug, obj.pk, of=obj), payload)
        assert response.status_code == 200, response.content
        self.assert_updated_entry(obj, user, changes)

        response = api.post(self.endpoint(org.slug, obj.pk, "archive", of=obj))
        assert response.status_code == 200, response.content
        assert response.json()["archived"] is True
        assert self.fresh(obj).archived_at is not None
        self.assert_archive_entry(obj, user, restored=False)

        response = api.post(self.endpoint(org.slug, obj.pk, "restore", of=obj))
        assert response.status_code == 200, response.content
        assert response.json()["archived"] is False
        assert self.fresh(obj).archived_at is None
        self.assert_archive_entry(obj, user, restored=True)

    def test_it_refuses_every_write_to_other_roles(
        self, persona: PersonaMaker, org: Organisation, other_role: str
    ) -> None:
        api = persona(other_role).api
        live, gone = self.make(org), archived(self.make(org))
        payload, _ = self.create_input(org)
        update, _ = self.update_input(live)
        count = self.model._default_manager.count()
        may_view = other_role in self.viewers

        read = api.get(self.endpoint(org.slug))
        assert read.status_code == (200 if may_view else self.list_refusal)
        # What the role may not see is hidden: a row answers 404, as if it did not exist.
        refused = 403 if may_view else 404
        read = api.get(self.endpoint(org.slug, live.pk, of=live))
        assert read.status_code == (200 if may_view else 404)

        with no_writes(live, gone):
            create_refusal = 403 if may_view else self.list_refusal
            assert_problem(api.post(self.endpoint(org.slug), payload), create_refusal)
            assert_problem(api.patch(self.endpoint(org.slug, live.pk, of=live), update), refused)
            archive = self.endpoint(org.slug, live.pk, "archive", of=live)
            assert_problem(api.post(archive), refused)
            restore = self.endpoint(org.slug, gone.pk, "restore", of=gone)
            assert_problem(api.post(restore), refused)
        assert self.model._default_manager.count() == count

    def test_it_answers_404_to_another_organisation_everywhere(
        self, outsider: PersonaLike, org: Organisation, other_org: Organisation
    ) -> None:
        live, gone = self.make(org), archived(self.make(org))
        payload, _ = self.create_input(org)
        update, _ = self.update_input(live)
        count = self.model._default_manager.count()
        api = outsider.api
        with no_writes(live, gone):
            assert_problem(api.get(self.endpoint(org.slug)), 404)
            assert_problem(api.post(self.endpoint(org.slug), payload), 404)
            for obj in (live, gone):
                for slug in (org.slug, other_org.slug):
                    assert_problem(api.get(self.endpoint(slug, obj.pk, of=obj)), 404)
                    assert_problem(api.patch(self.endpoint(slug, obj.pk, of=obj), update), 404)
                    for step in ("archive", "restore"):
                        assert_problem(api.post(self.endpoint(slug, obj.pk, step, of=obj)), 404)
        assert self.model._default_manager.count() == count

    def test_it_answers_a_missing_id_as_another_organisations_id(
        self, outsider: PersonaLike, org: Organisation, other_org: Organisation
    ) -> None:
        theirs = self.make(org)
        absent = missing_pk(self.model)
        for action in (None, "archive", "restore"):
            ours = self.endpoint(other_org.slug, theirs.pk, action, of=theirs)
            nothing = self.endpoint(other_org.slug, absent, action, of=theirs)
            if action is None:
                a, b = outsider.api.get(ours), outsider.api.get(nothing)
            else:
                a, b = outsider.api.post(ours), outsider.api.post(nothing)
            body_a, body_b = assert_problem(a, 404), assert_problem(b, 404)
            body_a.pop("instance"), body_b.pop("instance")
            assert body_a == body_b


# ---------------------------------------------------------------- every operation of the API

Operation = tuple[str, str, dict[str, Any]]  # method, path template, the OpenAPI operation


def api_operations(client: Any, keep: Callable[[str, dict[str, Any]], bool]) -> list[Operation]:
    """The operations of the OpenAPI document that `keep(template, operation)` keeps."""
    openapi = client.get("/api/v1/openapi.json").json()
    return [
        (method, template, operation)
        for template, item in openapi["paths"].items()
        for method, operation in item.items()
        if keep(template, operation)
    ]


def api_path(template: str, slug: str, rows: Mapping[str, Any]) -> str:
    """An operation's path in organisation `slug`, each placeholder of `rows`
    (`{"{id}": service}`) replaced by that row's id."""
    path = template.replace("{org}", slug)
    for name, row in rows.items():
        path = path.replace(name, str(row.pk))
    return path


def outsider_paths(template: str, rows: Mapping[str, Any], org: str, other: str) -> list[str]:
    """An operation's path with the ids of `org`'s `rows` under `org`'s address and, when
    it names a row, under the outsider's own organisation `other` too: there as well, an
    id of another organisation's is one that does not exist."""
    names_a_row = "{" in template.split("{org}", 1)[1]
    return [api_path(template, slug, rows) for slug in ((org, other) if names_a_row else (org,))]


def outsider_failures(api: ApiLike, calls: Iterable[tuple[str, str, Any]]) -> list[Any]:
    """The calls (method, path, body) not answered as for a row that does not exist (404,
    problem+json), each with what it was answered instead."""
    failures: list[Any] = []
    for method, path, body in calls:
        response = api.get(path) if method == "get" else getattr(api, method)(path, body)
        if response.status_code != 404:
            failures.append((method.upper(), path, response.status_code))
        elif response["Content-Type"] != PROBLEM_JSON:
            failures.append((method.upper(), path, response["Content-Type"]))
    return failures
