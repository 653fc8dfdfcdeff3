"""Property-based fuzzing of the whole API with schemathesis (issue 12).

Every operation of the OpenAPI document gets requests generated from its schema, valid
("positive") and invalid ("negative"), sent in-process to the WSGI application with a
persona's bearer token. Each answer is checked four ways: no 5xx; a status the operation
documents; a body matching the documented schema; problem+json on every error.

Generated ids rarely name a row, so most requests would stop at 404. Before fuzzing, the
list operations are read and the ids they answer kept by the path segment that names
them (`services`, `levels`, `risks-issues`...); then seven generated cases in eight get
their path ids replaced by ones that exist, consistent with each other (a level of that
service). The organisation in the path is always the persona's.

`carte/tests/test_api_fuzz.py` runs a bounded pass in the suite; `python -m bench.fuzz`
the long run on a fresh database with the demo loaded (see bench/README.md, "Fuzzing").
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import traceback
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemathesis import APIOperation, Case, Response
    from schemathesis.specs.openapi.schemas import OpenApiSchema

    Operation = APIOperation[Any, Any, Any, Any]
    GeneratedCase = Case[Operation]

SEED = 12  # the number: any fixed value makes the run repeatable
DEFAULT_REQUESTS = 20_000
OPENAPI_PATH = "/api/v1/openapi.json"
PROBLEM_JSON = "application/problem+json"

# What a finding is, in the order the report lists them.
SERVER_ERROR = "5xx"
UNDOCUMENTED_STATUS = "undocumented status"
SCHEMA_VIOLATION = "schema violation"
CONTENT_TYPE = "undocumented content type"
NOT_PROBLEM = "error not problem+json"
KINDS = (SERVER_ERROR, UNDOCUMENTED_STATUS, SCHEMA_VIOLATION, CONTENT_TYPE, NOT_PROBLEM)

# Path segments whose rows are named by another field than `id`, and segments that name
# rows of another one (`/versions/{a}/diff/{b}`: both are version numbers).
ID_FIELD = {"versions": "number"}
SEGMENT_ALIAS = {"diff": "versions"}
_PARAM = re.compile(r"^\{(\w+)\}$")

# Operations that take long by nature get fewer examples a round: the PDF renders the
# whole catalogue (about a second, when background work runs in the request).
EXAMPLES_AT_MOST = {"POST /api/v1/orgs/{org}/catalogue/document/pdf": 2}


@dataclass
class Finding:
    """One distinct failure: its kind, operation, status and first line, with the first
    request that showed it and how many did."""

    kind: str
    operation: str
    status: int
    detail: str
    example: str
    request: str
    count: int = 1


@dataclass
class Report:
    """What a run sent and found."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)  # requests with a finding, by kind
    findings: dict[tuple[str, str, int, str], Finding] = field(default_factory=dict)
    not_generated: list[str] = field(default_factory=list)  # (operation, mode) it could not
    seconds: float = 0.0
    time: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def slowest(self, n: int) -> list[tuple[str, float]]:
        """The operations that took the most time in all (seconds in their requests)."""
        return sorted(self.time.items(), key=lambda item: -item[1])[:n]

    def add(self, finding: Finding) -> None:
        self.counts[finding.kind] += 1
        key = (finding.kind, finding.operation, finding.status, finding.detail)
        if key in self.findings:
            self.findings[key].count += 1
        else:
            self.findings[key] = finding

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 1),
            **{kind: self.counts[kind] for kind in KINDS},
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "not_generated": self.not_generated,
            "slowest": {op: round(t, 2) for op, t in self.slowest(5)},
            "findings": [
                vars(f)
                for f in sorted(
                    self.findings.values(), key=lambda f: (KINDS.index(f.kind), f.operation)
                )
            ],
        }

    def summary(self) -> str:
        """The figures and one line per distinct finding, for a person to read."""
        lines = [
            f"requests: {self.requests} in {self.seconds:.0f} s",
            *(f"{kind}: {self.counts[kind]}" for kind in KINDS),
            "statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items())),
            "slowest (s in all): " + ", ".join(f"{op} {t:.1f}" for op, t in self.slowest(3)),
        ]
        if self.findings:
            lines.append(f"distinct findings ({len(self.findings)}):")
        for f in self.as_dict()["findings"]:
            lines.append(
                f"- [{f['kind']}] {f['operation']} -> {f['status']} (x{f['count']}): "
                f"{f['detail']}"
                + (f"\n    {f['example']}" if f["example"] else "")
                + f"\n    e.g. {f['request']}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class Persona:
    """Whom the requests come from: an organisation's slug and a raw API token."""

    name: str
    org: str
    token: str


# ---------------------------------------------------------------- the application


def load_schema() -> OpenApiSchema:
    """The API's own document, read from the WSGI application as a client would."""
    import schemathesis
    from django.core.wsgi import get_wsgi_application

    register_yaml_as_text()
    schema = schemathesis.openapi.from_wsgi(OPENAPI_PATH, get_wsgi_application())
    # The token is the persona's, sent as is: a negative case is about the request's data,
    # not a mangled Authorization header (the 401s are tested elsewhere).
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _yaml_as_text(ctx: Any, response: Response) -> str:
    """A YAML answer is checked as what the document says it is, text (schemathesis
    would parse it and hold the tables up against `type: string`)."""
    return response.text


def register_yaml_as_text() -> None:
    from schemathesis import deserializer
    from schemathesis.core.media_types import YAML_MEDIA_TYPES

    deserializer(*YAML_MEDIA_TYPES)(_yaml_as_text)


@contextmanager
def in_process(errors: list[BaseException]) -> Iterator[None]:
    """Requests made straight to the WSGI handler, in this thread and its transaction.

    Django closes the database connection when a request ends (a test's transaction would
    go with it): that is turned off for the run, as Django's test client does. Every
    exception a view raises is appended to `errors`, for the report's first line.
    """
    from django.core.signals import got_request_exception, request_finished, request_started
    from django.db import close_old_connections

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        exc = sys.exc_info()[1]
        if exc is not None:
            errors.append(exc)

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(record)
    try:
        yield
    finally:
        got_request_exception.disconnect(record)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@contextmanager
def quiet() -> Iterator[None]:
    """Django's log line for every 4xx and 5xx off, and WeasyPrint's for every glyph a
    generated name lacks: the report says what matters."""
    import logging

    loggers = [logging.getLogger(name) for name in ("django.request", "weasyprint", "fontTools")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextmanager
def contained() -> Iterator[None]:
    """A savepoint around one request when the run is inside a transaction (the test's):
    a database error that a view let through would otherwise break every later request on
    PostgreSQL. Outside a transaction each request commits as in production."""
    from django.db import DatabaseError, connection, transaction

    if not connection.in_atomic_block:
        yield
        return
    sid = transaction.savepoint()
    try:
        yield
    finally:
        try:
            transaction.savepoint_commit(sid)
        except DatabaseError:
            transaction.savepoint_rollback(sid)
            connection.needs_rollback = False


# ---------------------------------------------------------------- existing ids


@dataclass(frozen=True)
class Row:
    """An id found in an answer, under the path segment that names its rows, with the ids
    of the rows it sits in (by their segments): a level knows its service."""

    segment: str
    value: int
    context: tuple[tuple[str, int], ...]


def _segments(template: str) -> list[tuple[str, str | None]]:
    """`/orgs/{org}/services/{id}/levels` -> [(orgs, org), (services, id), (levels, None)]."""
    parts = template.strip("/").split("/")
    pairs: list[tuple[str, str | None]] = []
    for i, part in enumerate(parts):
        if _PARAM.match(part):
            continue
        nxt = parts[i + 1] if i + 1 < len(parts) else ""
        match = _PARAM.match(nxt)
        pairs.append((part, match.group(1) if match else None))
    return pairs


def _rows(body: Any, segment: str, context: tuple[tuple[str, int], ...]) -> Iterator[Row]:
    """Every row with an id in a JSON answer: items of the list the path names, and those
    of nested lists under the key that names them (a task list's `tasks`)."""
    if isinstance(body, dict):
        items = body.get("items") if isinstance(body.get("items"), list) else None
        if items is not None:
            yield from _rows(items, segment, context)
            return
        value = body.get(ID_FIELD.get(segment, "id"))
        inner = context
        if isinstance(value, int) and not isinstance(value, bool):
            yield Row(segment, value, context)
            inner = (*context, (segment, value))
        for key, child in body.items():
            if isinstance(child, list | dict) and key != "items":
                yield from _rows(child, key.replace("_", "-"), inner)
    elif isinstance(body, list):
        for item in body:
            yield from _rows(item, segment, context)


class Ids:
    """The existing ids found by reading the list operations, by segment."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {}
        self.protected: dict[str, set[int]] = {}  # rows a case must not touch

    def add(self, row: Row) -> None:
        rows = self.rows.setdefault(row.segment, [])
        if row not in rows:
            rows.append(row)

    def candidates(
        self, segment: str, chosen: dict[str, int], within: frozenset[str] | None = None
    ) -> list[Row]:
        """The rows of `segment` that agree with the ids already chosen for the path and,
        given `within` (the path's segments), sit in rows the path names (a template's
        task, not a service's, under `/task-templates/{template_id}/tasks`)."""
        segment = SEGMENT_ALIAS.get(segment, segment)
        rows = [
            row
            for row in self.rows.get(segment, [])
            if all(chosen.get(seg, value) == value for seg, value in row.context)
            and row.value not in self.protected.get(segment, ())
        ]
        if within is None:
            return rows
        return [r for r in rows if all(seg in within for seg, _ in r.context)] or rows


# ---------------------------------------------------------------- the fuzzer


def _sketch(case: GeneratedCase) -> str:
    """The request in one short line: method, path and query, and the start of the body."""
    from urllib.parse import urlencode

    text = f"{case.method.upper()} {case.formatted_path}"
    if case.query:
        text += "?" + urlencode(case.query, doseq=True)
    body = getattr(case, "body", None)
    if body is not None and type(body).__name__ != "NotSet":
        try:
            shown = json.dumps(body, ensure_ascii=True, default=repr)
        except (TypeError, ValueError):
            shown = repr(body)
        text += f" body={shown[:200]}{'...' if len(shown) > 200 else ''}"
    return text


def _failure_text(failure: Any) -> tuple[str, str]:
    """A check's failure as a stable line (title, and for a schema violation the place in
    the body and the rule broken, list positions as `*`) and an example message."""
    title = str(getattr(failure, "title", "") or type(failure).__name__)
    raw = str(getattr(failure, "_raw_message", "") or getattr(failure, "message", "") or "")
    path = getattr(failure, "instance_path", None)
    rule = getattr(failure, "schema_path", None)
    if path is None and rule is None:
        return title, _first_line(raw)
    where = "/".join("*" if isinstance(p, int) else str(p) for p in path or [])
    keyword = str(list(rule)[-1]) if rule else ""
    return f"{title} at /{where} ({keyword})", _first_line(raw)


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _where(exc: BaseException) -> str:
    """The deepest frame of Carte's own code an exception passed through."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/carte/" in f.filename]
    if not frames:
        return ""
    last = frames[-1]
    return f" at {last.filename.rsplit('/carte/', 1)[-1]}:{last.lineno}"


class Fuzzer:
    """Generates, sends and checks the requests of one persona; collects a `Report`."""

    def __init__(self, schema: OpenApiSchema, persona: Persona, ids: Ids | None = None) -> None:
        self.schema = schema
        self.persona = persona
        self.ids = ids if ids is not None else Ids()
        self.report = Report()
        self.headers = {"Authorization": f"Bearer {persona.token}"} if persona.token else {}
        self._errors: list[BaseException] = []

    def operations(self) -> list[Operation]:
        """Every operation of the document; one it cannot read stops the run."""
        from schemathesis.core.result import Ok

        found = []
        for result in self.schema.get_all_operations():
            if not isinstance(result, Ok):
                raise result.err()
            found.append(result.ok())
        return found

    # -- sending and checking

    def send(self, case: GeneratedCase) -> Response:
        """One request, checked; findings go to the report."""
        from schemathesis.errors import FailureGroup
        from schemathesis.specs.openapi.checks import (
            content_type_conformance,
            response_schema_conformance,
            status_code_conformance,
        )

        self._errors.clear()
        started = perf_counter()
        with contained():
            response = case.call(headers=self.headers)
        self.report.time[case.operation.label] += perf_counter() - started
        self.report.requests += 1
        self.report.statuses[response.status_code] += 1
        label = case.operation.label
        status = response.status_code

        def found(kind: str, detail: str, example: str = "") -> None:
            self.report.add(Finding(kind, label, status, detail, example, _sketch(case)))

        if status >= 500:
            detail = _first_line(response.text)
            example = ""
            if self._errors:
                exc = self._errors[-1]
                detail = f"{type(exc).__name__}{_where(exc)}"
                example = _first_line(str(exc))
            found(SERVER_ERROR, detail, example)
        for kind, check in (
            # A 5xx is counted once, as such, though it is undocumented too.
            *([] if status >= 500 else [(UNDOCUMENTED_STATUS, status_code_conformance)]),
            (SCHEMA_VIOLATION, response_schema_conformance),
            (CONTENT_TYPE, content_type_conformance),
        ):
            try:
                case.validate_response(response, checks=[check])
            except FailureGroup as group:
                for failure in group.exceptions:
                    found(kind, *_failure_text(failure))
        content_type = response.headers.get("content-type", [""])[0]
        if status >= 400 and not content_type.startswith(PROBLEM_JSON):
            found(NOT_PROBLEM, f"Content-Type: {content_type or '(none)'}")
        return response

    # -- existing ids

    def harvest(self, rounds: int = 3, limit: int = 12) -> None:
        """Read every list operation (GET, no path id left unknown) and keep the ids its
        answer names; a round reads the lists inside the rows the previous ones found, for
        up to `limit` of them."""
        lists = [
            op
            for op in self.operations()
            if op.method.upper() == "GET" and not _PARAM.match(op.path.rstrip("/").split("/")[-1])
        ]
        done: set[str] = set()
        with in_process(self._errors), quiet():
            self._harvest(lists, done, rounds, limit)

    def _harvest(self, lists: list[Operation], done: set[str], rounds: int, limit: int) -> None:
        for _ in range(rounds):
            for op in lists:
                for path_parameters in self._fillings(op.path, limit=limit):
                    case = op.Case(path_parameters=path_parameters, query={})
                    key = case.formatted_path
                    if key in done:
                        continue
                    done.add(key)
                    response = self.send(case)
                    if response.status_code != 200:
                        continue
                    try:
                        body = response.json()
                    except ValueError:
                        continue
                    segment = op.path.rstrip("/").split("/")[-1]
                    context = tuple(
                        (SEGMENT_ALIAS.get(seg, seg), int(path_parameters[name]))
                        for seg, name in _segments(op.path)
                        if name and name != "org"
                    )
                    for row in _rows(body, segment, context):
                        self.ids.add(row)

    def _fillings(self, template: str, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` assignments of existing ids to the path's parameters."""
        fillings: list[dict[str, Any]] = [{"org": self.persona.org}]
        chosen: list[dict[str, int]] = [{}]
        for segment, name in _segments(template):
            if not name or name == "org":
                continue
            new_fillings, new_chosen = [], []
            for filling, picked in zip(fillings, chosen, strict=True):
                rows = self.ids.candidates(segment, picked)
                for row in rows[:: max(1, len(rows) // limit)][:limit]:
                    new_fillings.append({**filling, name: row.value})
                    new_chosen.append({**picked, SEGMENT_ALIAS.get(segment, segment): row.value})
            fillings, chosen = new_fillings[:limit], new_chosen[:limit]
        return fillings

    def realise(self, case: GeneratedCase, draw: Any) -> None:
        """The persona's organisation in the path; then, seven times in eight, existing ids
        for the path's integer parameters (a parameter generated as something else is the
        invalid part of a negative case and stays). The deepest id is chosen first and
        the ones above it follow from it, so a level comes with its own service."""
        from hypothesis import strategies as st

        params = case.path_parameters
        if params is None:
            return
        params["org"] = self.persona.org
        # Hypothesis starts from the smallest draw (0): the first case of each run is real.
        real = draw(st.integers(0, 7)) < 7
        around: dict[str, int] = {}  # the rows the chosen ones sit in, by segment
        segments = _segments(case.operation.path)
        within = frozenset(SEGMENT_ALIAS.get(seg, seg) for seg, _ in segments)
        for segment, name in reversed(segments):
            if not name or name == "org" or name not in params:
                continue
            value = params[name]
            if not isinstance(value, int) or isinstance(value, bool):
                continue
            segment = SEGMENT_ALIAS.get(segment, segment)
            if segment in around:
                params[name] = around[segment]
                continue
            if not real and value not in self.ids.protected.get(segment, ()):
                continue
            candidates = self.ids.candidates(segment, around, within)
            if candidates:
                row = draw(st.sampled_from(candidates))
                params[name] = row.value
                around.update(row.context)

    # -- generation

    def fuzz(self, operation: Operation, *, negative: bool, examples: int, seed: int) -> int:
        """Up to `examples` generated requests to one operation; how many were sent."""
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as with_seed
        from hypothesis import strategies as st
        from schemathesis import GenerationMode

        mode = GenerationMode.NEGATIVE if negative else GenerationMode.POSITIVE
        before = self.report.requests
        strategy = operation.as_strategy(generation_mode=mode)

        @with_seed(seed ^ zlib.crc32(f"{operation.label} {mode}".encode()))
        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            derandomize=False,
            phases=[Phase.generate],  # no shrinking: every failing request is counted
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
        )
        @given(case=strategy, data=st.data())
        def run(case: GeneratedCase, data: Any) -> None:
            self.realise(case, data.draw)
            self.send(case)

        try:
            run()
        except Exception as exc:  # generation could not produce a case: noted, not fatal
            self.report.not_generated.append(
                f"{operation.label} ({mode}): {type(exc).__name__}: {_first_line(str(exc))}"
            )
        return self.report.requests - before

    def run(
        self,
        *,
        requests: int,
        examples: int = 25,
        seed: int = SEED,
        operations: Sequence[Operation] | None = None,
        progress: bool = False,
    ) -> Report:
        """Rounds over every operation, positive then negative, `examples` each, a new seed
        each round, until `requests` were sent (or a round sent none)."""
        operations = list(operations) if operations is not None else self.operations()
        started = perf_counter()
        round_ = 0
        requests += self.report.requests  # those of the harvest come on top
        with in_process(self._errors), quiet():
            while self.report.requests < requests:
                sent = 0
                for operation in operations:
                    for negative in (False, True):
                        if self.report.requests >= requests:
                            break
                        sent += self.fuzz(
                            operation,
                            negative=negative,
                            examples=min(examples, EXAMPLES_AT_MOST.get(operation.label, examples)),
                            seed=seed + round_,
                        )
                if progress:
                    print(
                        f"round {round_}: {self.report.requests} requests, "
                        f"{sum(self.report.counts.values())} findings",
                        file=sys.stderr,
                    )
                round_ += 1
                if not sent:
                    break
        self.report.seconds += perf_counter() - started
        return self.report


# ---------------------------------------------------------------- the long run


def _prepare(var_dir: Path) -> list[Persona]:
    """The database migrated and the demo loaded afresh, and a token for the
    administrator, the viewer and the customer of `northwind`. The database is
    `DATABASE_URL`'s if set (one of its own: the demo is replaced), otherwise SQLite in
    `var_dir`. Background work runs in the request that starts it, so the imports, exports
    and the PDF are fuzzed too."""
    os.environ["CARTE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("CARTE_TASKS_BACKEND", "immediate")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carte.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.CARTE_TOKEN_FAILURES = 0  # the fuzzer's bad tokens must not lock it out
    settings.AXES_ENABLED = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)

    from carte.demo import load_demo
    from carte.organisations import services
    from carte.organisations.models import User

    load_demo(reset=True)
    personas = []
    for role in ("admin", "viewer", "customer"):
        user = User.objects.get(email=f"{role}@northwind.example")
        _, raw = services.token_create(user=user, name="fuzz")
        personas.append(Persona(role, "northwind", raw))
    return personas


def protect_personas(ids: Ids, org: str, emails: Sequence[str]) -> None:
    """The fuzzing personas' memberships are left alone: archiving one would turn the rest
    of the run into 401s and 404s."""
    from carte.organisations.models import Membership

    memberships = Membership.objects.filter(organisation__slug=org, user__email__in=emails)
    ids.protected["members"] = set(memberships.values_list("pk", flat=True))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=DEFAULT_REQUESTS, help="in all")
    parser.add_argument("--examples", type=int, default=25, help="per operation and mode, a round")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument(
        "--share",
        type=float,
        default=0.8,
        help="the administrator's share of the requests; the viewer and customer split the rest",
    )
    parser.add_argument("--var-dir", type=Path, help="for the database (default: a temporary one)")
    parser.add_argument("--out", type=Path, help="also write the JSON report here")
    args = parser.parse_args(argv)

    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="carte-fuzz-"))
    print(f"database in {var_dir}", file=sys.stderr)
    personas = _prepare(var_dir)
    schema = load_schema()
    budgets = {
        "admin": int(args.requests * args.share),
        "viewer": int(args.requests * (1 - args.share) / 2),
        "customer": args.requests
        - int(args.requests * args.share)
        - int(args.requests * (1 - args.share) / 2),
    }
    reports: dict[str, Report] = {}
    # The lower roles first: the administrator's writes could otherwise archive their people.
    for persona in sorted(personas, key=lambda p: p.name == "admin"):
        ids = Ids()
        protect_personas(ids, persona.org, [f"{p.name}@{p.org}.example" for p in personas])
        fuzzer = Fuzzer(schema, persona, ids)
        fuzzer.harvest()
        print(f"{persona.name}: {sum(len(r) for r in ids.rows.values())} ids", file=sys.stderr)
        reports[persona.name] = fuzzer.run(
            requests=budgets[persona.name], examples=args.examples, seed=args.seed, progress=True
        )
        print(f"== {persona.name}\n{reports[persona.name].summary()}", flush=True)
    total = Report()
    for report in reports.values():
        total.requests += report.requests
        total.seconds += report.seconds
        total.statuses.update(report.statuses)
        total.counts.update(report.counts)
        for operation, seconds in report.time.items():
            total.time[operation] += seconds
        total.not_generated += report.not_generated
        for finding in report.findings.values():
            key = (finding.kind, finding.operation, finding.status, finding.detail)
            if key in total.findings:
                total.findings[key].count += finding.count
            else:
                total.findings[key] = Finding(**vars(finding))
    print(f"== all personas\n{total.summary()}")
    document = {"all": total.as_dict(), **{k: r.as_dict() for k, r in reports.items()}}
    if args.out:
        args.out.write_text(json.dumps(document, indent=2))
    return 1 if any(total.counts[kind] for kind in KINDS) else 0


if __name__ == "__main__":
    sys.exit(main())
