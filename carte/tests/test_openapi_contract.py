"""The API's contract holds over every operation: one schema per name in the OpenAPI
document, every error status documented with the problem+json schema, problem+json for
whatever goes wrong under /api/v1/ (an unknown path, a wrong method, a fault of ours),
the caller's organisation and role checked before the body, and numbers beyond 64 bits
refused rather than failing."""

from __future__ import annotations

import datetime as dt
import inspect
import re
import typing
from collections import defaultdict
from typing import Any

import pytest
from django.test import Client
from pydantic import BaseModel

from carte.catalogue.choices import ArtefactKind
from carte.catalogue.tests.factories import ArtefactFactory, ServiceFactory
from carte.conftest import ApiClient
from carte.core.testing import PROBLEM_JSON, assert_problem, no_writes
from carte.lifecycle.choices import TaskPurpose
from carte.lifecycle.models import SuccessCriterion, Task, TaskList, TemplateTask
from carte.operations.choices import ActionPurpose
from carte.operations.models import Improvement, ItemAction
from carte.operations.tests.factories import ChangeRequestFactory, KPIFactory, RiskIssueFactory
from carte.organisations.choices import PMOKind
from carte.organisations.tests.factories import PersonFactory, PMOFactory

BIG = 2**64  # beyond any database integer


def _operations() -> list[Any]:
    from carte.urls import api

    return [
        operation
        for router in api._get_bound_routers()
        for view in router.path_operations.values()
        for operation in view.operations
    ]


def _models(annotation: Any, found: dict[str, set[type[BaseModel]]]) -> None:
    """Every pydantic model `annotation` names, through lists, unions and fields."""
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        if annotation in found[annotation.__name__]:
            return
        found[annotation.__name__].add(annotation)
        for field in annotation.model_fields.values():
            _models(field.annotation, found)
        return
    for arg in typing.get_args(annotation):
        _models(arg, found)


def test_no_two_schemas_share_a_name() -> None:
    """django-ninja names a schema by its class: two different classes of one name make
    the later replace the earlier in the document, so some operations would document
    another's response. (django-ninja's own per-operation copies, such as the pages of a
    list, are the same schema twice and harmless.)"""
    found: dict[str, set[type[BaseModel]]] = defaultdict(set)
    for operation in _operations():
        for params in operation.models:
            for field in params.model_fields.values():
                _models(field.annotation, found)
        for response in operation.response_models.values():
            if inspect.isclass(response) and issubclass(response, BaseModel):
                _models(response.model_fields["response"].annotation, found)
    assert len(found) > 100
    collisions = {
        name: sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)
        for name, classes in found.items()
        if len({repr(c.model_json_schema()) for c in classes}) > 1
    }
    assert collisions == {}


@pytest.fixture
def openapi(db: None) -> dict[str, Any]:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _each(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in openapi["paths"].items() for m, op in item.items()]


def test_renamed_schemas_document_their_own_rows(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert "performer" in schemas["ProcessStepOut"]["properties"]
    assert "item" in schemas["ItemStepOut"]["properties"]
    assert "from_level" in schemas["ItemEventOut"]["properties"]
    assert "from_stage" in schemas["LifecycleEventOut"]["properties"]
    assert "end_date" in schemas["ClosureDueOut"]["properties"]
    assert "reporter_role" in schemas["ReportDueOut"]["properties"]
    for name in ("StepOut", "EventOut", "DueOut"):
        assert name not in schemas


def test_the_export_documents_each_format_as_what_it_is(openapi: dict[str, Any]) -> None:
    export = openapi["paths"]["/api/v1/orgs/{org}/catalogue/export"]["get"]
    content = export["responses"]["200"]["content"]
    assert content["application/json"]["schema"]["type"] == "object"
    assert content["application/yaml"]["schema"]["type"] == "string"
    assert "format" not in content["application/yaml"]["schema"]
    assert content["application/zip"]["schema"]["format"] == "binary"
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert content[xlsx]["schema"]["format"] == "binary"


def test_every_operation_documents_its_error_statuses_as_problems(
    openapi: dict[str, Any],
) -> None:
    problem = {"$ref": "#/components/schemas/Problem"}
    assert set(openapi["components"]["schemas"]["Problem"]["required"]) >= {
        "type",
        "title",
        "status",
        "detail",
    }
    missing = []
    for method, path, operation in _each(openapi):
        responses = operation["responses"]
        expected = {"401", "414", "429"}
        if "{org}" in path:
            expected |= {"403", "404"}
        if method != "get":
            expected |= {"409", "422"}
        if "requestBody" in operation:
            expected |= {"400", "413", "422"}
        if any(p["in"] == "query" for p in operation.get("parameters", [])):
            expected.add("422")
        if lacking := expected - responses.keys():
            missing.append((method, path, sorted(lacking)))
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"] == {PROBLEM_JSON: {"schema": problem}}, (path, status)
    assert missing == []


def test_an_unknown_api_path_is_a_problem_and_a_page_stays_html(db: None, admin: Any) -> None:
    assert_problem(admin.api.get("/api/v1/no-such-thing"), 404)
    assert_problem(Client().get("/api/v1/orgs/x/nothing/here"), 404)
    page = Client().get("/no-such-page/")
    assert page.status_code == 404
    assert page["Content-Type"].startswith("text/html")


def test_a_wrong_method_is_a_problem_naming_the_allowed_ones(org: Any, admin: Any) -> None:
    path = f"/api/v1/orgs/{org.slug}/pmos"
    response = admin.api.client.delete(path, headers=admin.api.headers)
    assert_problem(response, 405)
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_a_server_error_is_a_problem(org: Any, admin: Any, monkeypatch: Any) -> None:
    from carte.organisations.filters import PMOFilter

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(PMOFilter, "apply", broken)
    client = Client(raise_request_exception=False)
    response = client.get(f"/api/v1/orgs/{org.slug}/pmos", headers=admin.api.headers)
    body = assert_problem(response, 500)
    assert "boom" not in response.content.decode()
    assert body["instance"] == f"/api/v1/orgs/{org.slug}/pmos"


def _writes(openapi: dict[str, Any]) -> list[tuple[str, str]]:
    # A POST that writes nothing (capacity's fit) says so with `x-carte-writes: false`.
    return [(m, p) for m, p, op in _each(openapi) if m != "get" and op.get("x-carte-writes", True)]


def _send(api: ApiClient, method: str, path: str, body: Any) -> Any:
    return getattr(api, method)(path, body)


# A body no operation accepts: an unknown field where a schema forbids them, required
# fields missing where one requires them, a number where text is expected.
INVALID_BODY = {"name": ["not", "text"], "roles": 7, "bogus": {"x": 1}}


def test_an_outsider_is_not_found_whatever_the_body(
    openapi: dict[str, Any], org: Any, outsider: Any
) -> None:
    """Every write, with another organisation's token and a body that does not validate:
    404 (the organisation is not theirs), never 422, and nothing written."""
    service = ServiceFactory(organisation=org)
    failures = []
    with no_writes(service):
        for method, template in _writes(openapi):
            path = re.sub(r"\{(?!org\})\w+\}", str(service.pk), template)
            response = _send(outsider.api, method, path.replace("{org}", org.slug), INVALID_BODY)
            if response.status_code != 404 or response["Content-Type"] != PROBLEM_JSON:
                failures.append((method.upper(), template, response.status_code))
    assert len(_writes(openapi)) > 100
    assert failures == []


def test_a_role_without_the_right_is_refused_before_the_body_is_read(org: Any, viewer: Any) -> None:
    """A viewer may change nothing: a change with an invalid body is 403 for them, not
    422 (the row is fetched with the right before the body is read)."""
    pmo = PMOFactory(organisation=org)
    person = PersonFactory(organisation=org)
    base = f"/api/v1/orgs/{org.slug}"
    with no_writes(pmo, person):
        assert_problem(viewer.api.patch(f"{base}/pmos/{pmo.pk}", INVALID_BODY), 403)
        assert_problem(viewer.api.patch(f"{base}/people/{person.pk}", INVALID_BODY), 403)


def _rows(org: Any, service: Any) -> dict[str, int]:
    """A row of each kind a write's path names (by the path's parameter), on `service`, so
    the sweep reaches the handlers that fetch one; a kind not here gets the service's id,
    and its absence (404)."""
    item = RiskIssueFactory(service=service)
    task_list = TaskList.objects.create(
        organisation=org, service=service, purpose=TaskPurpose.SETUP, name="Set-up"
    )
    coe = PMOFactory(organisation=org, kind=PMOKind.CENTRE_OF_EXCELLENCE)
    template = ArtefactFactory(
        organisation=org, owner_service=None, owner_pmo=coe, kind=ArtefactKind.TEMPLATE
    )
    return {
        "id": service.pk,
        "cr_id": ChangeRequestFactory(service=service).pk,
        "improvement_id": Improvement.objects.create(
            organisation=org, service=service, title="A programme view"
        ).pk,
        "kpi_id": KPIFactory(service=service).pk,
        "item_id": item.pk,
        "action_id": ItemAction.objects.create(
            organisation=org,
            item=item,
            purpose=ActionPurpose.MITIGATION,
            description="Train a second person",
            owner=PersonFactory(organisation=org),
            due_date=dt.date(2026, 1, 1),
        ).pk,
        "criterion_id": SuccessCriterion.objects.create(
            organisation=org, service=service, description="Four of five customers agree"
        ).pk,
        "task_list_id": task_list.pk,
        "task_id": Task.objects.create(organisation=org, task_list=task_list, title="Brief").pk,
        "template_id": template.pk,
        "template_task_id": TemplateTask.objects.create(
            organisation=org, template=template, title="Kick-off"
        ).pk,
    }


def test_a_viewer_never_gets_422_for_a_write(
    openapi: dict[str, Any], org: Any, viewer: Any
) -> None:
    """The sweep: every write of the API, the ids of rows that exist, a body that does not
    validate: the viewer's refusal (403) or the row's absence (404) comes first."""
    service = ServiceFactory(organisation=org)
    ids = _rows(org, service)
    failures = []
    for method, template in _writes(openapi):
        path = re.sub(r"\{(?!org\})(\w+)\}", lambda m: str(ids.get(m[1], service.pk)), template)
        response = _send(viewer.api, method, path.replace("{org}", org.slug), INVALID_BODY)
        if response.status_code == 422:
            failures.append((method.upper(), template))
    assert failures == []


def test_a_caller_with_the_right_is_told_what_is_wrong_with_the_body(org: Any, admin: Any) -> None:
    """Checking the right first hides nothing from whoever holds it: their invalid body is
    a 422 naming the field, on the creations and the steps the sweep covers."""
    service = ServiceFactory(organisation=org)
    change = ChangeRequestFactory(service=service)
    base = f"/api/v1/orgs/{org.slug}"
    on_service = f"{base}/services/{service.pk}"
    with no_writes(service, change):
        assert_problem(admin.api.post(f"{on_service}/kpis", {"name": "Uptime"}), 422, "definition")
        assert_problem(admin.api.post(f"{on_service}/criteria", {"bogus": 1}), 422, "description")
        assert_problem(admin.api.post(f"{on_service}/transitions", {"note": "Go"}), 422, "to")
        submit = f"{base}/change-requests/{change.pk}/submit"
        assert_problem(admin.api.post(submit, {"note": ["not", "text"]}), 422, "note")
        assert_problem(admin.api.post(f"{base}/measurements", {}), 422, "rows")


def test_an_id_beyond_64_bits_in_a_path_is_not_found(org: Any, admin: Any) -> None:
    base = f"/api/v1/orgs/{org.slug}"
    assert_problem(admin.api.get(f"{base}/pmos/{BIG}"), 404)
    assert_problem(admin.api.patch(f"{base}/pmos/{BIG}", {"name": "X"}), 404)
    assert_problem(admin.api.get(f"{base}/services/{BIG}/roles"), 404)


def test_a_number_beyond_64_bits_in_a_filter_a_body_or_a_page_is_refused(
    org: Any, admin: Any
) -> None:
    base = f"/api/v1/orgs/{org.slug}"
    with no_writes():
        assert_problem(admin.api.get(f"{base}/services", pmo=BIG), 422, "pmo")
        assert_problem(admin.api.get(f"{base}/pmos", page=BIG), 422, "page")
        body = {"name": "New", "parent_id": BIG}
        assert_problem(admin.api.post(f"{base}/pmos", body), 422, "parent_id")
    # Within bounds, the same are answered as usual.
    assert admin.api.get(f"{base}/services", pmo=2**63 - 1).status_code == 200
    assert admin.api.get(f"{base}/pmos", page=2**40).status_code in (200, 404)


def test_an_unreadable_or_too_large_body_is_a_problem(org: Any, admin: Any, settings: Any) -> None:
    path = f"/api/v1/orgs/{org.slug}/pmos"
    client, headers = admin.api.client, admin.api.headers
    with no_writes():
        sent = client.post(path, "{not json", content_type="application/json", headers=headers)
        assert_problem(sent, 400)
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
        big = '{"name": "' + "x" * 200 + '"}'
        assert_problem(
            client.post(path, big, content_type="application/json", headers=headers), 413
        )


def test_a_page_number_past_any_offset_is_a_page_past_the_end(org: Any, admin: Any) -> None:
    """The offset of page 2**62 is past what a database holds: such a page has no items,
    as any page past the end (fuzzing found a 500 on every list)."""
    PMOFactory(organisation=org)
    base = f"/api/v1/orgs/{org.slug}"
    for page in (2**63 - 1, 377983819501461952, 10**6 + 1):
        for path in ("pmos", "services", "people"):
            response = admin.api.get(f"{base}/{path}", page=page)
            assert response.status_code == 200, (path, page)
            assert response.json()["items"] == [], (path, page)
    assert admin.api.get(f"{base}/pmos", page=1).json()["count"] == 1
