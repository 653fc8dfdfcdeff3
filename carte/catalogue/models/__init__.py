"""The catalogue: services and everything a service's card holds.

A service (M-1) is activities (process steps) producing outputs for customers, towards
an outcome. Its parts (roles, levels, SIPOC rows, needs, symptom links, artefact links)
are tenant rows of their own, archived rather than deleted, so every change to them is
in the audit trail. An input that names another service's output is a dependency (M-5).

One module per seam: `services` (categories, the service and its stage guard, published
versions), `parts` (roles, levels, needs), `sipoc` (suppliers, inputs, steps, outputs,
customers) and `shared` (symptoms and artefacts, and services' links to them). Import the
models from here: `carte.catalogue.models.Service`.
"""

from __future__ import annotations

from carte.catalogue.models.parts import (
    CompetenceNeed,
    GovernanceNeed,
    ServiceLevel,
    ServiceRole,
)
from carte.catalogue.models.services import (
    Category,
    OwnedByService,
    Service,
    ServiceQuerySet,
    ServiceVersion,
    StageLocked,
    code_validator,
)
from carte.catalogue.models.shared import Artefact, ServiceArtefact, ServiceSymptom, Symptom
from carte.catalogue.models.sipoc import (
    ProcessStep,
    ServiceCustomer,
    ServiceInput,
    ServiceOutput,
    Supplier,
)
from carte.core.models import LIVE

__all__ = [
    "LIVE",
    "Artefact",
    "Category",
    "CompetenceNeed",
    "GovernanceNeed",
    "OwnedByService",
    "ProcessStep",
    "Service",
    "ServiceArtefact",
    "ServiceCustomer",
    "ServiceInput",
    "ServiceLevel",
    "ServiceOutput",
    "ServiceQuerySet",
    "ServiceRole",
    "ServiceSymptom",
    "ServiceVersion",
    "StageLocked",
    "Supplier",
    "Symptom",
    "code_validator",
]
