"""One notice per service-level breach (issue 13): notices of a level missed were keyed
by target, one per customer group, so one breach told a Manager as many times as there
were groups. They are now keyed by what happened (the KPI, the level, the period); this
rewrites the notices already recorded to the new key and keeps one per person and breach,
so the inbox counts each breach once and the next sweep does not record them again.

The one kept is the oldest; it stays unread while any of its copies was unread, and
counts as e-mailed if any copy was (the person was told).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

OLD = "level_missed:target:"
BATCH = 500


def _new_key(kpi_id: int, level_id: int | None, period: str) -> str:
    return f"level_missed:kpi:{kpi_id}:level:{level_id or 'any'}:{period}"


def one_per_breach(apps: Any, schema_editor: Any) -> None:
    Notice = apps.get_model("operations", "Notice")
    Target = apps.get_model("operations", "ServiceLevelTarget")
    old = list(
        Notice.objects.filter(kind="level_missed", key__startswith=OLD).order_by("created_at", "id")
    )
    parsed: dict[int, tuple[int, str]] = {}
    for notice in old:
        target, _, period = notice.key[len(OLD) :].partition(":")
        if target.isdigit() and period:
            parsed[notice.pk] = (int(target), period)
    ids = sorted({target for target, _ in parsed.values()})
    targets: dict[int, tuple[int, int | None]] = {}
    for start in range(0, len(ids), BATCH):
        for pk, kpi_id, level_id in Target.objects.filter(
            pk__in=ids[start : start + BATCH]
        ).values_list("pk", "kpi_id", "level_id"):
            targets[pk] = (kpi_id, level_id)
    kept: dict[tuple[int, str], Any] = {
        (n.recipient_id, n.key): n
        for n in Notice.objects.filter(kind="level_missed", key__startswith="level_missed:kpi:")
    }
    changed: dict[int, Any] = {}
    extra: list[int] = []
    for notice in old:
        if notice.pk not in parsed or parsed[notice.pk][0] not in targets:
            continue
        target, period = parsed[notice.pk]
        key = _new_key(*targets[target], period)
        first = kept.get((notice.recipient_id, key))
        if first is None:
            notice.key = key
            kept[(notice.recipient_id, key)] = notice
            changed[notice.pk] = notice
            continue
        if notice.read_at is None:
            first.read_at = None
        if first.emailed_at is None:
            first.emailed_at = notice.emailed_at
        changed[first.pk] = first
        extra.append(notice.pk)
    for start in range(0, len(extra), BATCH):
        Notice.objects.filter(pk__in=extra[start : start + BATCH]).delete()
    Notice.objects.bulk_update(
        list(changed.values()), ["key", "read_at", "emailed_at"], batch_size=BATCH
    )


class Migration(migrations.Migration):
    dependencies = [("operations", "0001_initial")]

    operations = [migrations.RunPython(one_per_breach, migrations.RunPython.noop)]
