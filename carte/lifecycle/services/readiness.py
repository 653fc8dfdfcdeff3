"""Organisation readiness (M-16): the assessment that must say "ready" before the
transition starts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from carte.catalogue.choices import Stage
from carte.catalogue.models import Service
from carte.core.clock import today
from carte.core.errors import DomainError
from carte.core.services import check_same_org, clean_text, create_object
from carte.lifecycle.choices import Answer, Verdict
from carte.lifecycle.models import ReadinessAnswer, ReadinessAssessment
from carte.lifecycle.services.base import Attachment, in_stage, lock, record_event, require_manage
from carte.organisations.actor import Actor
from carte.organisations.models import Person


@dataclass(frozen=True)
class ReadinessItem:
    question: str
    answer: str  # Answer
    note: str = ""


@transaction.atomic
def readiness_record(
    *,
    actor: Actor,
    service: Service,
    assessor: Person,
    assessed_on: dt.date,
    answers: Sequence[ReadinessItem],
    verdict: str,
    note: str = "",
    attachments: Sequence[Attachment] = (),
) -> ReadinessAssessment:
    """Record an organisation readiness assessment (M-16): an answer to each question,
    who assessed, and the overall verdict."""
    require_manage(actor, service)
    locked = lock(service)
    in_stage(locked, Stage.SIGNED_OFF, doing="assess readiness")
    check_same_org(actor, live=True, assessor=assessor)
    if not answers:
        raise DomainError.field("answers", "Answer the readiness questions.")
    for index, item in enumerate(answers):
        if item.answer not in Answer.values:
            raise DomainError.field(f"answers.{index}", "Answer yes, partly or no.")
        clean_text(f"answers.{index}", item.question, limit=300)
    if verdict not in Verdict.values:
        raise DomainError.field("verdict", "Say whether the organisation is ready.")
    if verdict == Verdict.READY and any(i.answer == Answer.NO for i in answers):
        raise DomainError.field(
            "verdict", "A question answered 'no' means the organisation is not ready yet."
        )
    if not isinstance(assessed_on, dt.date):
        raise DomainError.field("assessed_on", "Give the date of the assessment.")
    if assessed_on > today():
        raise DomainError.field("assessed_on", "An assessment cannot be dated in the future.")
    assessment = create_object(
        actor,
        ReadinessAssessment(
            service=locked, assessor=assessor, assessed_on=assessed_on, verdict=verdict, note=note
        ),
    )
    for position, item in enumerate(answers, start=1):
        create_object(
            actor,
            ReadinessAnswer(
                assessment=assessment,
                question=item.question.strip(),
                answer=item.answer,
                note=item.note.strip()[:300],
                position=position,
            ),
        )
    record_event(
        actor,
        locked,
        f"Readiness assessed by {assessor}: {Verdict(verdict).label.lower()}",
        note=note,
        attachments=attachments,
    )
    return assessment
