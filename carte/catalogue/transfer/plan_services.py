"""The plan's categories, services and artefacts: each row checked against the file and
the organisation, then created (in batches), changed or left as it is."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from carte.catalogue import services as catalogue
from carte.catalogue.models import Category, Service
from carte.catalogue.services import bulk
from carte.catalogue.transfer.planning import Op, PlanBase, artefact_key, differs, low
from carte.catalogue.transfer.shapes import Row, artefact_row, service_row


class ServicesPlan(PlanBase):
    """Categories, services and artefacts: created or updated, never removed."""

    def _categories(self) -> set[str]:
        seen: set[str] = set()
        for number, row in self.rows["categories"]:
            key = low(row["name"])
            if key in seen:
                self.error("categories", number, "name", f"Duplicate category {row['name']!r}.")
                continue
            seen.add(key)
            existing = self.categories.get(key)
            if existing is None:
                self.report.created["categories"].append(row["name"])
                self._create("categories", number, row, self._categories_create)
            elif differs(
                "categories",
                row,
                {
                    "name": existing.name,
                    "description": existing.description,
                    "position": existing.position,
                },
            ):
                self.report.changed["categories"].append(row["name"])
                self.ops.append(Op("categories", number, self._category_update(existing, row)))
        return seen

    def _categories_create(self, rows: list[Row]) -> None:
        created = bulk.categories_create_many(
            actor=self.actor,
            rows=[
                {"name": r["name"], "description": r["description"], "position": r["position"]}
                for r in rows
            ],
        )
        for category in created:
            self.categories[low(category.name)] = category

    def _category_update(self, category: Category, row: Row) -> Callable[[], Any]:
        data = {"name": row["name"], "description": row["description"]}
        if row["position"] is not None:
            data["position"] = row["position"]
        return lambda: catalogue.category_update(actor=self.actor, category=category, data=data)

    def _services(self, file_categories: set[str]) -> dict[str, Row]:
        table = "services"
        found: dict[str, Row] = {}
        numbers: dict[str, int] = {}
        for number, row in self.rows[table]:
            code = row["code"].upper()
            if code in found:
                self.error(table, number, "code", f"Duplicate service code {row['code']!r}.")
                continue
            found[code] = row
            numbers[code] = number
        for code, row in found.items():
            number = numbers[code]
            ok = True
            category = low(row["category"])
            if category not in file_categories and category not in self.categories:
                self.error(table, number, "category", f"No category {row['category']!r}.")
                ok = False
            for name in row["delivering_pmos"]:
                ok &= self._ref(self.pmos, name, table, number, "delivering_pmos", "PMO")
            replaces = row["replaces"].strip().upper()
            if replaces and replaces == code:
                self.error(table, number, "replaces", "A service cannot replace itself.")
                ok = False
            elif replaces and replaces not in found and replaces not in self.services:
                self.error(table, number, "replaces", f"No service {row['replaces']!r}.")
                ok = False
            ok &= self._service_rules(number, row)
            if not ok:
                continue
            existing = self.services.get(code)
            if existing is None:
                self.report.created[table].append(row["code"])
                self._create(table, number, row, self._services_create)
            elif differs(table, row, service_row(existing)):
                self.report.changed[table].append(row["code"])
                self.ops.append(Op(table, number, self._service_update(existing, row)))
        # Links between services come once they all exist.
        for code, row in found.items():
            existing = self.services.get(code)
            before = existing.replaces.code.upper() if existing and existing.replaces else ""
            if row["replaces"].strip().upper() != before:
                self.ops.append(Op(table, numbers[code], self._service_replaces(code, row)))
        return found

    def _service_rules(self, number: int, row: Row) -> bool:
        """The rules of services.py, checked here so every row's problems are listed."""
        problems = []
        if row["price"] is not None and not row["currency"]:
            problems.append(("currency", "A price needs a currency."))
        if row["pricing_basis"] == "free" and row["price"]:
            problems.append(("price", "A free service has no price."))
        if row["pricing_basis"] != "free" and row["price"] is None:
            problems.append(("price", "Give the price for this pricing basis."))
        if row["delivery_mode"] != "in_house" and not row["provider_name"]:
            problems.append(
                ("provider_name", "Name the provider when the service is not delivered in-house.")
            )
        if row["is_temporary"] and row["end_date"] is None:
            problems.append(("end_date", "A temporary service needs an end date."))
        for column, message in problems:
            self.error("services", number, column, message)
        return not problems

    def _service_data(self, row: Row) -> dict[str, Any]:
        data = {k: row[k] for k in catalogue.SERVICE_FIELDS if k not in ("category", "replaces")}
        data["category"] = self.categories[low(row["category"])]
        data["delivering_pmos"] = [self.pmos[low(n)] for n in row["delivering_pmos"]]
        return data

    def _services_create(self, rows: list[Row]) -> None:
        created = bulk.services_create_many(
            actor=self.actor, rows=[self._service_data(r) for r in rows]
        )
        for service in created:
            self.services[service.code.upper()] = service

    def _service_update(self, service: Service, row: Row) -> Callable[[], Any]:
        def run() -> None:
            catalogue.service_update(
                actor=self.actor, service=service, data=self._service_data(row)
            )

        return run

    def _service_replaces(self, code: str, row: Row) -> Callable[[], Any]:
        def run() -> None:
            target = row["replaces"].strip().upper()
            catalogue.service_update(
                actor=self.actor,
                service=self.services[code],
                data={"replaces": self.services[target] if target else None},
            )

        return run

    # -- artefacts

    def _artefacts(self, file_services: dict[str, Row]) -> None:
        table = "artefacts"
        seen: set[tuple[str, str, str]] = set()
        for number, row in self.rows[table]:
            key = artefact_key(row["name"], row["owner_service"], row["owner_pmo"])
            if key in seen:
                self.error(
                    table, number, "name", f"Duplicate artefact {row['name']!r} for this owner."
                )
                continue
            seen.add(key)
            owner = key[1]
            if not owner and not key[2]:
                self.error(
                    table, number, "owner_service", "An artefact belongs to a service or a PMO."
                )
                continue
            if owner and owner not in file_services and owner not in self.services:
                self.error(table, number, "owner_service", f"No service {row['owner_service']!r}.")
                continue
            if not self._ref(self.pmos, row["owner_pmo"], table, number, "owner_pmo", "PMO"):
                continue
            existing = self.artefacts.get(key)
            label = row["name"]
            if existing is None:
                self.report.created[table].append(label)
                self._create(table, number, (key, row), self._artefacts_create)
            elif differs(table, row, artefact_row(existing)):
                self.report.changed[table].append(label)
                # The owner is part of the key; the name too, but for its case.
                data = {k: row[k] for k in ("name", "kind", "description", "url")}
                self.ops.append(
                    Op(
                        table,
                        number,
                        partial(
                            catalogue.artefact_update,
                            actor=self.actor,
                            artefact=existing,
                            data=data,
                        ),
                    )
                )
        self.file_artefacts = seen

    def _artefacts_create(self, items: list[tuple[tuple[str, str, str], Row]]) -> None:
        created = bulk.artefacts_create_many(
            actor=self.actor,
            rows=[
                {
                    "name": row["name"],
                    "kind": row["kind"],
                    "description": row["description"],
                    "url": row["url"],
                    "owner_service": self.services[key[1]] if key[1] else None,
                    "owner_pmo": self.pmos[key[2]] if key[2] else None,
                }
                for key, row in items
            ],
        )
        for (key, _), artefact in zip(items, created, strict=True):
            self.artefacts[key] = artefact
