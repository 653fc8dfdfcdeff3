"""A service's competence need names a competence of the organisation's framework
(`organisations.Competence`) instead of holding free text.

Each organisation gets one competence per distinct text of its needs (live and archived
alike), texts that differ only in case or spaces being one: the first spelling met (by
need id) is kept, its spaces tidied. A live competence of that name already in the
framework is reused. Going back writes each need's competence name into the text again;
the competences stay in the framework (nothing says which ones this step made).

The constants and the folding are copied here, not imported: a migration must keep
working when the app's code changes.
"""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

UNNAMED = "Unnamed competence"  # for a need whose text was blank (none should be)
CHUNK = 500


def _tidy(text: str | None) -> str:
    return " ".join((text or "").split())


def _fold(text: str | None) -> str:
    return _tidy(text).lower()


def _settle(schema_editor: Any) -> None:
    """Check the deferred foreign keys of the rows just written now: PostgreSQL refuses to
    alter a table with checks still pending in the transaction (the steps that follow)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def texts_to_competences(apps: Any, schema_editor: Any) -> None:
    Need = apps.get_model("catalogue", "CompetenceNeed")
    Competence = apps.get_model("organisations", "Competence")
    db = schema_editor.connection.alias
    needs = Need.objects.using(db).order_by("organisation_id", "id")
    # organisation -> folded name -> need ids, in the order the texts are first met.
    wanted: dict[int, dict[str, list[int]]] = {}
    spelling: dict[tuple[int, str], str] = {}
    for pk, org_id, text in needs.values_list("id", "organisation_id", "competence").iterator():
        name = _tidy(text) or UNNAMED
        key = name.lower()
        spelling.setdefault((org_id, key), name)
        wanted.setdefault(org_id, {}).setdefault(key, []).append(pk)
    for org_id, by_name in wanted.items():
        live: dict[str, Any] = {}
        for competence in (
            Competence.objects.using(db)
            .filter(organisation_id=org_id, archived_at__isnull=True)
            .order_by("id")
        ):
            live.setdefault(_fold(competence.name), competence)
        new = [
            Competence(organisation_id=org_id, name=spelling[(org_id, key)])
            for key in by_name
            if key not in live
        ]
        for competence in Competence.objects.using(db).bulk_create(new):
            live[_fold(competence.name)] = competence
        for key, ids in by_name.items():
            competence_id = live[key].pk
            for start in range(0, len(ids), CHUNK):
                Need.objects.using(db).filter(pk__in=ids[start : start + CHUNK]).update(
                    framework_competence_id=competence_id
                )
    _settle(schema_editor)


def competences_to_texts(apps: Any, schema_editor: Any) -> None:
    Need = apps.get_model("catalogue", "CompetenceNeed")
    db = schema_editor.connection.alias
    names = dict(
        Need.objects.using(db).values_list("framework_competence_id", "framework_competence__name")
    )
    for competence_id, name in names.items():
        Need.objects.using(db).filter(framework_competence_id=competence_id).update(
            competence=name[:200]
        )
    _settle(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0005_alter_competenceneed_level"),
        ("organisations", "0002_competence_framework"),
    ]

    operations = [
        migrations.AddField(
            model_name="competenceneed",
            name="framework_competence",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="needs",
                to="organisations.competence",
            ),
        ),
        # Nullable while the data moves, so that going back can add the column again
        # before it fills it.
        migrations.AlterField(
            model_name="competenceneed",
            name="competence",
            field=models.CharField(max_length=200, null=True),
        ),
        migrations.RunPython(texts_to_competences, competences_to_texts, elidable=False),
        migrations.RemoveField(model_name="competenceneed", name="competence"),
        migrations.RenameField(
            model_name="competenceneed", old_name="framework_competence", new_name="competence"
        ),
        migrations.AlterField(
            model_name="competenceneed",
            name="competence",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="needs",
                to="organisations.competence",
            ),
        ),
        migrations.AlterModelOptions(
            name="competenceneed",
            options={"ordering": ["competence__name", "id"]},
        ),
    ]
