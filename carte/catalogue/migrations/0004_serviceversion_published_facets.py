"""What customers' search and filters match: each version's published words and facets.

A customer's search and filters read the service as last published, never a draft, so
each version carries its searchable text and the facets a filter names by id (category,
customer groups, delivering PMOs) besides its snapshot. Existing versions are filled in
from their snapshots, which name related rows by name: each name is matched to the
organisation's row of that name (a live one first); a category no longer found falls
back on the service's own.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django.db.models.deletion
from django.db import migrations, models

import carte.core.fields


def _search_text(snapshot: dict[str, Any]) -> str:
    # A copy of carte.catalogue.snapshots.search_text as it was written (CONVENTIONS 13).
    card = snapshot["service"]
    words = [card["code"], card["name"], card["summary"], card["description"]]
    words += [row["name"] for row in snapshot.get("outputs", [])]
    words += [row["statement"] for row in snapshot.get("symptoms", [])]
    return "\n".join(words).lower()


def _by_name(rows: Iterable[Any]) -> dict[tuple[int, str], int]:
    """(organisation, folded name) -> id, a live row winning over an archived one."""
    found: dict[tuple[int, str], int] = {}
    for row in sorted(rows, key=lambda r: (r.archived_at is None, -r.pk)):
        found[(row.organisation_id, row.name.casefold())] = row.pk
    return found


def fill_facets(apps: Any, schema_editor: Any) -> None:
    version_model = apps.get_model("catalogue", "ServiceVersion")
    categories = _by_name(apps.get_model("catalogue", "Category").objects.all())
    groups = _by_name(apps.get_model("organisations", "CustomerGroup").objects.all())
    pmos = _by_name(apps.get_model("organisations", "PMO").objects.all())
    group_links = version_model.customer_groups.through
    pmo_links = version_model.delivering_pmos.through
    versions = version_model.objects.select_related("service").order_by("pk")
    for version in versions.iterator(chunk_size=500):
        snapshot = version.snapshot
        card = snapshot["service"]
        org = version.organisation_id
        version.search_text = _search_text(snapshot)
        version.scopes = card.get("scopes") or []
        version.delivery_mode = card.get("delivery_mode") or ""
        version.pricing_basis = card.get("pricing_basis") or ""
        version.category_id = categories.get(
            (org, str(card.get("category", "")).casefold()), version.service.category_id
        )
        version.save(
            update_fields=[
                "search_text",
                "scopes",
                "delivery_mode",
                "pricing_basis",
                "category",
            ]
        )
        names = {row["customer_group"] for row in snapshot.get("customers", [])}
        group_ids = {groups[(org, n.casefold())] for n in names if (org, n.casefold()) in groups}
        group_links.objects.bulk_create(
            [group_links(serviceversion_id=version.pk, customergroup_id=pk) for pk in group_ids]
        )
        names = set(card.get("delivering_pmos", []))
        pmo_ids = {pmos[(org, n.casefold())] for n in names if (org, n.casefold()) in pmos}
        pmo_links.objects.bulk_create(
            [pmo_links(serviceversion_id=version.pk, pmo_id=pk) for pk in pmo_ids]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0003_output_name_trigram_index"),
        ("organisations", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="serviceversion",
            name="category",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="catalogue.category",
            ),
        ),
        migrations.AddField(
            model_name="serviceversion",
            name="customer_groups",
            field=models.ManyToManyField(
                blank=True, related_name="+", to="organisations.customergroup"
            ),
        ),
        migrations.AddField(
            model_name="serviceversion",
            name="delivering_pmos",
            field=models.ManyToManyField(blank=True, related_name="+", to="organisations.pmo"),
        ),
        migrations.AddField(
            model_name="serviceversion",
            name="delivery_mode",
            field=models.CharField(
                blank=True,
                choices=[
                    ("in_house", "In-house"),
                    ("outsourced", "Outsourced"),
                    ("hybrid", "Hybrid"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="serviceversion",
            name="pricing_basis",
            field=models.CharField(
                blank=True,
                choices=[
                    ("free", "Free"),
                    ("fixed_fee", "Fixed fee per period"),
                    ("per_unit", "Per unit"),
                    ("cost_share", "Share of cost"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="serviceversion",
            name="scopes",
            field=carte.core.fields.MultiChoiceField(
                choices=[
                    ("project", "One project"),
                    ("programme", "One programme"),
                    ("multiple", "Several projects or programmes"),
                    ("portfolio", "A portfolio"),
                    ("organisation", "The organisation"),
                ],
                verbose_name="scope",
            ),
        ),
        migrations.AddField(
            model_name="serviceversion",
            name="search_text",
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.RunPython(fill_facets, migrations.RunPython.noop),
    ]
