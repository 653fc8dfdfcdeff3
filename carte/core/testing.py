"""Test helpers every app shares: "nothing was written", problem+json, constant query
counts, the audit trail, archived rows and missing ids. The CRUD, permission and tenancy
contracts that use them are `carte.organisations.testing`'s (they know the organisation
roles)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carte.core.models import AuditEntry, Job, TenantModel

if TYPE_CHECKING:
    # What the test client returns: a response with .content, .json() and more.
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

PROBLEM_JSON = "application/problem+json"

# Writes that reading a page may make and that say nothing about the data: the session
# (the organisation last used) and the API token's coarse "last used" stamp.
BOOKKEEPING_TABLES: tuple[str, ...] = ("django_session", "organisations_apitoken")

_WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
_CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


# ---------------------------------------------------------------- shared helpers


def written_tables(sql_statements: list[dict[str, str]]) -> list[str]:
    """The tables an INSERT, UPDATE or DELETE among the captured queries touched."""
    tables = []
    for query in sql_statements:
        match = _WRITE.match(query["sql"])
        if match:
            tables.append(match.group(1))
    return tables


@contextmanager
def no_writes(*objs: TenantModel, allow: tuple[str, ...] = BOOKKEEPING_TABLES) -> Iterator[None]:
    """Assert the block writes nothing: no INSERT/UPDATE/DELETE outside `allow`, no audit
    entry, and each of `objs` still stored exactly as before (all columns)."""
    before = [row_snapshot(o) for o in objs]
    audit_count = AuditEntry.objects.count()
    with CaptureQueriesContext(connection) as ctx:
        yield
    writes = [t for t in written_tables(ctx.captured_queries) if t not in allow]
    assert writes == [], f"unexpected writes to {writes}"
    assert AuditEntry.objects.count() == audit_count, "an audit entry was written"
    assert [row_snapshot(o) for o in objs] == before, "a row changed"


@contextmanager
def no_writes_but_jobs(*objs: TenantModel) -> Iterator[None]:
    """`no_writes`, but for the record of background work: the block may start jobs (their
    rows and audit entries), and must write nothing else (a failed import, say)."""
    jobs = ContentType.objects.get_for_model(Job)
    before = [row_snapshot(o) for o in objs]
    others = AuditEntry.objects.exclude(content_type=jobs)
    audit_count = others.count()
    with CaptureQueriesContext(connection) as ctx:
        yield
    allow = (*BOOKKEEPING_TABLES, Job._meta.db_table, AuditEntry._meta.db_table)
    writes = [t for t in written_tables(ctx.captured_queries) if t not in allow]
    assert writes == [], f"unexpected writes to {writes}"
    assert others.count() == audit_count, "an audit entry was written, not about a job"
    assert [row_snapshot(o) for o in objs] == before, "a row changed"


def row_snapshot(obj: TenantModel) -> dict[str, Any]:
    """Every stored column of the row, read afresh from the database."""
    return dict(type(obj)._default_manager.filter(pk=obj.pk).values().get())


def assert_problem(
    response: HttpResponse, status: int, *fields: str, detail: str | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem response with this status, naming each of `fields` in `errors`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    for key in ("type", "title", "status", "detail"):
        assert body.get(key), f"problem without {key}: {body}"
    assert body["status"] == status
    if fields:
        errors = body.get("errors") or {}
        for name in fields:
            assert name in errors, f"{name!r} not named in {errors}"
            assert all(isinstance(m, str) and m for m in errors[name])
    if detail is not None:
        assert detail in body["detail"], body["detail"]
    return body


def without_csrf(content: bytes) -> bytes:
    """A page with its per-response CSRF token blanked, to compare two pages."""
    return _CSRF_VALUE.sub(b'name="csrfmiddlewaretoken" value=""', content)


def count_queries(request: Callable[[], HttpResponse]) -> int:
    """How many SQL queries one request makes; the request must succeed."""
    with CaptureQueriesContext(connection) as ctx:
        response = request()
    assert response.status_code == 200, (response.status_code, response.content[:500])
    return len(ctx.captured_queries)


def assert_constant_queries(
    request: Callable[[], HttpResponse], grow: Callable[[], None]
) -> tuple[int, int]:
    """The request makes as many queries after `grow()` adds rows as before it.

    A first request warms what is cached per process or per session (content types,
    the session's organisation, the token's last use), so only the data size differs.
    """
    request()
    small = count_queries(request)
    grow()
    large = count_queries(request)
    assert small == large, f"{small} queries before, {large} after adding rows"
    return small, large


def assert_constant_queries_each(
    get: Callable[[str], HttpResponse], paths: list[str], grow: Callable[[], None]
) -> None:
    """`assert_constant_queries` for several pages at once, with one `grow()` for them all."""
    for path in paths:
        get(path)
    small = [count_queries(partial(get, path)) for path in paths]
    grow()
    large = [count_queries(partial(get, path)) for path in paths]
    assert large == small, list(zip(paths, small, large, strict=True))


def audit_entries(obj: Model) -> list[AuditEntry]:
    """The audit entries of one object, oldest first."""
    return list(
        AuditEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
        ).order_by("at", "id")
    )


def last_entry(obj: Model) -> AuditEntry:
    """The newest audit entry of one object; there must be one."""
    entries = audit_entries(obj)
    assert entries, f"no audit entry for {obj!r}"
    return entries[-1]


def assert_entry(entry: AuditEntry, persona: Any, action: str) -> None:
    """The entry records `action` by the persona's login (named by its e-mail), in the
    persona's organisation."""
    assert entry.action == action
    assert entry.actor == persona.user
    assert entry.actor_label == persona.user.email
    assert entry.organisation_id == persona.organisation.pk


def archived(obj: TenantModel) -> TenantModel:
    """Mark a test row archived directly (test set-up, not the behaviour under test)."""
    type(obj)._default_manager.filter(pk=obj.pk).update(archived_at=timezone.now())
    obj.refresh_from_db()
    return obj


def missing_pk(model: type[TenantModel]) -> int:
    """An id no row of `model` has, in any organisation."""
    last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1000
