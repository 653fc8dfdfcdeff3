"""Fixed vocabularies of the catalogue (M-1..M-6, M-8, M-10)."""

from __future__ import annotations

from django.db import models

# The proficiency levels are the competence framework's (organisations): re-exported here,
# where a service's needs name them.
from carte.organisations.choices import CompetenceLevel as CompetenceLevel


class Rationale(models.TextChoices):
    """Why the PMO, rather than someone else, provides the service (M-8)."""

    EFFECTIVE = "effective", "More effective"
    EFFICIENT = "efficient", "More efficient"
    ECONOMICAL = "economical", "More economical"
    CONTROL = "control", "Control needed"


class Scope(models.TextChoices):
    PROJECT = "project", "One project"
    PROGRAMME = "programme", "One programme"
    MULTIPLE = "multiple", "Several projects or programmes"
    PORTFOLIO = "portfolio", "A portfolio"
    ORGANISATION = "organisation", "The organisation"


class DeliveryMode(models.TextChoices):
    IN_HOUSE = "in_house", "In-house"
    OUTSOURCED = "outsourced", "Outsourced"
    HYBRID = "hybrid", "Hybrid"


class ProviderKind(models.TextChoices):
    INTERNAL = "internal", "Another unit of the organisation"
    EXTERNAL = "external", "External supplier"


class PricingBasis(models.TextChoices):
    FREE = "free", "Free"
    FIXED_FEE = "fixed_fee", "Fixed fee per period"
    PER_UNIT = "per_unit", "Per unit"
    COST_SHARE = "cost_share", "Share of cost"


class Stage(models.TextChoices):
    """Where a service is in its life (DESIGN.md); moves belong to the lifecycle app."""

    PROPOSED = "proposed", "Proposed"
    APPROVED_FOR_SETUP = "approved_for_setup", "Approved for set-up"
    DESIGN = "design", "Design"
    PILOT = "pilot", "Pilot"
    SIGNED_OFF = "signed_off", "Signed off"
    TRANSITION = "transition", "Transition"
    RUNNING = "running", "Running"
    CLOSING = "closing", "Closing"
    CLOSED = "closed", "Closed"
    REJECTED = "rejected", "Rejected"
    DEFERRED = "deferred", "Deferred"


LIVE_STAGES = frozenset({Stage.RUNNING})


class ServiceRoleKind(models.TextChoices):
    OWNER = "owner", "Service Owner"
    MANAGER = "manager", "Service Manager"
    OPERATIVE = "operative", "Service Operative"


class SupplierKind(models.TextChoices):
    ROLE = "role", "A role"
    PERSON = "person", "A person"
    CUSTOMER_GROUP = "customer_group", "A customer group"
    SYSTEM = "system", "A system"
    EXTERNAL = "external", "An external provider"


class ArtefactKind(models.TextChoices):
    TEMPLATE = "template", "Template"
    TOOL = "tool", "Tool"
    DOCUMENT = "document", "Document"
    PROCEDURE = "procedure", "Procedure"
