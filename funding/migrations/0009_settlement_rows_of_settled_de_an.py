# The settlement is one fact, written by the đề án's «Quyết toán» step (projects.services.de_an_settle,
# which records the settlement row through funding.services.settlement_record). Before, the step wrote
# only DeAn.settled_amount/settled_on and the money page took a separate settlement row: this gives
# each settled đề án with a settled amount and no settlement row (not voided) the row it lacks —
# amount = settled amount, date = settled_on (else the day of its «settle» transition, else of its
# last change), document number "—" with a note saying where it came from, no author.
# Reversing does nothing (the rows are indistinguishable from the step's once recorded).

from django.db import migrations
from django.utils import timezone

DOCUMENT_NUMBER = "—"
NOTE = "Ghi bù theo kinh phí và ngày quyết toán đã ghi ở đề án"


def add_missing_settlement_rows(apps, schema_editor):
    DeAn = apps.get_model("projects", "DeAn")
    Transition = apps.get_model("projects", "Transition")
    Disbursement = apps.get_model("funding", "Disbursement")
    have = set(Disbursement.objects.filter(kind="settlement", voided_at__isnull=True).values_list("de_an_id", flat=True))
    missing = (DeAn.objects.filter(status="settled", settled_amount__isnull=False).exclude(pk__in=have)
               .order_by("pk").values_list("pk", "level", "settled_amount", "settled_on", "updated_at"))
    rows = []
    for pk, level, amount, settled_on, updated_at in missing:
        day = settled_on
        if day is None:
            at = (Transition.objects.filter(de_an_id=pk, action="settle").order_by("-at")
                  .values_list("at", flat=True).first()) or updated_at
            day = timezone.localdate(at) if timezone.is_aware(at) else at.date()
        rows.append(Disbursement(de_an_id=pk, kind="settlement", source="national" if level == "kcqg" else "local",
                                 amount=amount, date=day, document_number=DOCUMENT_NUMBER, note=NOTE,
                                 created_by=None))
    Disbursement.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("funding", "0008_disbursement_void"),
        ("projects", "0008_adjustment_new_amount"),
    ]

    operations = [
        migrations.RunPython(add_missing_settlement_rows, migrations.RunPython.noop, elidable=True),
    ]
