"""A service's published versions and the organisation's dependency graph through the
API.
No `from __future__ import annotations`: django-ninja reads these annotations at runtime.
"""

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from carte.catalogue import selectors, services, snapshots
from carte.catalogue.api.common import SERVICE
from carte.catalogue.choices import (
    Stage,
)
from carte.catalogue.models import (
    ServiceVersion,
)
from carte.core.api import Strict
from carte.core.errors import DomainError
from carte.core.permissions import CHANGE
from carte.organisations.access import api_actor

router = Router()


# ---------------------------------------------------------------- versions (M-11, M-19)


class PublishIn(Strict):
    note: str = Field("", max_length=300, description="What changed, for the history.")


class VersionOut(Schema):
    number: int
    published_at: datetime
    published_by: str | None = Field(None, description="The e-mail of who published it.")
    note: str

    @staticmethod
    def resolve_published_by(obj: ServiceVersion) -> str | None:
        """The publisher's e-mail (selected with the version)."""
        return obj.published_by.email if obj.published_by_id and obj.published_by else None


class VersionDetailOut(VersionOut):
    snapshot: dict[str, Any]


class FieldChange(Schema):
    before: Any
    after: Any


class RowChangeOut(Schema):
    key: str
    fields: dict[str, FieldChange]


class PartDiffOut(Schema):
    added: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    changed: list[RowChangeOut]


class DiffOut(Schema):
    fields: dict[str, FieldChange]
    parts: dict[str, PartDiffOut]


@router.post(
    SERVICE + "/publish",
    response={201: VersionOut},
    tags=["Versions"],
    summary="Publish the next version of a service",
    operation_id="services_publish",
)
def services_publish(
    request: HttpRequest, org: str, id: int, payload: PublishIn | None = None
) -> Any:
    """Record a numbered, immutable snapshot; customers see it from now on. The body is
    optional."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id, action=CHANGE)  # before the body
    note = payload.note if payload is not None else ""
    version = services.service_publish(actor=actor, service=service, note=note)
    return Status(201, selectors.version_get(actor=actor, service=service, number=version.number))


@router.get(
    SERVICE + "/versions",
    response=list[VersionOut],
    tags=["Versions"],
    summary="List the published versions of a service",
    operation_id="services_versions_list",
)
def versions_list(request: HttpRequest, org: str, id: int) -> Any:
    """Newest first."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    return selectors.version_list(actor=actor, service=service).defer("snapshot")


@router.get(
    SERVICE + "/versions/{int:number}",
    response=VersionDetailOut,
    tags=["Versions"],
    summary="Retrieve a published version with its snapshot",
    operation_id="services_versions_retrieve",
)
def versions_retrieve(request: HttpRequest, org: str, id: int, number: int) -> Any:
    """One version, with the service and its parts as they were published."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    return selectors.version_get(actor=actor, service=service, number=number)


@router.get(
    SERVICE + "/versions/{int:a}/diff/{int:b}",
    response=DiffOut,
    tags=["Versions"],
    summary="Compare two published versions",
    operation_id="services_versions_diff",
)
def versions_diff(request: HttpRequest, org: str, id: int, a: int, b: int) -> Any:
    """What changed from version `a` to version `b`: fields, and rows added, removed, changed."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    old = selectors.version_get(actor=actor, service=service, number=a)
    new = selectors.version_get(actor=actor, service=service, number=b)
    return snapshots.compare(old.snapshot, new.snapshot)


# ---------------------------------------------------------------- dependencies (M-5)


class DependencyOut(Schema):
    service_id: int
    service_code: str
    service_name: str
    output: str = Field(..., description="The output of the upstream service.")
    input: str = Field(..., description="The input of the downstream service.")


class DependenciesOut(Schema):
    upstream: list[DependencyOut] = Field(..., description="Services this one takes inputs from.")
    downstream: list[DependencyOut] = Field(..., description="Services this one feeds.")


class GraphNode(Schema):
    id: int
    code: str
    name: str
    category: str
    stage: Stage
    layer: int
    in_cycle: bool


class GraphEdge(Schema):
    source: int
    target: int
    output: str
    input: str


class GraphOut(Schema):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    cycles: list[list[int]] = Field(..., description="Groups of services depending in a loop.")


def _dependency_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "service_id": row["service"].pk,
            "service_code": row["service"].code,
            "service_name": row["service"].name,
            "output": row["output"],
            "input": row["input"],
        }
        for row in rows
    ]


@router.get(
    SERVICE + "/dependencies",
    response=DependenciesOut,
    tags=["Dependencies"],
    summary="The services a service depends on and feeds",
    operation_id="services_dependencies",
)
def service_dependencies(request: HttpRequest, org: str, id: int) -> Any:
    """Upstream and downstream services, through output-to-input links."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    found = selectors.service_dependencies(actor=actor, service=service)
    return {
        "upstream": _dependency_rows(found["upstream"]),
        "downstream": _dependency_rows(found["downstream"]),
    }


@router.get(
    "/orgs/{org}/dependency-graph",
    response=GraphOut,
    tags=["Dependencies"],
    summary="Every visible live service and how they feed each other",
    operation_id="dependency_graph",
)
def dependency_graph(request: HttpRequest, org: str) -> Any:
    """Nodes (with a layer for a left-to-right layout), edges and cycles."""
    return selectors.dependency_graph(actor=api_actor(request, org))


@router.get(
    SERVICE + "/published",
    response=VersionDetailOut,
    tags=["Services"],
    summary="The service as last published (what customers see)",
    operation_id="services_published",
)
def services_published(request: HttpRequest, org: str, id: int) -> Any:
    """The latest published version of the service, with its snapshot; 404 if none."""
    actor = api_actor(request, org)
    service = selectors.service_get(actor=actor, pk=id)
    if service.current_version is None:
        raise DomainError("This service has not been published.", code="not_found")
    return selectors.version_get(
        actor=actor, service=service, number=service.current_version.number
    )
