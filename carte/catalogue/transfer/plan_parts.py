"""The plan's parts of services: a service in the file gets exactly the live parts the
file gives it. Each row is checked (references, duplicates, the rules of roles and
inputs) and matched by natural key with the stored parts; those not in the file are
removed, the others created (in batches) or changed."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from functools import partial
from typing import Any

from carte.catalogue import services as catalogue
from carte.catalogue.choices import ServiceRoleKind
from carte.catalogue.models import Symptom
from carte.catalogue.services import bulk
from carte.catalogue.transfer.planning import (
    Op,
    PlanBase,
    artefact_key,
    competence_key,
    differs,
    low,
)
from carte.catalogue.transfer.shapes import (
    HEADERS,
    PART_KINDS,
    PART_MODELS,
    Row,
    part_queryset,
    part_row,
)
from carte.organisations.models import Competence
from carte.organisations.services import competence_named

# Parts are removed first (inputs before the outputs and suppliers they name), then
# created or updated with inputs last, once every service's suppliers and outputs exist.
REMOVE_ORDER = (
    "inputs",
    "artefact_uses",
    "roles",
    "symptoms",
    "customers",
    "competences",
    "governance",
    "steps",
    "levels",
    "suppliers",
    "outputs",
)
WRITE_ORDER = (
    "levels",
    "roles",
    "symptoms",
    "suppliers",
    "outputs",
    "customers",
    "competences",
    "governance",
    "steps",
    "artefact_uses",
    "inputs",
)
COMPETENCE_NAME_LENGTH = Competence._meta.get_field("name").max_length or 200
# Parts whose rows are named by other rows: their names must be unique in a service.
_UNIQUE_NAMES = {"suppliers", "outputs"}


def _part_key(table: str, row: Row) -> tuple[str, ...]:
    """The natural key of a part within its service (an occurrence counter is added for
    parts whose names may repeat)."""
    if table == "roles":
        return (row["role"], low(row["person_email"]), low(row["pmo"]))
    if table == "symptoms":
        return (low(row["statement"]),)
    if table == "customers":
        return (low(row["customer_group"]),)
    if table == "artefact_uses":
        return (
            low(row["artefact"]),
            row["artefact_owner_service"].strip().upper(),
            low(row["artefact_owner_pmo"]),
        )
    if table == "competences":
        return (competence_key(row["competence"]),)
    name = "item" if table == "governance" else "name"
    return (low(row[name]),)


class PartsPlan(PlanBase):
    """The parts of the services in the file, made to match it."""

    # -- parts

    def _parts(self, file_services: dict[str, Row]) -> None:
        # Names inputs refer to, per service: a set, so each check is one look-up.
        self.file_names = {
            table: {(r["service"].strip().upper(), low(r["name"])) for _, r in self.rows[table]}
            for table in ("suppliers", "outputs")
        }
        # Rows of each part by service, checked, keyed.
        wanted: dict[str, dict[str, dict[tuple[str, ...], tuple[int, Row]]]] = {}
        for table in PART_MODELS:
            wanted[table] = defaultdict(dict)
            occurrences: Counter[tuple[str, tuple[str, ...]]] = Counter()
            for number, row in self.rows[table]:
                code = row["service"].strip().upper()
                if code not in file_services:
                    self.error(
                        table,
                        number,
                        "service",
                        f"No service {row['service']!r} in the services table.",
                    )
                    continue
                key = _part_key(table, row)
                occurrences[(code, key)] += 1
                if occurrences[(code, key)] > 1:
                    if table in _UNIQUE_NAMES or table in (
                        "roles",
                        "symptoms",
                        "customers",
                        "artefact_uses",
                        "levels",
                    ):
                        self.error(
                            table,
                            number,
                            HEADERS[table][1],
                            f"Duplicate row for service {row['service']!r}.",
                        )
                        continue
                    key = (*key, str(occurrences[(code, key)]))
                if self._check_part(table, number, code, row, file_services):
                    wanted[table][code][key] = (number, row)
        self._owners(wanted["roles"])
        # Existing live parts of the services in the file, keyed the same way.
        existing: dict[str, dict[str, dict[tuple[str, ...], Any]]] = {}
        codes = [c for c in file_services if c in self.services]
        for table in PART_MODELS:
            existing[table] = defaultdict(dict)
            occurrences = Counter()
            # All the organisation's parts, skipping other services' ones: a filter on
            # thousands of services would pass SQLite's limit of query parameters.
            qs = part_queryset(table, self.actor.organisation)
            for part in qs.iterator(chunk_size=2000):
                code = part.service.code.upper()
                if code not in file_services:
                    continue
                row = part_row(table, part)
                key = _part_key(table, row)
                occurrences[(code, key)] += 1
                if occurrences[(code, key)] > 1:
                    key = (*key, str(occurrences[(code, key)]))
                existing[table][code][key] = part
                if table == "suppliers":
                    self.suppliers.setdefault((code, low(part.name)), part)
        if self.problems:
            return
        for table in REMOVE_ORDER:
            for code in codes:
                for key, part in existing[table][code].items():
                    if key not in wanted[table][code]:
                        self.report.removed[table].append(f"{code}: {part}")
                        self.ops.append(
                            Op(
                                table,
                                None,
                                partial(catalogue.part_archive, actor=self.actor, part=part),
                            )
                        )
        for table in WRITE_ORDER:
            for code, rows in wanted[table].items():
                for key, (number, row) in rows.items():
                    part = existing[table][code].get(key)
                    label = f"{row['service']}: {' '.join(k for k in key if k)}"
                    if part is None:
                        self.report.created[table].append(label)
                        self._create(table, number, (code, row), partial(self._parts_create, table))
                    elif differs(table, row, part_row(table, part)):
                        self.report.changed[table].append(label)
                        self.ops.append(Op(table, number, self._part_update(table, part, row)))

    def _owners(self, roles: dict[str, dict[tuple[str, ...], tuple[int, Row]]]) -> None:
        for rows in roles.values():
            owners = [n for n, r in rows.values() if r["role"] == ServiceRoleKind.OWNER]
            for number in owners[1:]:
                self.error("roles", number, "role", "The service already has an Owner.")

    def _check_part(
        self, table: str, number: int, code: str, row: Row, file_services: dict[str, Row]
    ) -> bool:
        ok = True
        if "person_email" in row:
            ok &= self._ref(
                self.people,
                row["person_email"],
                table,
                number,
                "person_email",
                "person with e-mail",
            )
        if "customer_group" in row:
            ok &= self._ref(
                self.groups,
                row["customer_group"],
                table,
                number,
                "customer_group",
                "customer group",
            )
        for name in row.get("customers") or []:
            ok &= self._ref(self.groups, name, table, number, "customers", "customer group")
        if table == "roles":
            ok &= self._ref(self.pmos, row["pmo"], table, number, "pmo", "PMO")
            pmo = low(row["pmo"])
            delivering = {low(n) for n in file_services[code]["delivering_pmos"]}
            if row["role"] == ServiceRoleKind.MANAGER:
                if not pmo:
                    self.error(
                        table, number, "pmo", "Choose the PMO this Service Manager manages it for."
                    )
                    ok = False
                elif pmo not in delivering:
                    self.error(table, number, "pmo", "This PMO does not deliver the service.")
                    ok = False
            elif pmo and row["role"] == ServiceRoleKind.OWNER:
                self.error(table, number, "pmo", "Only a Service Manager is tied to a PMO.")
                ok = False
        if table == "competences":
            ok &= self._check_competence(number, row["competence"])
        if table == "inputs":
            ok &= self._check_input(number, code, row, file_services)
        if table == "artefact_uses":
            key = artefact_key(
                row["artefact"], row["artefact_owner_service"], row["artefact_owner_pmo"]
            )
            if key not in self.file_artefacts and key not in self.artefacts:
                self.error(
                    table, number, "artefact", f"No artefact {row['artefact']!r} with this owner."
                )
                ok = False
        return ok

    def _check_competence(self, number: int, name: str) -> bool:
        """A need names a competence of the framework, or one the import records there (whoever
        may import the catalogue may add competences)."""
        if len(" ".join(name.split())) <= COMPETENCE_NAME_LENGTH:
            return True
        self.error(
            "competences", number, "competence", f"At most {COMPETENCE_NAME_LENGTH} characters."
        )
        return False

    def _check_input(self, number: int, code: str, row: Row, file_services: dict[str, Row]) -> bool:
        table = "inputs"
        ok = True
        supplier = low(row["supplier"])
        if supplier and (code, supplier) not in self.file_names["suppliers"]:
            self.error(
                table, number, "supplier", f"No supplier {row['supplier']!r} in this service."
            )
            ok = False
        source, output = row["source_service"].strip().upper(), low(row["source_output"])
        if bool(source) != bool(output):
            column = "source_output" if source else "source_service"
            self.error(table, number, column, "Give both the source service and its output.")
            return False
        if not source:
            return ok
        if source == code:
            self.error(
                table,
                number,
                "source_output",
                "An input cannot come from an output of its own service.",
            )
            return False
        if source in file_services:
            known = (source, output) in self.file_names["outputs"]
        elif source in self.services:
            known = (source, output) in self.outputs
        else:
            self.error(
                table,
                number,
                "source_service",
                f"No service {row['source_service']!r} in this organisation.",
            )
            return False
        if not known:
            self.error(
                table,
                number,
                "source_output",
                f"Service {row['source_service']!r} has no output {row['source_output']!r}.",
            )
            ok = False
        return ok

    def _part_data(self, table: str, code: str, row: Row, *, new: bool = False) -> dict[str, Any]:
        """The arguments of part_create (`new`) / part_update: natural keys resolved to
        rows."""
        skip = {
            "service",
            "person_email",
            "customer_group",
            "customers",
            "supplier",
            "source_service",
            "source_output",
            "statement",
            "artefact",
            "artefact_owner_service",
            "artefact_owner_pmo",
        }
        data = {
            k: v for k, v in row.items() if k not in skip and not (k == "position" and v is None)
        }
        if table == "roles":
            data["person"] = self.people[low(row["person_email"])]
            data["pmo"] = self.pmos[low(row["pmo"])] if row["pmo"].strip() else None
        elif table == "symptoms" and new and self.symptoms is not None:
            # Found or made by _symptoms_for. A link that is updated keeps its symptom:
            # the statement is its key.
            data["symptom"] = self.symptoms[low(row["statement"])]
        elif table == "suppliers":
            email, group = low(row["person_email"]), low(row["customer_group"])
            data["person"] = self.people[email] if email else None
            data["customer_group"] = self.groups[group] if group else None
        elif table == "inputs":
            supplier = low(row["supplier"])
            data["supplier"] = self.suppliers[(code, supplier)] if supplier else None
            source = row["source_service"].strip().upper()
            data["source_output"] = (
                self.outputs[(source, low(row["source_output"]))] if source else None
            )
        elif table == "outputs":
            data["customers"] = [self.groups[low(n)] for n in row["customers"]]
        elif table == "customers":
            data["customer_group"] = self.groups[low(row["customer_group"])]
        elif table == "competences":
            data.pop("competence")
            if new:
                # Found or recorded by _competences_for. A need that is updated keeps its
                # competence: the name is its key.
                data["competence"] = self.competences[competence_key(row["competence"])]
        elif table == "artefact_uses":
            data["artefact"] = self.artefacts[
                artefact_key(
                    row["artefact"], row["artefact_owner_service"], row["artefact_owner_pmo"]
                )
            ]
        return data

    def _remember(self, table: str, code: str, part: Any) -> None:
        if table == "outputs":
            self.outputs[(code, low(part.name))] = part
        elif table == "suppliers":
            self.suppliers[(code, low(part.name))] = part

    def _parts_create(self, table: str, items: list[tuple[str, Row]]) -> None:
        if table == "symptoms":
            self._symptoms_for([row["statement"] for _, row in items])
        if table == "competences":
            self._competences_for([row["competence"] for _, row in items])
        created = bulk.parts_create_many(
            actor=self.actor,
            kind=PART_KINDS[table],
            rows=[
                (self.services[code], self._part_data(table, code, row, new=True))
                for code, row in items
            ],
        )
        for (code, _), part in zip(items, created, strict=True):
            self._remember(table, code, part)

    def _symptoms_for(self, statements: list[str]) -> None:
        """Find (or create, in one batch) the symptoms new links name: what
        `symptom_get_or_create` does for each link, with two queries for them all."""
        if self.symptoms is None:
            self.symptoms = {
                low(s.statement): s
                for s in Symptom.objects.filter(
                    organisation=self.actor.organisation, archived_at__isnull=True
                )
            }
        missing = list(dict.fromkeys(low(s) for s in statements if low(s) not in self.symptoms))
        if not missing:
            return
        first: dict[str, str] = {}
        for s in statements:
            first.setdefault(low(s), s)
        for symptom in bulk.symptoms_create_many(
            actor=self.actor, statements=[first[key] for key in missing]
        ):
            self.symptoms[low(symptom.statement)] = symptom

    def _competences_for(self, names: list[str]) -> None:
        """Record in the framework the competences new needs name that it lacks, through the
        framework's own service (whoever may import may add competences), once each: the
        first spelling met is kept."""
        for name in names:
            if competence_key(name) not in self.competences:
                competence = competence_named(actor=self.actor, name=name, create=True)
                self.competences[competence_key(competence.name)] = competence

    def _part_update(self, table: str, part: Any, row: Row) -> Callable[[], Any]:
        def run() -> None:
            code = part.service.code.upper()
            data = self._part_data(table, code, row)
            catalogue.part_update(actor=self.actor, part=part, data=data)
            self._remember(table, code, part)

        return run
