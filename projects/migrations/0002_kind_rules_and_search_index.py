"""Default kind rules (data an administrator can edit) and, on PostgreSQL only, the pg_trgm GIN
indexes that make ``search_text__contains`` / ``search_name__contains`` fast. On SQLite nothing
but the data is created, so the zero-setup default keeps working."""
from django.db import migrations

DEFAULT_KIND_RULES = [
    # kind, min_contents, max_contents, min_beneficiaries, max_beneficiaries, min_years, max_years, basis
    ("diem", 2, None, 2, None, 2, 3, "Nghị định 45/2012/NĐ-CP; Thông tư 46/2012/TT-BCT: đề án điểm"),
    ("nhom", 1, 1, 2, None, None, None, "Cách hiểu của cổng: một nội dung cho một nhóm cơ sở cùng ngành nghề"),
    ("thuong", 1, None, 0, None, None, None, "Đề án thông thường"),
]


def load_kind_rules(apps, schema_editor):
    KindRule = apps.get_model("projects", "KindRule")
    for kind, min_c, max_c, min_b, max_b, min_y, max_y, basis in DEFAULT_KIND_RULES:
        KindRule.objects.get_or_create(
            kind=kind,
            defaults={"min_contents": min_c, "max_contents": max_c, "min_beneficiaries": min_b,
                      "max_beneficiaries": max_b, "min_years": min_y, "max_years": max_y, "basis": basis},
        )


TRGM_INDEXES = [
    ("projects_dean_search_trgm", "projects_dean", "search_text"),
    ("projects_establishment_search_trgm", "projects_establishment", "search_name"),
]


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in TRGM_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRGM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]

    operations = [
        migrations.RunPython(load_kind_rules, migrations.RunPython.noop),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
