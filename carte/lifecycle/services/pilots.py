"""Pilots (M-15): the result of the current iteration, the Owner's waivers of criteria
it did not meet, and the sign-off that waives and moves at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.clock import now
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.permissions import can
from carte.core.services import clean_text, create_object, update_object
from carte.lifecycle import machine
from carte.lifecycle.choices import CriterionResultKind
from carte.lifecycle.models import CriterionResult, LifecycleEvent, PilotIteration, SuccessCriterion
from carte.lifecycle.permissions import SIGN_OFF
from carte.lifecycle.services.base import (
    Attachment,
    check_tenant,
    in_stage,
    lock,
    record_event,
    require_manage,
)
from carte.lifecycle.services.transitions import transition
from carte.organisations.actor import Actor


@dataclass(frozen=True)
class CriterionOutcome:
    criterion: SuccessCriterion
    result: str  # CriterionResultKind
    evidence: str = ""


@transaction.atomic
def pilot_result_record(
    *,
    actor: Actor,
    service: Service,
    results: Sequence[CriterionOutcome],
    governance_in_place: bool,
    resources_confirmed: bool,
    outcomes_validated: bool,
    note: str = "",
    attachments: Sequence[Attachment] = (),
) -> PilotIteration:
    """Record how the current pilot did: a result for every success criterion (met or not,
    with evidence) and the confirmations of M-15. Recording again replaces the results
    (the audit trail keeps the earlier ones)."""
    require_manage(actor, service)
    locked = lock(service)
    in_stage(locked, Stage.PILOT, doing="record a pilot result")
    pilot = machine.latest_pilot(locked)
    if pilot is None:
        raise DomainError("This service has no pilot under way.", code=CONFLICT)
    criteria = {c.pk: c for c in machine.live_criteria(locked)}
    given: dict[int, CriterionOutcome] = {}
    for index, outcome in enumerate(results):
        field = f"results.{index}"
        if outcome.criterion.pk not in criteria:
            raise DomainError.field(field, "Not one of this service's success criteria.")
        if outcome.criterion.pk in given:
            raise DomainError.field(field, "This criterion has two results.")
        if outcome.result not in CriterionResultKind.values:
            raise DomainError.field(field, "Say whether the criterion was met.")
        given[outcome.criterion.pk] = outcome
    missing = [c.description for pk, c in criteria.items() if pk not in given]
    if missing:
        raise DomainError.field("results", "Give a result for: " + "; ".join(missing) + ".")
    existing = {
        r.criterion_id: r
        for r in CriterionResult.objects.filter(pilot=pilot, archived_at__isnull=True)
    }
    for pk, outcome in given.items():
        evidence = (outcome.evidence or "").strip()
        row = existing.get(pk)
        if row is None:
            create_object(
                actor,
                CriterionResult(
                    pilot=pilot,
                    criterion=outcome.criterion,
                    result=outcome.result,
                    evidence=evidence,
                ),
            )
        else:
            update_object(
                actor,
                row,
                {
                    "result": outcome.result,
                    "evidence": evidence,
                    # A new result starts over: an earlier waiver does not carry over.
                    "waived": False,
                    "waiver_reason": "",
                    "waived_by": None,
                },
            )
    update_object(
        actor,
        pilot,
        {
            "governance_in_place": bool(governance_in_place),
            "resources_confirmed": bool(resources_confirmed),
            "outcomes_validated": bool(outcomes_validated),
            "result_note": note.strip(),
            "result_at": now(),
        },
    )
    met = sum(1 for o in given.values() if o.result == CriterionResultKind.MET)
    record_event(
        actor,
        locked,
        f"Pilot {pilot.number} result: {met} of {len(given)} criteria met",
        note=note.strip(),
        attachments=attachments,
    )
    return pilot


@transaction.atomic
def pilot_confirm(
    *, actor: Actor, service: Service, confirmation: str, confirmed: bool = True
) -> PilotIteration:
    """Tick (or untick) one confirmation of M-15 on the current pilot's recorded result
    (`machine.CONFIRMATIONS`: governance, resources, outcomes), where the checklist shows
    it, without recording the whole result again."""
    require_manage(actor, service)
    spec = next((c for c in machine.CONFIRMATIONS if c[0] == confirmation), None)
    if spec is None:
        raise DomainError.field("confirmation", "No such confirmation.")
    locked = lock(service)
    in_stage(locked, Stage.PILOT, doing="confirm a pilot's result")
    pilot = machine.latest_pilot(locked)
    if pilot is None or pilot.result_at is None:
        raise DomainError(
            "Record the pilot's result first: the confirmations go with it.", code=CONFLICT
        )
    _, field, met, missing = spec
    if bool(getattr(pilot, field)) != confirmed:
        update_object(actor, pilot, {field: confirmed})
        record_event(actor, locked, f"Pilot {pilot.number}: {met if confirmed else missing}")
    return pilot


@transaction.atomic
def criterion_waive(*, actor: Actor, result: CriterionResult, reason: str) -> CriterionResult:
    """The Owner accepts a criterion the pilot did not meet, for a recorded reason."""
    service = result.pilot.service
    check_tenant(actor, service)
    if not can(actor, SIGN_OFF, service):
        raise forbidden("Only the Service Owner may waive a success criterion.")
    locked = lock(service)
    in_stage(locked, Stage.PILOT, doing="waive a criterion")
    if result.pilot_id != getattr(machine.latest_pilot(locked), "pk", None):
        raise DomainError("Only a result of the current pilot can be waived.", code=CONFLICT)
    if result.result == CriterionResultKind.MET:
        raise DomainError("This criterion was met: there is nothing to waive.", code=CONFLICT)
    reason = clean_text("waiver_reason", reason)
    update_object(actor, result, {"waived": True, "waiver_reason": reason, "waived_by": actor.user})
    record_event(actor, locked, f"Criterion waived: {result.criterion.description}", note=reason)
    return result


@transaction.atomic
def sign_off(
    *,
    actor: Actor,
    service: Service,
    waivers: Mapping[CriterionResult, str],
    expected_from: str | None = None,
    note: str = "",
    attachments: Sequence[Attachment] = (),
) -> LifecycleEvent:
    """The Owner signs the pilot off (M-15), first waiving the unmet criteria given with a
    reason each: all of it or nothing. A refused waiver names the field
    `waivers.<result id>`. A stale `expected_from` goes straight to the move, which names
    the conflict."""
    if not expected_from or expected_from == service.stage:
        for result, reason in waivers.items():
            try:
                criterion_waive(actor=actor, result=result, reason=reason)
            except DomainError as exc:
                messages = [m for ms in exc.errors.values() for m in ms]
                errors = {f"waivers.{result.pk}": messages} if messages else None
                raise DomainError(exc.message, code=exc.code, errors=errors) from exc
    return transition(
        actor=actor,
        service=service,
        to=Stage.SIGNED_OFF,
        expected_from=expected_from,
        note=note,
        attachments=attachments,
    )
