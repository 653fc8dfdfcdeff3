"""Fixed vocabularies of the service lifecycle (M-13..M-16, M-20, M-21)."""

from __future__ import annotations

from django.db import models


class EventKind(models.TextChoices):
    TRANSITION = "transition", "Stage change"
    STEP = "step", "Step recorded"
    NOTE = "note", "Note"


class Sourcing(models.TextChoices):
    """How the service will be provided, decided before set-up starts (M-14)."""

    IN_HOUSE = "in_house", "Deliver in-house"
    BUILD_IN_HOUSE = "build_in_house", "Build the competence in-house first"
    OUTSOURCE_WHOLE = "outsource_whole", "Outsource in whole"
    OUTSOURCE_PART = "outsource_part", "Outsource in part"


OUTSOURCED = frozenset({Sourcing.OUTSOURCE_WHOLE, Sourcing.OUTSOURCE_PART})


class TaskPurpose(models.TextChoices):
    SETUP = "setup", "Set-up"
    CLOSURE = "closure", "Closure"


class TaskStatus(models.TextChoices):
    TODO = "todo", "To do"
    DOING = "doing", "In progress"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class PilotOutcome(models.TextChoices):
    OPEN = "open", "Under way"
    PASSED = "passed", "Ready for sign-off"
    ITERATE = "iterate", "Another iteration needed"


class CriterionResultKind(models.TextChoices):
    MET = "met", "Met"
    NOT_MET = "not_met", "Not met"


class Answer(models.TextChoices):
    YES = "yes", "Yes"
    PARTLY = "partly", "Partly"
    NO = "no", "No"


class Verdict(models.TextChoices):
    READY = "ready", "Ready"
    NOT_READY = "not_ready", "Not ready"


class Approach(models.TextChoices):
    PHASED = "phased", "Phased"
    BIG_BANG = "big_bang", "Big bang"


class ClosureReason(models.TextChoices):
    """The eight reasons a service closes (M-20)."""

    END_DATE = "end_date", "Agreed end date reached"
    OBJECTIVE_ACHIEVED = "objective_achieved", "Objective achieved"
    RESOURCES = "resources", "Resources needed elsewhere or gone"
    REQUESTED = "requested", "Asked for by the stakeholders or the Service Owner"
    NOT_BEST_PROVIDER = "not_best_provider", "PMO no longer the best provider"
    LEVEL_UNREACHABLE = "level_unreachable", "Required level or outcomes cannot be reached"
    REPLACED = "replaced", "Replaced by a new service"
    CHANGE_OF_FOCUS = "change_of_focus", "The PMO changes focus"


class ArtefactFate(models.TextChoices):
    KEEP = "keep", "Keep for reuse"
    ARCHIVE = "archive", "Archive"
    DISCARD = "discard", "Discard"


# The questions of an organisation readiness assessment (M-16), asked in this order.
READINESS_QUESTIONS: tuple[str, ...] = (
    "Customers know the service is coming and how to ask for it.",
    "The people who deliver it are trained and available.",
    "The procedures and templates are published where people work.",
    "The tools and access the service needs are in place.",
    "Governance: the Owner, Managers and escalation routes are agreed.",
    "Support for the change in behaviour is planned (communication, coaching).",
)
