"""Rebuild every đề án's stored search text with its fields kept apart by « | » (and punctuation at a
word's edge left out: ``textsearch.join_fields``).

Until now the fields were joined with spaces, so a quoted phrase could be found across two of them
(the last word of the name and the first word of the implementing unit). ``services.search_text_for``
writes the new form for every change; this migration rewrites the texts already stored, by the same
rule and the same field order, in batches (one read of the đề án, one of their beneficiaries and one
bulk UPDATE per batch). Reversing it keeps the new texts: the earlier code finds every word in them.
"""
from django.db import migrations

from khuyencong.textsearch import join_fields

BATCH = 2000


def rebuild_search_texts(apps, schema_editor):
    DeAn = apps.get_model("projects", "DeAn")
    DeAnBeneficiary = apps.get_model("projects", "DeAnBeneficiary")
    alias = schema_editor.connection.alias
    rows = DeAn.objects.using(alias).order_by("pk").values(
        "pk", "search_text", "code", "name", "implementing_unit_name", "partner_unit", "location",
        "implementing_unit_id", "implementing_unit__name", "province_id", "province__name",
        "current_province_id", "current_province__name",
    )
    last = 0
    while True:
        batch = list(rows.filter(pk__gt=last)[:BATCH])
        if not batch:
            return
        last = batch[-1]["pk"]
        names = {}
        for de_an_id, name in (
            DeAnBeneficiary.objects.using(alias).filter(de_an_id__in=[r["pk"] for r in batch])
            .order_by("de_an", "order", "id").values_list("de_an_id", "establishment__name")
        ):
            names.setdefault(de_an_id, []).append(name)
        changed = []
        for r in batch:
            parts = [r["code"], r["name"], r["implementing_unit_name"], r["partner_unit"], r["location"]]
            if r["implementing_unit_id"]:
                parts.append(r["implementing_unit__name"])
            if r["province_id"]:
                parts.append(r["province__name"])
            if r["current_province_id"] and r["current_province_id"] != r["province_id"]:
                parts.append(r["current_province__name"])
            parts.extend(names.get(r["pk"], ()))
            text = join_fields(parts)
            if text != r["search_text"]:
                changed.append(DeAn(pk=r["pk"], search_text=text))
        DeAn.objects.using(alias).bulk_update(changed, ["search_text"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("projects", "0012_adjustment_confirmation"),
    ]

    operations = [
        migrations.RunPython(rebuild_search_texts, migrations.RunPython.noop, elidable=True),
    ]
