"""A trigram index for the inbox search (inbox.api.filters.search_emails).

One GIN index over UPPER(subject || ' ' || body_text || ' ' || model_input || ' ' || sender)
with pg_trgm's operator class, so each searched word is an index lookup instead of four
ILIKE scans of every body. PostgreSQL only; on SQLite the search scans as before.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEX = "email_search_trgm"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON inbox_email USING gin "
        "(UPPER(subject || ' ' || body_text || ' ' || model_input || ' ' || sender) gin_trgm_ops)"
    )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0002_routing_reason_and_set_aside")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_index, drop_index),
    ]
