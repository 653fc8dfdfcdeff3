"""API plumbing: the NinjaAPI instance, token auth, problem+json errors, CRUD routes.

No `from __future__ import annotations` here on purpose: `crud_routes` builds handlers
whose annotations name schemas held in local variables, and django-ninja reads those
annotations at runtime, which string annotations would hide.
"""

import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial, wraps
from typing import Any, Protocol, cast

import pydantic
from django.core.exceptions import BadRequest, RequestDataTooBig, SuspiciousOperation
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.views import defaults
from ninja import Field, NinjaAPI, PatchDict, Query, Router, Schema, Status
from ninja.errors import AuthenticationError, HttpError, ValidationErrorContext
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation, PathView
from ninja.pagination import PageNumberPagination, paginate
from pydantic import ConfigDict

from carte.core.errors import (
    BAD_REQUEST,
    CONFLICT,
    FORBIDDEN,
    INVALID,
    METHOD_NOT_ALLOWED,
    NOT_FOUND,
    SERVER_ERROR,
    TITLES,
    TOO_LARGE,
    UNAUTHENTICATED,
    DomainError,
    summarise,
)
from carte.core.listing import MAX_PAGE
from carte.core.permissions import ADD, ARCHIVE, CHANGE, ActorLike, Right, require
from carte.core.text import refusal

PROBLEM_TYPE_BASE = "https://carte.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
API_PREFIX = "/api/v1/"  # where `carte.urls` mounts the API: its errors are problem+json
# The widest integer a database column holds: an id, a filter or a page number beyond it
# is refused at the door (SQLite fails on it).
INT64_MAX = 2**63 - 1


class Caller(Protocol):
    """What the API's authentication leaves on `request.auth`: it knows the caller's
    actor in an organisation (the organisations app's `access.Caller`)."""

    def actor_in(self, org: str) -> ActorLike: ...


def _actor(request: HttpRequest, org: str) -> ActorLike:
    """The caller as an actor of the organisation in the path; 404 if not a member."""
    return cast(Caller, request.auth).actor_in(org)  # type: ignore[attr-defined]


def problem(
    request: HttpRequest,
    *,
    status: int,
    code: str,
    detail: str,
    errors: Mapping[str, list[str]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """An RFC 9457 problem details response."""
    import json

    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": TITLES.get(code, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = dict(errors)
    for key, value in (extra or {}).items():
        body.setdefault(key, value)
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


def _validation_errors(exc: NinjaValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [
            str(p)
            for p in err.get("loc", [])
            if p not in ("body", "query", "path", "payload", "filters", "ninja_pagination")
        ]
        name = ".".join(loc) or "__all__"
        errors.setdefault(name, []).append(str(err.get("msg", "Invalid value.")))
    return errors


class Problem(Schema):
    """An error, as RFC 9457 problem details (`application/problem+json`): every status
    but a success answers one. Extension members (`unmet`, `rows`, `problems`...) follow
    the standard ones where an operation says so."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(..., description="A URI naming the kind of problem.")
    title: str = Field(..., description="The kind of problem, in words.")
    status: int = Field(..., description="The HTTP status.")
    detail: str = Field(..., description="What went wrong, for a person.")
    instance: str = Field(..., description="The path asked for.")
    errors: dict[str, list[str]] | None = Field(
        None, description="Messages by field (`__all__` for the request as a whole)."
    )


# The statuses an operation may answer besides its own (see `_error_statuses`), in words.
ERROR_STATUSES: Mapping[int, str] = {
    400: "The body cannot be read (not JSON, a broken form).",
    401: "No valid API token.",
    403: "The caller's roles do not allow this.",
    404: "No such organisation for the caller, or no such row in it (rows the caller may "
    "not see are not found either).",
    409: "The row's state or another row refuses it (a name taken, a stale step).",
    413: "The request is too large.",
    414: "The address is too long.",
    422: "The input is not valid: `errors` names each field.",
    429: "Too many failed attempts: wait as `Retry-After` says.",
}


def _error_statuses(method: str, path: str, operation: Mapping[str, Any]) -> set[int]:
    """Every error status the operation can answer, read from what it declares: any
    operation needs a token (401), may be throttled (429) and may be sent too long an
    address (414); one under an organisation is refused to non-members (404) and to
    roles without the right (403); a write may conflict (409) and be refused (422), as
    may query parameters; a body may be unreadable (400) or too large (413)."""
    statuses = {401, 414, 429}
    if "{" in path:
        statuses.add(404)
    if "{org}" in path:
        statuses.add(403)
    if method != "get":
        statuses |= {409, 422}
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413, 422}
    return statuses


class CarteAPI(NinjaAPI):
    """The NinjaAPI with what every operation shares, added once all routers are in:

    - the caller's organisation is resolved before anything of the request is read, so a
      non-member gets 404 whatever they send;
    - an id in the path beyond 64 bits is 404, a number beyond 64 bits in the query or the
      body 422 (`INT64_MAX`);
    - the body is validated when the handler first uses it (`Unread`), so the checks a
      handler makes before (the row fetched with the right it needs, a step's right)
      answer first: 403, not 422, for a role without the right;
    - a method the path does not offer is 405 problem+json;
    - the OpenAPI document lists every error status of every operation, each with the
      `Problem` schema (`_error_statuses`).

    django-ninja (pinned) binds its operations in `_get_bound_routers`; this hooks there."""

    def _get_bound_routers(self) -> Any:
        fresh = self._bound_routers_cache is None
        bound = super()._get_bound_routers()
        if fresh:
            for router in bound:
                for view in router.path_operations.values():
                    _finish_view(view)
        return bound

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components["Problem"] = Problem.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, methods in schema.get("paths", {}).items():
            for method, operation in methods.items():
                # django-ninja keys the declared statuses by number; one key per status,
                # or JSON would hold "403" twice (Swagger UI refuses such a document).
                responses = {str(k): v for k, v in operation.get("responses", {}).items()}
                operation["responses"] = responses
                for status in sorted(_error_statuses(method, path, operation)):
                    responses.setdefault(str(status), {"description": ERROR_STATUSES[status]})
                for key, response in responses.items():
                    if int(key) >= 400:
                        response["content"] = content
        return schema


class Unread:
    """A request body that did not validate, handed to the handler in its place: using it
    in any way raises the error, so every check made before the body is read answers
    first (see `CarteAPI`)."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        raise self.error

    def __getitem__(self, key: Any) -> Any:
        raise self.error

    def __contains__(self, key: Any) -> bool:
        raise self.error

    def __iter__(self) -> Any:
        raise self.error

    def __len__(self) -> int:
        raise self.error


_BODY_SOURCES = frozenset({"body", "form", "file"})


def _finish_view(view: PathView) -> None:
    for operation in view.operations:
        operation._get_values = partial(_values, operation)  # type: ignore[method-assign]
    plain = view._sync_view

    def sync_view(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = plain(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            detail = f"{request.method} is not allowed here; this path takes {allowed}."
            response = problem(request, status=405, code=METHOD_NOT_ALLOWED, detail=detail)
            response["Allow"] = allowed
        return response

    view._sync_view = sync_view  # type: ignore[method-assign]


def _values(
    operation: Operation, request: HttpRequest, path_params: Any, temporal_response: Any
) -> dict[str, Any]:
    """django-ninja's `Operation._get_values` (the handler's arguments from the request),
    after the caller's organisation is resolved and with the body read lazily."""
    if isinstance(path_params.get("org"), str):
        _actor(request, path_params["org"])  # 404 for a non-member, before any reading
    if any(_too_big(v) for v in path_params.values()):
        raise DomainError("Not found.", code=NOT_FOUND)
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for model in operation.models:
        source = str(model.__ninja_param_source__)
        try:
            data = model.resolve(request, operation.api, path_params)
            big = _input_errors(data, (source,))
            if big:
                raise NinjaValidationError(big)
        except (pydantic.ValidationError, NinjaValidationError) as exc:
            if isinstance(exc, pydantic.ValidationError):
                context = ValidationErrorContext(pydantic_validation_error=exc, model=model)
                exc = operation.api.validation_error_from_error_contexts([context])
            if source in _BODY_SOURCES:
                values.update(dict.fromkeys(model.model_fields, Unread(exc)))
            else:
                errors.extend(exc.errors)
            continue
        except (HttpError, SuspiciousOperation) as exc:  # unreadable or too large
            if source not in _BODY_SOURCES:
                raise
            values.update(dict.fromkeys(model.model_fields, Unread(exc)))
            continue
        values.update(data)
    if errors:
        raise NinjaValidationError(errors)
    if operation.signature.response_arg:
        values[operation.signature.response_arg] = temporal_response
    return values


def _too_big(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT64_MAX


def _leaves(value: Any, loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(where, value) for every plain value in `value`: a parsed model's fields, its lists
    and mappings, nested."""
    items: Any = ()
    if isinstance(value, pydantic.BaseModel):
        items = ((name, getattr(value, name, None)) for name in type(value).model_fields)
    elif isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list | tuple | set | frozenset):
        items = enumerate(value)
    else:
        yield loc, value
        return
    for key, item in items:
        yield from _leaves(item, (*loc, key))


def _input_errors(value: Any, loc: tuple[Any, ...]) -> list[dict[str, Any]]:
    """An error for every integer in `value` that no database column could hold, then for
    every string the text policy refuses (`core.text`): one walk over what was sent."""
    leaves = list(_leaves(value, loc))
    too_big = [
        {"loc": where, "msg": f"Must be at most {INT64_MAX}.", "type": "too_big"}
        for where, leaf in leaves
        if _too_big(leaf)
    ]
    bad_text = [
        {"loc": where, "msg": why, "type": "bad_text"}
        for where, leaf in leaves
        if isinstance(leaf, str) and (why := refusal(leaf)) is not None
    ]
    return too_big + bad_text


def build_api(auth: Any) -> NinjaAPI:
    """The API, with `auth` (the organisations app's token authentication) on every
    operation and problem+json for every error (`CarteAPI`)."""
    api = CarteAPI(
        title="Carte API",
        version="1",
        description=(
            "Run a PMO as a set of services. Every endpoint needs a personal API token "
            "(`Authorization: Bearer ...`). Errors are RFC 9457 problem+json."
        ),
        auth=auth,
        urls_namespace="api",
        docs_url="/docs",
        openapi_url="/openapi.json",
    )

    @api.exception_handler(DomainError)
    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return problem(
            request,
            status=exc.status,
            code=exc.code,
            detail=exc.message,
            errors=exc.errors,
            extra=exc.extra,
        )

    @api.exception_handler(NinjaValidationError)
    def on_validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        errors = _validation_errors(exc)
        return problem(request, status=422, code=INVALID, detail=summarise(errors), errors=errors)

    @api.exception_handler(AuthenticationError)
    def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem(
            request,
            status=401,
            code=UNAUTHENTICATED,
            detail="Send a valid, unrevoked API token as 'Authorization: Bearer <token>'.",
        )
        response["WWW-Authenticate"] = 'Bearer realm="carte"'
        return response

    @api.exception_handler(Http404)
    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem(request, status=404, code=NOT_FOUND, detail="Not found.")

    @api.exception_handler(HttpError)
    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        code = {
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            409: CONFLICT,
            413: TOO_LARGE,
        }.get(exc.status_code, INVALID)
        return problem(request, status=exc.status_code, code=code, detail=str(exc))

    @api.exception_handler(RequestDataTooBig)
    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return problem(request, status=413, code=TOO_LARGE, detail="The request is too large.")

    @api.exception_handler(SuspiciousOperation)
    @api.exception_handler(BadRequest)
    def on_bad_request(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(request, status=400, code=BAD_REQUEST, detail="The request cannot be read.")

    return api


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def not_found_handler(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's `handler404`: problem+json under the API, the 404 page elsewhere."""
    if _is_api(request):
        return problem(request, status=404, code=NOT_FOUND, detail="No such address in the API.")
    return defaults.page_not_found(request, exception)


def server_error_handler(request: HttpRequest) -> HttpResponse:
    """Django's `handler500`: problem+json under the API, the 500 page elsewhere (the
    error itself is logged by Django either way)."""
    if _is_api(request):
        detail = "Something went wrong on our side; it has been logged."
        return problem(request, status=500, code=SERVER_ERROR, detail=detail)
    return defaults.server_error(request)


def bad_request_handler(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's `handler400`: problem+json under the API, the 400 page elsewhere."""
    if _is_api(request):
        return problem(request, status=400, code=BAD_REQUEST, detail="The request cannot be read.")
    return defaults.bad_request(request, exception)


class Pages(PageNumberPagination):
    """django-ninja's page numbers for every API list, a page past `MAX_PAGE` read as one
    past the end (no items): its offset would be no number a database holds."""

    def paginate_queryset(
        self, queryset: Any, pagination: Any, request: HttpRequest, **params: Any
    ) -> Any:
        if pagination.page > MAX_PAGE:
            pagination = pagination.model_copy(update={"page": MAX_PAGE + 1})
        return super().paginate_queryset(queryset, pagination, request, **params)


def paged(handler: Callable[..., Any]) -> Callable[..., Any]:
    """An API list's handler, paginated as every list is: `page` and `page_size` (25 by
    default, at most 200), answering `{items, count}`."""
    decorated: Callable[..., Any] = paginate(Pages, page_size=25, max_page_size=200)(handler)
    return decorated


class Stamped(Schema):
    """Fields every tenant row shows: its id, whether it is archived, when it changed."""

    id: int
    archived: bool = Field(..., description="Archived rows are kept and can be restored.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_archived(obj: Any) -> bool:
        return obj.archived_at is not None


class Strict(Schema):
    """An input schema that refuses fields it does not know, naming them."""

    model_config = ConfigDict(extra="forbid")


class Named(Schema):
    """A related row as the API shows it: its id and name."""

    id: int
    name: str


class StatusFilter(Schema):
    """A list of live rows by default; `status=archived` or `all` for the others."""

    status: str = Field("active", pattern="^(active|archived|all)$")


def ref(actor: ActorLike, model: type[Model], pk: int | None, field_name: str) -> Any:
    """An id sent by the client, as a row of the caller's organisation (or None); any
    other id is refused naming the client's field."""
    if pk is None:
        return None
    obj = model._default_manager.filter(organisation=actor.organisation, pk=pk).first()
    if obj is None:
        raise DomainError.field(field_name, f"No {model._meta.verbose_name} with id {pk} here.")
    return obj


def no_nulls(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """Refuse an explicit null for a field that cannot be empty (PATCH sends only some)."""
    for name in names:
        if name in data and data[name] is None:
            raise DomainError.field(name, "This field cannot be null.")
    return data


def resolve_refs(
    actor: ActorLike, data: dict[str, Any], models: Mapping[str, type[Model]]
) -> dict[str, Any]:
    """`data` with the id it holds in each field of `models` (`{"owner": Person}`) turned
    into that row of the caller's organisation (`ref`); fields it does not hold stay out."""
    for name, model in models.items():
        if name in data:
            data[name] = ref(actor, model, data[name], name)
    return data


def step_routes(
    router: Router, path: str, *, stem: str, tag: str, response: Any
) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """The decorator of the workflow steps on one kind of row at `path` (such as
    `/orgs/{org}/change-requests/{int:cr_id}`): `@step("submit", "Summary")` registers
    the handler as `POST <path>/submit`, the operation `<stem>_submit` (as `crud_routes`
    names its operations), tagged `tag` and answering `response` as the row's other
    steps do; other keywords go to django-ninja (`description=`...)."""

    def step(
        verb: str, summary: str, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        register: Callable[[Callable[..., Any]], Callable[..., Any]] = router.post(
            f"{path}/{verb}",
            response=response,
            tags=[tag],
            summary=summary,
            operation_id=f"{stem}_{verb.replace('-', '_')}",
            **kwargs,
        )
        return register

    return step


VERBS = frozenset({"list", "retrieve", "create", "update", "archive", "restore"})


@dataclass(frozen=True)
class Parent:
    """Where a nested model hangs: `/orgs/{org}/<path>/{id}/...`, the parent fetched by its
    aggregate's scoped fetch (`fetch(actor=, pk=)`: 404 when missing or hidden) and handed
    to the spec's callables as the keyword `arg` (e.g. `service=`)."""

    path: str
    fetch: Callable[..., Any]
    arg: str
    param: str = "id"  # the parent's id in the path: `{int:template_id}`


@dataclass
class CrudSpec:
    """What `crud_routes` needs to expose one tenant-owned model through the API.

    Every callable receives `actor=` and, for a nested model, the parent as
    `<parent.arg>=`: `list_selector(filters=)` (or no filters), `get_selector(pk=, action=)`,
    `create(data=)`; `update(data=)`, `archive()` and `restore()` receive the row as
    `<obj_arg>=` (so `pmo_update(*, actor, pmo, data)` is passed as it is)."""

    path: str
    tag: str
    noun: str
    out: type[Schema]  # a row of the list, and the row itself unless `detail_out` says
    create_in: type[Schema]
    list_selector: Callable[..., Any]
    get_selector: Callable[..., Any]
    create: Callable[..., Model]
    update: Callable[..., Model]
    archive: Callable[..., Model]
    restore: Callable[..., Model]
    # The PATCH body: by default every field of `create_in`, each optional (PatchDict).
    update_in: Any = None
    detail_out: type[Schema] | None = None  # one row (retrieved, created, changed...)
    # The list's query parameters; without, a nested list is paginated or not (`paginated`:
    # a service's parts are few, every live one is listed).
    filters: type[Schema] | None = None
    paginated: bool = True
    parent: Parent | None = None
    # Turns a validated payload into keyword arguments (ids -> objects of the organisation).
    resolve: Callable[[Any, dict[str, Any]], dict[str, Any]] = field(
        default=lambda actor, data: data
    )
    resolve_create: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None
    # Model field -> the API field the client sent, so errors name it (parent -> parent_id).
    error_fields: Mapping[str, str] = field(default_factory=dict)
    operation: str = ""  # the operation ids' stem; by default the path's
    obj_arg: str = "obj"  # the keyword with which update, archive and restore take the row
    child: str = "child_id"  # the row's id in the path, as named: `{int:kpi_id}`
    # The operations offered: a model whose rows are never restored, or are made by a
    # workflow step, leaves some out.
    verbs: frozenset[str] = VERBS
    # Shallow nesting: the list and creation under the parent, each row at its own path
    # (`/orgs/{org}/<path>/{child}`), as a risk raised on its service and handled alone.
    shallow: bool = False

    # The noun's plural where adding an "s" (or "y" to "ies") gets it wrong: "people".
    plural: str = ""
    # The model a `create` adds: the right to add it is checked before the body is read (a
    # service that takes its fields as keywords, or looks at them first, would answer 422
    # before 403): on the model for a top-level create, on a new row of the parent for a
    # nested one (a KPI of this service).
    model: type[Model] | None = None
    # The right every write of a nested row needs on its parent, where it is a step's rather
    # than the model's own (MANAGE on the service, for a record of its lifecycle): checked
    # first, in place of `model`'s.
    parent_right: Right | None = None

    @property
    def stem(self) -> str:
        return self.operation or self.path.replace("-", "_").replace("/", "_")

    @property
    def a_noun(self) -> str:
        """The noun with its article, for the operations' summaries: "an action"."""
        return f"{'an' if self.noun[:1].lower() in 'aeiou' else 'a'} {self.noun}"

    @property
    def nouns(self) -> str:
        if self.plural:
            return self.plural
        if self.noun.endswith("y") and self.noun[-2:-1] not in ("a", "e", "o", "u"):
            return self.noun[:-1] + "ies"
        return self.noun + "s"


def _dump(payload: Any, *, exclude_unset: bool = False) -> Any:
    """A validated body as a dict; an `Unread` one as it is, for the service to read after
    it has checked the caller's right."""
    if isinstance(payload, Unread):
        return payload
    return cast(Schema, payload).model_dump(exclude_unset=exclude_unset)


def api_fields(exc: DomainError, names: Mapping[str, str]) -> DomainError:
    """The same error, naming the API's fields rather than the model's."""
    if not names.keys() & exc.errors.keys():
        return exc
    errors = {names.get(k, k): v for k, v in exc.errors.items()}
    return DomainError(summarise(errors), code=exc.code, errors=errors)


def crud_routes(router: Router, spec: CrudSpec) -> None:
    """List, retrieve, create, update, archive and restore for one model: top-level
    (`/orgs/{org}/<path>/{id}`) or under a parent (`/orgs/{org}/<parent>/{id}/<path>/{child_id}`).

    Rights and tenancy come first: the parent is fetched (404 when hidden) before anything
    else, and every write is one service call."""
    if spec.parent is not None and spec.shallow:
        collection = frozenset({"list", "create"})
        _nested_routes(router, replace(spec, verbs=spec.verbs & collection), spec.parent)
        crud_routes(router, replace(spec, parent=None, verbs=spec.verbs - collection))
        return
    if spec.parent is not None:
        _nested_routes(router, spec, spec.parent)
        return
    out, create_in, filters_t = spec.out, spec.create_in, spec.filters
    detail = spec.detail_out or out
    update_in = spec.update_in or PatchDict[create_in]  # type: ignore[valid-type]
    base = f"/orgs/{{org}}/{spec.path}"
    one = base + ("/{int:id}" if spec.child == "child_id" else f"/{{int:{spec.child}}}")
    ops = _Ops(spec)

    if filters_t is not None:

        @ops.route(router.get, base, "list", f"List {spec.nouns}", response=list[out])  # type: ignore[valid-type]
        @paged
        def list_(request: HttpRequest, org: str, filters: Query[filters_t]) -> Any:  # type: ignore[valid-type]
            return spec.list_selector(actor=_actor(request, org), filters=filters)

    @ops.route(router.get, one, "retrieve", f"Retrieve {spec.a_noun}", response=detail)
    def retrieve(request: HttpRequest, org: str, id: int) -> Any:
        return spec.get_selector(actor=_actor(request, org), pk=id)

    @ops.route(router.post, base, "create", f"Create {spec.a_noun}", response={201: detail})
    def create(request: HttpRequest, org: str, payload: create_in) -> Any:  # type: ignore[valid-type]
        actor = _actor(request, org)
        return Status(201, ops.create(actor, {}, _dump(payload)))

    @ops.route(router.patch, one, "update", f"Update {spec.a_noun}", response=detail)
    def update(request: HttpRequest, org: str, id: int, payload: update_in) -> Any:  # type: ignore[valid-type]
        return ops.update(_actor(request, org), {}, id, payload)

    @ops.route(router.post, one + "/archive", "archive", f"Archive {spec.a_noun}", response=detail)
    def archive(request: HttpRequest, org: str, id: int) -> Any:
        return ops.step(_actor(request, org), {}, id, spec.archive, ARCHIVE)

    @ops.route(
        router.post,
        one + "/restore",
        "restore",
        f"Restore an archived {spec.noun}",
        response=detail,
    )
    def restore(request: HttpRequest, org: str, id: int) -> Any:
        return ops.step(_actor(request, org), {}, id, spec.restore, ARCHIVE)


def _nested_routes(router: Router, spec: CrudSpec, parent: Parent) -> None:
    out, create_in, filters_t = spec.out, spec.create_in, spec.filters
    detail = spec.detail_out or out
    update_in = spec.update_in or PatchDict[create_in]  # type: ignore[valid-type]
    base = f"/orgs/{{org}}/{parent.path}/{{int:{parent.param}}}/{spec.path}"
    one = base + f"/{{int:{spec.child}}}"
    ops = _Ops(spec)

    def scope(request: HttpRequest, org: str, id: int) -> tuple[ActorLike, dict[str, Any]]:
        actor = _actor(request, org)
        return actor, {parent.arg: parent.fetch(actor=actor, pk=id)}

    if filters_t is not None:

        @ops.route(router.get, base, "list", f"List the {spec.nouns}", response=list[out])  # type: ignore[valid-type]
        @paged
        def list_(request: HttpRequest, org: str, id: int, filters: Query[filters_t]) -> Any:  # type: ignore[valid-type]
            actor, scoped = scope(request, org, id)
            return spec.list_selector(actor=actor, filters=filters, **scoped)

    elif spec.paginated:

        @ops.route(router.get, base, "list", f"List the {spec.nouns}", response=list[out])  # type: ignore[valid-type]
        @paged
        def list_pages(request: HttpRequest, org: str, id: int) -> Any:
            actor, scoped = scope(request, org, id)
            return spec.list_selector(actor=actor, **scoped)

    else:

        @ops.route(router.get, base, "list", f"List the {spec.nouns}", response=list[out])  # type: ignore[valid-type]
        def list_all(request: HttpRequest, org: str, id: int) -> Any:
            actor, scoped = scope(request, org, id)
            return spec.list_selector(actor=actor, **scoped)

    @ops.route(router.get, one, "retrieve", f"Retrieve {spec.a_noun}", response=detail)
    def retrieve(request: HttpRequest, org: str, id: int, child_id: int) -> Any:
        actor, scoped = scope(request, org, id)
        return spec.get_selector(actor=actor, pk=child_id, **scoped)

    @ops.route(router.post, base, "create", f"Add {spec.a_noun}", response={201: detail})
    def create(request: HttpRequest, org: str, id: int, payload: create_in) -> Any:  # type: ignore[valid-type]
        actor, scoped = scope(request, org, id)
        return Status(201, ops.create(actor, scoped, _dump(payload, exclude_unset=True)))

    @ops.route(router.patch, one, "update", f"Update {spec.a_noun}", response=detail)
    def update(request: HttpRequest, org: str, id: int, child_id: int, payload: update_in) -> Any:  # type: ignore[valid-type]
        actor, scoped = scope(request, org, id)
        return ops.update(actor, scoped, child_id, payload)

    @ops.route(router.post, one + "/archive", "archive", f"Archive {spec.a_noun}", response=detail)
    def archive(request: HttpRequest, org: str, id: int, child_id: int) -> Any:
        actor, scoped = scope(request, org, id)
        return ops.step(actor, scoped, child_id, spec.archive, ARCHIVE)

    @ops.route(
        router.post,
        one + "/restore",
        "restore",
        f"Restore an archived {spec.noun}",
        response=detail,
    )
    def restore(request: HttpRequest, org: str, id: int, child_id: int) -> Any:
        actor, scoped = scope(request, org, id)
        return ops.step(actor, scoped, child_id, spec.restore, ARCHIVE)


@dataclass(frozen=True)
class _Ops:
    """The steps the CRUD handlers share, top-level and nested alike."""

    spec: CrudSpec

    def route(
        self, method: Callable[..., Any], path: str, verb: str, summary: str, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """`method`'s decorator for one operation, or none when the spec leaves it out. A
        handler's `child_id` is named as the path names it (`spec.child`)."""
        if verb not in self.spec.verbs:
            return lambda handler: handler
        operation = f"{self.spec.stem}_{verb}"
        register: Callable[[Callable[..., Any]], Callable[..., Any]] = method(
            path, tags=[self.spec.tag], summary=summary, operation_id=operation, **kwargs
        )
        return lambda handler: register(self._named(handler))

    def _named(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """`handler` with its `id` and `child_id` parameters named as the path names them
        (`parent.param`, `spec.child`): django-ninja reads path parameters from the
        handler's signature."""
        parent, child = self.spec.parent, self.spec.child
        own = "id" if child == "child_id" else child  # a top-level row's id, as named
        names = {"id": parent.param if parent else own, "child_id": child}
        signature = inspect.signature(handler)
        names = {
            old: new for old, new in names.items() if old != new and old in signature.parameters
        }
        if not names:
            return handler

        @wraps(handler)
        def renamed(*args: Any, **kwargs: Any) -> Any:
            for old, new in names.items():
                kwargs[old] = kwargs.pop(new)
            return handler(*args, **kwargs)

        params = [p.replace(name=names.get(p.name, p.name)) for p in signature.parameters.values()]
        renamed.__dict__["__signature__"] = signature.replace(parameters=params)
        return renamed

    def reload(self, actor: ActorLike, scoped: dict[str, Any], pk: int) -> Any:
        return self.spec.get_selector(actor=actor, pk=pk, **scoped)

    def _on_parent(self, actor: ActorLike, scoped: dict[str, Any]) -> None:
        """Refuse (403) a write without `parent_right` on the parent."""
        if self.spec.parent_right is not None:
            for parent in scoped.values():
                require(actor, self.spec.parent_right, parent)

    def may_add(self, actor: ActorLike, scoped: dict[str, Any]) -> None:
        """Refuse (403) a caller without the right to add (`model`, `parent_right`), before
        the body is read or its ids resolved; a spec naming neither leaves the right to its
        service, which checks it before it reads `data`."""
        spec = self.spec
        if spec.parent_right is not None:
            self._on_parent(actor, scoped)
        elif spec.model is not None:
            new = spec.model(organisation=actor.organisation, **scoped) if scoped else spec.model
            require(actor, ADD, new)

    def create(self, actor: ActorLike, scoped: dict[str, Any], data: Any) -> Any:
        resolve = self.spec.resolve_create or self.spec.resolve
        self.may_add(actor, scoped)  # the right first, then the body's errors
        if not isinstance(data, Unread):
            data = resolve(actor, data)
        try:
            obj = self.spec.create(actor=actor, data=data, **scoped)
        except DomainError as exc:
            raise api_fields(exc, self.spec.error_fields) from exc
        return self.reload(actor, scoped, obj.pk)

    def update(self, actor: ActorLike, scoped: dict[str, Any], pk: int, payload: Any) -> Any:
        obj = self.spec.get_selector(actor=actor, pk=pk, action=CHANGE, **scoped)
        self._on_parent(actor, scoped)
        data = payload if isinstance(payload, dict) else payload.model_dump(exclude_unset=True)
        try:
            self.spec.update(
                actor=actor, data=self.spec.resolve(actor, dict(data)), **{self.spec.obj_arg: obj}
            )
        except DomainError as exc:
            raise api_fields(exc, self.spec.error_fields) from exc
        return self.reload(actor, scoped, pk)

    def step(
        self,
        actor: ActorLike,
        scoped: dict[str, Any],
        pk: int,
        call: Callable[..., Model],
        right: str,
    ) -> Any:
        obj = self.spec.get_selector(actor=actor, pk=pk, action=right, **scoped)
        self._on_parent(actor, scoped)
        try:
            call(actor=actor, **{self.spec.obj_arg: obj})
        except DomainError as exc:
            raise api_fields(exc, self.spec.error_fields) from exc
        return self.reload(actor, scoped, pk)
