"""Indexes: every foreign key of the portal's own tables can be found by an index that leads with it
(a delete of the referenced row, a join, a per-đề án lookup), and the migration that dropped the
single-column indexes duplicated by composite ones can be reversed."""
import pytest
from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

APPS = ("khuyencong", "projects", "funding", "dashboards", "reports")
# Keys left without an index on purpose (see the models): the referenced rows are never deleted and
# nothing looks rows up by them.
UNINDEXED = {"funding_allocation.import_batch_id", "funding_importrow.province_id"}


def _leading_columns(table):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {c["columns"][0] for c in constraints.values() if (c["index"] or c["unique"] or c["primary_key"]) and c["columns"]}


def _index_names(table):
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db
def test_every_foreign_key_leads_some_index():
    missing = []
    for label in APPS:
        for model in apps.get_app_config(label).get_models():
            if not model._meta.managed:
                continue
            led = _leading_columns(model._meta.db_table)
            for field in model._meta.concrete_fields:
                if field.is_relation and field.db_constraint and field.column not in led:
                    missing.append(f"{model._meta.db_table}.{field.column}")
            for m2m in model._meta.local_many_to_many:
                through = m2m.remote_field.through
                if through._meta.auto_created:
                    led = _leading_columns(through._meta.db_table)
                    missing += [f"{through._meta.db_table}.{f.column}" for f in through._meta.concrete_fields
                                if f.is_relation and f.column not in led]
    assert sorted(set(missing) - UNINDEXED) == []
    assert UNINDEXED <= set(missing)  # the list stays true


@pytest.mark.django_db(transaction=True)
def test_dropped_indexes_come_back_when_the_migration_is_reversed():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    dropped = {"projects_dean_province_id_29857daa", "projects_dean_status_34c2ffc5"}
    history = "projects_historicaldean_province_id_95a01a44"
    assert not dropped & _index_names("projects_dean")
    assert history not in _index_names("projects_historicaldean")
    try:
        executor.migrate([("projects", "0004_dashboard_covering_index"), ("funding", "0005_disbursement_request_key")])
        assert dropped <= _index_names("projects_dean")
        assert history in _index_names("projects_historicaldean")
        # The foreign keys were never dropped and re-added: still the same constraint.
        with connection.cursor() as cursor:
            keys = [c for c in connection.introspection.get_constraints(cursor, "projects_dean").values()
                    if c["foreign_key"] and c["columns"] == ["province_id"]]
        assert len(keys) == 1
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(leaves)
    assert not dropped & _index_names("projects_dean")
    assert history not in _index_names("projects_historicaldean")
