"""`carte lifecycle show|move|board`: a service's stage, checklist and timeline; a move
made as a member of the organisation; and the board of services by stage.

`move` goes through `carte.lifecycle.services.transition` acting as the member named by
`--as` (their roles decide what they may do), with the payload of
`POST …/services/{id}/transitions` (ids resolved in the organisation). Any refusal prints
one line, exits with code 2 and writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from pydantic import ValidationError

from carte.catalogue import selectors as catalogue_selectors
from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.errors import DomainError
from carte.lifecycle import machine, selectors, services
from carte.lifecycle.api import TransitionIn, transition_payload
from carte.lifecycle.models import LifecycleEvent
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation, User
from carte.organisations.selectors import actor_for


def refuse(message: str) -> CommandError:
    return CommandError(message, returncode=2)


def _days(since: Any) -> int:
    return max((timezone.now() - since).days, 0) if since else 0


class Command(BaseCommand):
    help = "Show a service's lifecycle, move it to another stage, or show the board."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        show = sub.add_parser("show", help="Stage, checklist of each next move, timeline.")
        show.add_argument("service", help="The service's code.")
        show.add_argument("--org", required=True, help="The organisation (slug).")
        show.add_argument("--as", dest="email", help="Say which moves this member may make.")
        show.add_argument("--limit", type=int, default=20, help="Timeline events (default 20).")
        move = sub.add_parser("move", help="Move a service to another stage.")
        move.add_argument("service", help="The service's code.")
        move.add_argument("to", help="The target stage, or the move's name (e.g. approve).")
        move.add_argument("--org", required=True, help="The organisation (slug).")
        move.add_argument("--as", dest="email", required=True, help="The member making it.")
        move.add_argument("--note", default="", help="The note (required by some moves).")
        move.add_argument("--expected-from", help="Refuse if the service is no longer here.")
        move.add_argument(
            "--payload-json",
            help="The move's payload as in the API (ids): a JSON object or a file holding one.",
        )
        board = sub.add_parser("board", help="Every live service by stage, with its age there.")
        board.add_argument("--org", required=True, help="The organisation (slug).")

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organisation.objects.filter(slug=options["org"]).first()
        if org is None:
            raise refuse(f"No organisation {options['org']!r}.")
        try:
            if options["action"] == "board":
                self._board(Actor.for_system(org))
                return
            actor = self._member(org, options["email"]) if options.get("email") else None
            service = self._service(actor or Actor.for_system(org), options["service"])
            if options["action"] == "show":
                self._show(actor, service, options["limit"])
            else:
                assert actor is not None  # --as is required by the parser
                self._move(actor, service, options)
        except DomainError as exc:
            raise refuse(exc.one_line()) from exc

    # -- lookups

    def _member(self, org: Organisation, email: str) -> Actor:
        user = User.objects.filter(email__iexact=email.strip(), is_active=True).first()
        if user is None:
            raise refuse(f"No active login {email!r}.")
        try:
            return actor_for(user, org.slug)
        except DomainError as exc:
            raise refuse(f"{email} is not a member of {org.slug}.") from exc

    def _service(self, actor: Actor, code: str) -> Service:
        found = (
            Service.objects.filter(
                organisation=actor.organisation, code__iexact=code, archived_at__isnull=True
            )
            .values_list("pk", flat=True)
            .first()
        )
        if found is None:
            raise refuse(f"No service {code!r} in {actor.organisation.slug}.")
        return catalogue_selectors.service_get(actor=actor, pk=found)

    # -- show

    def _show(self, actor: Actor | None, service: Service, limit: int) -> None:
        since = service.stage_changed_at or service.created_at
        out = self.stdout.write
        out(f"{service.code}  {service.name}")
        out(
            f"Stage: {Stage(service.stage).label} since "
            f"{timezone.localtime(since):%Y-%m-%d %H:%M} ({_days(since)} days)"
        )
        reader = actor or Actor.for_system(service.organisation)
        moves = machine.next_moves(reader, service)
        if not moves:
            out("No move leads on from here.")
        for move in moves:
            may = "" if actor is None else ("  [you may]" if move.allowed else "  [not you]")
            state = "ready" if move.ready else f"{len(move.unmet)} missing"
            out("")
            out(
                f"{move.move.label} -> {Stage(move.move.target).label} "
                f"({move.move.name}; {move.move.who}; {state}){may}"
            )
            for check in move.checks:
                out(f"  [{'x' if check.met else ' '}] {check.label}")
                if not check.met and check.hint:
                    out(f"      {check.hint}")
        events = list(
            LifecycleEvent.objects.filter(service=service, archived_at__isnull=True)
            .prefetch_related("attachments")
            .order_by("-at", "-id")[: max(limit, 0)]
        )
        out("")
        out("Timeline (newest first):" if events else "Timeline: nothing yet.")
        for event in events:
            at = timezone.localtime(event.at)
            out(f"  {at:%Y-%m-%d %H:%M}  {event.title}  ({event.actor_label})")
            if event.note:
                out(f"      {' '.join(event.note.split())}")
            for attachment in event.attachments.all():
                out(f"      attached: {attachment.name} {attachment.url or attachment.file.name}")

    # -- move

    def _target(self, service: Service, to: str) -> str:
        if to in Stage.values:
            return to
        move = machine.BY_NAME.get(to)
        if move is not None and move.source == service.stage:
            return move.target
        ways = ", ".join(f"{m.name} ({m.target})" for m in machine.moves_from(service.stage))
        raise refuse(
            f"Unknown stage or move {to!r}; from {Stage(service.stage).label}: {ways or 'none'}."
        )

    def _payload(self, raw: str | None) -> dict[str, Any]:
        if not raw:
            return {}
        text = raw
        if not raw.lstrip().startswith("{"):
            try:
                text = Path(raw).read_text(encoding="utf-8")
            except OSError as exc:
                raise refuse(f"Cannot read {raw}: {exc.strerror}.") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise refuse(f"The payload is not valid JSON: {exc}.") from exc
        if not isinstance(data, dict):
            raise refuse("The payload must be a JSON object.")
        for name in ("to", "expected_from", "note"):
            if name in data:
                raise refuse(f"Give {name!r} as an argument, not in the payload.")
        return data

    def _move(self, actor: Actor, service: Service, options: dict[str, Any]) -> None:
        target = self._target(service, options["to"])
        body = {**self._payload(options.get("payload_json")), "to": target}
        if options.get("expected_from"):
            body["expected_from"] = options["expected_from"]
        try:
            payload = TransitionIn.model_validate(body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
            )
            raise refuse(f"Bad payload: {problems}.") from exc
        data = payload.model_dump(exclude_unset=True)
        for name in ("to", "expected_from", "note", "attachments"):
            data.pop(name, None)
        source = service.stage
        event = services.transition(
            actor=actor,
            service=service,
            to=payload.to,
            expected_from=payload.expected_from,
            note=options["note"],
            attachments=[services.Attachment(name=a.name, url=a.url) for a in payload.attachments],
            **transition_payload(actor, data),
        )
        self.stdout.write(
            f"{service.code}: {Stage(source).label} -> {Stage(event.to_stage).label} "
            f"({event.title})."
        )

    # -- board

    def _board(self, actor: Actor) -> None:
        rows = list(
            Service.objects.filter(organisation=actor.organisation, archived_at__isnull=True)
            .order_by("code")
            .values_list("code", "name", "stage", "stage_changed_at", "created_at")
        )
        by_stage: dict[str, list[tuple[Any, ...]]] = {stage: [] for stage in selectors.BOARD_STAGES}
        for row in rows:
            by_stage.setdefault(row[2], []).append(row)
        width = max((len(r[0]) for r in rows), default=4)
        for stage, items in by_stage.items():
            self.stdout.write(f"{Stage(stage).label} ({len(items)})")
            for code, name, _, changed, created in items:
                self.stdout.write(f"  {code:<{width}}  {name}  {_days(changed or created)} d")
