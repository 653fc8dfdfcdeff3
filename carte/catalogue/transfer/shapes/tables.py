"""The tables of an exported catalogue: one per part, one column per field, each column
with its kind (how a cell is read and written) and, for choices, the codes allowed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carte.catalogue.choices import (
    ArtefactKind,
    CompetenceLevel,
    DeliveryMode,
    PricingBasis,
    ProviderKind,
    Rationale,
    Scope,
    ServiceRoleKind,
    SupplierKind,
)

FORMAT = "carte-catalogue"
VERSION = 1

Row = dict[str, Any]

# Column kinds: how a cell is read and written.
TEXT = "text"
INT = "int"
DECIMAL = "decimal"
BOOL = "bool"
DATE = "date"
CHOICE = "choice"
CHOICES = "choices"  # several choice codes
NAMES = "names"  # several names (PMOs, customer groups)


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, its kind and, for choices, the allowed codes."""

    name: str
    kind: str = TEXT
    choices: tuple[str, ...] = ()
    blank: bool = True  # may the cell be empty


def _codes(choices: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in choices.values)


def _c(name: str, kind: str = TEXT, choices: Any = None, *, blank: bool = True) -> Column:
    return Column(name, kind, _codes(choices) if choices is not None else (), blank)


SERVICE = _c("service", blank=False)
LEVEL_CODES = _codes(CompetenceLevel)  # the one choice column whose codes are numbers

TABLES: dict[str, tuple[Column, ...]] = {
    "categories": (_c("name", blank=False), _c("description"), _c("position", INT)),
    "services": (
        _c("code", blank=False),
        _c("name", blank=False),
        _c("category", blank=False),
        _c("summary"),
        _c("description"),
        _c("outcome"),
        _c("rationale", CHOICES, Rationale),
        _c("rationale_note"),
        _c("scopes", CHOICES, Scope),
        _c("delivery_mode", CHOICE, DeliveryMode, blank=False),
        _c("provider_kind", CHOICE, ProviderKind),
        _c("provider_name"),
        _c("delivering_pmos", NAMES),
        _c("hours"),
        _c("pricing_basis", CHOICE, PricingBasis, blank=False),
        _c("price", DECIMAL),
        _c("currency"),
        _c("price_unit"),
        _c("is_temporary", BOOL),
        _c("end_date", DATE),
        _c("replaces"),
        _c("stage"),  # for information: the lifecycle owns it, the importer ignores it
    ),
    "levels": (
        SERVICE,
        _c("name", blank=False),
        _c("position", INT),
        _c("description"),
        _c("effort_hours", DECIMAL),
        _c("price", DECIMAL),
    ),
    "roles": (
        SERVICE,
        _c("role", CHOICE, ServiceRoleKind, blank=False),
        _c("person_email", blank=False),
        _c("pmo"),
    ),
    "symptoms": (SERVICE, _c("statement", blank=False), _c("weight", INT, blank=False)),
    "suppliers": (
        SERVICE,
        _c("name", blank=False),
        _c("kind", CHOICE, SupplierKind, blank=False),
        _c("person_email"),
        _c("customer_group"),
        _c("position", INT),
    ),
    "inputs": (
        SERVICE,
        _c("name", blank=False),
        _c("quality_criteria"),
        _c("is_trigger", BOOL),
        _c("supplier"),
        # The dependency (M-5): the output of another service this input comes from.
        _c("source_service"),
        _c("source_output"),
        _c("position", INT),
    ),
    "steps": (
        SERVICE,
        _c("position", INT),
        _c("name", blank=False),
        _c("description"),
        _c("performer", blank=False),
    ),
    "outputs": (
        SERVICE,
        _c("name", blank=False),
        _c("quality_criteria"),
        _c("customers", NAMES),
        _c("position", INT),
    ),
    "customers": (SERVICE, _c("customer_group", blank=False), _c("note")),
    "competences": (
        SERVICE,
        _c("competence", blank=False),
        _c("level", CHOICE, CompetenceLevel, blank=False),
        _c("fte", DECIMAL, blank=False),
    ),
    "governance": (SERVICE, _c("item", blank=False), _c("in_place", BOOL)),
    "artefacts": (
        _c("name", blank=False),
        _c("kind", CHOICE, ArtefactKind, blank=False),
        _c("description"),
        _c("url"),
        _c("owner_service"),
        _c("owner_pmo"),
    ),
    "artefact_uses": (
        SERVICE,
        _c("artefact", blank=False),
        _c("artefact_owner_service"),
        _c("artefact_owner_pmo"),
        _c("note"),
    ),
}

HEADERS: dict[str, tuple[str, ...]] = {t: tuple(c.name for c in cols) for t, cols in TABLES.items()}
