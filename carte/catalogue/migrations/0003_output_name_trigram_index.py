"""A trigram index for the catalogue search on PostgreSQL (nothing on SQLite).

The menu and API search (`ServiceFilter.filter_q`) look for the words in every live
output's name with `UPPER(name) LIKE UPPER('%word%')`, which no B-tree index serves:
2,000 services have 8,000 outputs to scan twice per search (count and page). A GIN
index of the same expression with `gin_trgm_ops` answers it from the index. It needs the
pg_trgm extension (in PostgreSQL's contrib, trusted since 13); where it is not
available the index is skipped and the search still works, only slower.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEX = "catalogue_output_name_trgm"


def create_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is None:
            return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON catalogue_serviceoutput "
        "USING gin (UPPER(name) gin_trgm_ops)"
    )


def drop_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0002_service_supports_origin")]

    operations = [migrations.RunPython(create_index, drop_index)]
