"""Migration helpers shared by the apps."""
from django.db import migrations


def drop_single_column_indexes(app_label, *alter_fields):
    """The ``AlterField`` operations of ``app_label``'s fields that lose their own index (``db_index``
    off, or listed in a history model's ``no_db_index``), applied to the database as
    ``DROP INDEX IF EXISTS`` of that index (and of its PostgreSQL ``_like`` twin) only.

    Django's own ``AlterField`` on a foreign key also drops and re-adds the key's constraint, which
    checks the whole table again under a lock; nothing about the key changes here, so only the
    state changes and only the indexes go. Backwards, the indexes are created again."""

    def fields(apps):
        for op in alter_fields:
            model = apps.get_model(app_label, op.model_name)
            yield model, model._meta.get_field(op.name)

    def forwards(apps, schema_editor):
        for model, field in fields(apps):
            for suffix in ("", "_like"):
                name = schema_editor._create_index_name(model._meta.db_table, [field.column], suffix=suffix)
                schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def backwards(apps, schema_editor):
        for model, field in fields(apps):
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
            like = getattr(schema_editor, "_create_like_index_sql", None)  # PostgreSQL only
            statement = like(model, field) if like else None
            if statement is not None:
                schema_editor.execute(statement)

    return migrations.SeparateDatabaseAndState(
        state_operations=list(alter_fields),
        database_operations=[migrations.RunPython(forwards, backwards)],
    )
