"""The tables of an exported catalogue: one per part, one column per field, each column
with its kind (how a cell is read and written), for choices the codes allowed, and
whether it names another row (a reference, matched whatever its case)."""

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
    # Names another row (a service's code, a category, a PMO, a person's e-mail...): the
    # import matches it whatever its case, so its case is no change of this row.
    ref: bool = False


def _codes(choices: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in choices.values)


def _c(
    name: str, kind: str = TEXT, choices: Any = None, *, blank: bool = True, ref: bool = False
) -> Column:
    return Column(name, kind, _codes(choices) if choices is not None else (), blank, ref)


def _ref(name: str, kind: str = TEXT, *, blank: bool = True) -> Column:
    return _c(name, kind, blank=blank, ref=True)


SERVICE = _ref("service", blank=False)
LEVEL_CODES = _codes(CompetenceLevel)  # the one choice column whose codes are numbers

TABLES: dict[str, tuple[Column, ...]] = {
    "categories": (_c("name", blank=False), _c("description"), _c("position", INT)),
    "services": (
        _c("code", blank=False),
        _c("name", blank=False),
        _ref("category", blank=False),
        _c("summary"),
        _c("description"),
        _c("outcome"),
        _c("rationale", CHOICES, Rationale),
        _c("rationale_note"),
        _c("scopes", CHOICES, Scope),
        _c("delivery_mode", CHOICE, DeliveryMode, blank=False),
        _c("provider_kind", CHOICE, ProviderKind),
        _c("provider_name"),
        _ref("delivering_pmos", NAMES),
        _c("hours"),
        _c("pricing_basis", CHOICE, PricingBasis, blank=False),
        _c("price", DECIMAL),
        _c("currency"),
        _c("price_unit"),
        _c("is_temporary", BOOL),
        _c("end_date", DATE),
        _ref("replaces"),
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
        _ref("person_email", blank=False),
        _ref("pmo"),
    ),
    "symptoms": (SERVICE, _ref("statement", blank=False), _c("weight", INT, blank=False)),
    "suppliers": (
        SERVICE,
        _c("name", blank=False),
        _c("kind", CHOICE, SupplierKind, blank=False),
        _ref("person_email"),
        _ref("customer_group"),
        _c("position", INT),
    ),
    "inputs": (
        SERVICE,
        _c("name", blank=False),
        _c("quality_criteria"),
        _c("is_trigger", BOOL),
        _ref("supplier"),
        # The dependency (M-5): the output of another service this input comes from.
        _ref("source_service"),
        _ref("source_output"),
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
        _ref("customers", NAMES),
        _c("position", INT),
    ),
    "customers": (SERVICE, _ref("customer_group", blank=False), _c("note")),
    "competences": (
        SERVICE,
        # A competence of the organisation's framework, by name (the import records a
        # name the framework lacks).
        _ref("competence", blank=False),
        _c("level", CHOICE, CompetenceLevel, blank=False),
        _c("fte", DECIMAL, blank=False),
    ),
    "governance": (SERVICE, _c("item", blank=False), _c("in_place", BOOL)),
    "artefacts": (
        _c("name", blank=False),
        _c("kind", CHOICE, ArtefactKind, blank=False),
        _c("description"),
        _c("url"),
        _ref("owner_service"),
        _ref("owner_pmo"),
    ),
    "artefact_uses": (
        SERVICE,
        _ref("artefact", blank=False),
        _ref("artefact_owner_service"),
        _ref("artefact_owner_pmo"),
        _c("note"),
    ),
}

HEADERS: dict[str, tuple[str, ...]] = {t: tuple(c.name for c in cols) for t, cols in TABLES.items()}
# Per table: the columns that name other rows.
REFS: dict[str, frozenset[str]] = {
    t: frozenset(c.name for c in cols if c.ref) for t, cols in TABLES.items()
}
