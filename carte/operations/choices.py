"""Fixed vocabularies of running a service (M-17..M-19, M-24, M-25)."""

from __future__ import annotations

from django.db import models


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class Frequency(models.TextChoices):
    """How often a KPI is reported; periods are calendar weeks (from Monday), months and
    quarters, each named by its first day."""

    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class Source(models.TextChoices):
    ENTERED = "entered", "Entered"
    IMPORTED = "imported", "Imported"
    API = "api", "API"


class Rag(models.TextChoices):
    GREEN = "green", "Green"
    AMBER = "amber", "Amber"
    RED = "red", "Red"


class ReporterRole(models.TextChoices):
    """The service role that reports a KPI (M-10, M-17)."""

    OWNER = "owner", "Service Owner"
    MANAGER = "manager", "Service Manager"
    OPERATIVE = "operative", "Service Operative"


class ItemKind(models.TextChoices):
    RISK = "risk", "Risk"
    ISSUE = "issue", "Issue"


class ItemStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Level(models.IntegerChoices):
    """The three levels a risk or issue escalates through (M-18)."""

    OPERATIONS = 1, "Service operations"
    DELIVERY = 2, "Delivery management"
    OWNERSHIP = 3, "Service ownership"


class ActionPurpose(models.TextChoices):
    MITIGATION = "mitigation", "Mitigation"
    RESOLUTION = "resolution", "Resolution"


class Decision(models.TextChoices):
    """What the Service Owner decides on an item escalated to service ownership (M-18)."""

    MITIGATE = "mitigate", "Agree the mitigation"
    ACCEPT = "accept", "Accept the risk as it is"
    CHANGE = "change", "Change the service"
    CLOSE_SERVICE = "close_service", "Close the service"


class RaisedAs(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    OPERATIVE = "operative", "Service Operative"
    STAKEHOLDER = "stakeholder", "Stakeholder"
    MANAGER = "manager", "Service Manager"


class ChangeReason(models.TextChoices):
    """Why a service changes (M-19)."""

    BUSINESS = "business", "Business context"
    FEEDBACK = "feedback", "Feedback"
    POLICY = "policy", "New policy"
    TOOLS = "tools", "Tools and techniques"


class Affects(models.TextChoices):
    STRATEGY = "strategy", "Service Strategy"
    CATALOGUE = "catalogue", "Service Catalogue"
    HANDBOOK = "handbook", "Operations Handbook"


class ChangeState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    IMPLEMENTED = "implemented", "Implemented"


class ImprovementStatus(models.TextChoices):
    IDEA = "idea", "Idea"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING = "awaiting", "Awaiting the Owner's agreement"
    IMPLEMENTED = "implemented", "Implemented"
    DROPPED = "dropped", "Dropped"


class NoticeKind(models.TextChoices):
    KPI_DUE = "kpi_due", "KPI report due soon"
    KPI_OVERDUE = "kpi_overdue", "KPI report overdue"
    ESCALATED = "escalated", "Escalated to you"
    DECISION = "decision", "Waiting for your decision"
    LEVEL_MISSED = "level_missed", "Service level missed"
    DECIDED = "decided", "Your request was decided"


# Improvements still to act on: ideas, in progress, awaiting the Owner's agreement.
OPEN_IMPROVEMENTS = (
    ImprovementStatus.IDEA,
    ImprovementStatus.IN_PROGRESS,
    ImprovementStatus.AWAITING,
)
