"""Writes of people's assessed competences: record, change, archive and restore an
assessment, and confirm a self-assessment (a PMO Manager). History is kept: a new
assessment never changes an older one; of those that count, the latest is the level."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from django.db import transaction

from carte.capacity import permissions as perms
from carte.capacity.models import Assessment
from carte.capacity.services.common import a_date, live_person, long_text, only
from carte.core import clock
from carte.core.errors import CONFLICT, DomainError, forbidden
from carte.core.permissions import ADD, ARCHIVE, CHANGE, ActorLike, require
from carte.core.services import (
    archive_object,
    check_same_org,
    create_object,
    restore_object,
    update_object,
    validate,
)
from carte.operations.permissions import own_person_ids
from carte.organisations.choices import CompetenceLevel
from carte.organisations.models import Competence, Person

FIELDS = ("competence", "level", "assessed_on", "evidence", "assessed_by")
LEVELS = ", ".join(f"{value} {label}" for value, label in CompetenceLevel.choices)


def _level(value: Any) -> int:
    """A level of the framework, 1 to 5; anything else refused, naming the levels."""
    try:
        level = int(value)
    except (TypeError, ValueError):
        level = 0
    if (
        isinstance(value, bool)
        or level not in CompetenceLevel.values
        or str(value).strip() != str(level)
    ):
        raise DomainError.field("level", f"Choose a level of the framework, 1 to 5 ({LEVELS}).")
    return level


def _competence(actor: ActorLike, competence: Competence | None) -> Competence:
    if competence is None:
        raise DomainError.field("competence", "This field is required.")
    check_same_org(actor, competence=competence)
    if competence.archived_at is not None:
        raise DomainError.field("competence", f"“{competence}” is archived.")
    return competence


def _assessor(actor: ActorLike, person: Person, given: Person | None) -> Person | None:
    """Who assessed: the one named (a keeper may record someone else's assessment), else
    the actor's own person in the organisation, if any."""
    if given is not None:
        check_same_org(actor, assessed_by=given)
        return given
    own = own_person_ids(actor)
    if person.pk in own:
        return person
    if own:
        return Person.objects.filter(pk__in=own, archived_at__isnull=True).order_by("pk").first()
    return None


def _values(actor: ActorLike, data: Mapping[str, Any]) -> dict[str, Any]:
    """The fields given, each checked and in its stored form."""
    values = only(data, FIELDS, "an assessment")
    if "competence" in values:
        values["competence"] = _competence(actor, values["competence"])
    if "level" in values:
        values["level"] = _level(values["level"])
    if "assessed_on" in values:
        values["assessed_on"] = a_date("assessed_on", values["assessed_on"])
    if "evidence" in values:
        values["evidence"] = long_text("evidence", values["evidence"])
    return values


def is_self(actor: ActorLike, person: Person) -> bool:
    """Whether the actor records about their own person: a self-assessment."""
    return actor.user is not None and person.pk in own_person_ids(actor)


@transaction.atomic
def assessment_create(*, actor: ActorLike, person: Person, data: Mapping[str, Any]) -> Assessment:
    """Record a person's level in a competence, as of a day. A person recording their own
    is a self-assessment, which counts once a PMO Manager confirms it; a keeper records
    anyone's. A second assessment of the same competence on the same day is refused."""
    require(actor, ADD, Assessment)
    live_person(actor, person)
    own = is_self(actor, person)
    # The right on this person's row, before the data is read: someone else's assessment
    # is a keeper's to record.
    require(
        actor, ADD, Assessment(organisation=actor.organisation, person=person, self_assessed=own)
    )
    values = _values(actor, data)
    if "competence" not in values:
        raise DomainError.field("competence", "This field is required.")
    if "level" not in values:
        raise DomainError.field("level", "This field is required.")
    values.setdefault("assessed_on", clock.today())
    assessed_by = values.pop("assessed_by", None)
    if assessed_by is not None and own and assessed_by.pk != person.pk:
        raise DomainError.field("assessed_by", "A self-assessment is assessed by you.")
    assessment = Assessment(
        organisation=actor.organisation,
        person=person,
        self_assessed=own,
        assessed_by=_assessor(actor, person, None if own else assessed_by),
        **values,
    )
    require(actor, ADD, assessment)
    return create_object(actor, assessment)


@transaction.atomic
def assessment_update(
    *, actor: ActorLike, assessment: Assessment, data: Mapping[str, Any]
) -> Assessment:
    """Correct an assessment. A confirmed self-assessment whose level or day the person
    changes needs confirming again."""
    require(actor, CHANGE, assessment)
    values = _values(actor, data)
    if "assessed_by" in values:
        if assessment.self_assessed:
            raise DomainError.field("assessed_by", "A self-assessment is assessed by the person.")
        values["assessed_by"] = _assessor(actor, assessment.person, values["assessed_by"])
    probe = copy.copy(assessment)
    for name, value in values.items():
        setattr(probe, name, value)
    moved = any(
        getattr(probe, name) != getattr(assessment, name)
        for name in ("level", "assessed_on", "competence_id")
    )
    if moved and assessment.confirmed_at is not None and not perms.keeps(actor, assessment):
        values.update(confirmed_by=None, confirmed_at=None)
    validate(probe)
    return update_object(actor, assessment, values)


@transaction.atomic
def assessment_confirm(*, actor: ActorLike, assessment: Assessment) -> Assessment:
    """A PMO Manager confirms a self-assessment: from now on it counts."""
    require(actor, perms.CONFIRM, assessment)
    if not assessment.self_assessed:
        raise DomainError("Only a self-assessment needs confirming.", code=CONFLICT)
    if assessment.archived_at is not None:
        raise DomainError("This assessment is archived.", code=CONFLICT)
    if is_self(actor, assessment.person) and not actor.system:
        raise forbidden("Someone else confirms your own self-assessment.")
    if assessment.confirmed_at is not None:
        return assessment
    return update_object(
        actor, assessment, {"confirmed_by": actor.user, "confirmed_at": clock.now()}
    )


@transaction.atomic
def assessment_archive(*, actor: ActorLike, assessment: Assessment) -> Assessment:
    """Set an assessment aside (recorded in error): the level falls back on the previous."""
    require(actor, ARCHIVE, assessment)
    return archive_object(actor, assessment)


@transaction.atomic
def assessment_restore(*, actor: ActorLike, assessment: Assessment) -> Assessment:
    """Bring an archived assessment back (refused if another of that day has taken its
    place)."""
    require(actor, ARCHIVE, assessment)
    return restore_object(actor, assessment)
