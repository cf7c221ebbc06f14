"""django-import-export resources for the admin's «Xuất» button on the funding tables (/quan-tri/).

Where django-import-export fits here: *exporting* whatever list an administrator has filtered in the
admin, as .xlsx or .csv. It does not import money: allocations and plan annexes come in through
``funding.services.import_preview``/``import_apply`` (preview with province matching and subtotal checks,
ImportBatch, undo, commitments under lock), which an admin import would bypass — the funding admin pages
stay read-only.

Every text cell goes through ``khuyencong.xlsx.neutralise``, the portal's one formula-neutralising
function (django-import-export's own ``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` drops a leading «=»
instead, and leaves «+ - @», tab and NUL alone). In .xlsx, amounts are integer đồng (the package's native
types for binary formats); dates are written dd/mm/yyyy, times «10:14 30/11/2026», as everywhere else."""
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets

from khuyencong.formatting import format_date, format_datetime
from khuyencong.xlsx import neutralise

from .models import Allocation, Commitment, Disbursement


def _level(level):
    return "KCQG" if level == "kcqg" else "KCĐP"


def _source(source):
    return "KCQG" if source == "national" else "KCĐP"


class NeutralisedResource(resources.ModelResource):
    """Export-only resource: every text value neutralised; no import (``import_id_fields`` unused)."""

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        return neutralise(value) if isinstance(value, str) else value


def _field(attribute, label, **kwargs):
    return fields.Field(attribute=attribute, column_name=label, readonly=True, **kwargs)


def _number(attribute, label):
    """A whole number as a number in .xlsx and .csv alike (the package's default writes it as localised text
    in .csv), so that a sheet can add the đồng up."""
    return _field(attribute, label, widget=widgets.IntegerWidget(coerce_to_string=False))


class AllocationResource(NeutralisedResource):
    year = _number("plan__year", _("Năm"))
    level = fields.Field(column_name=_("Cấp"), readonly=True)
    decision = _field("plan__decision_number", _("Số quyết định"))
    province_code = _field("province__code", _("Mã tỉnh"))
    province_name = _field("province__full_name", _("Tỉnh, thành phố"))
    source_label = fields.Field(column_name=_("Nguồn kinh phí"), readonly=True)
    allocated = _number("amount", _("Kinh phí phân bổ (đồng)"))
    committed_amount = _number("committed", _("Đã cam kết (đồng)"))
    batch = _number("import_batch_id", _("Lô nhập"))

    class Meta:
        model = Allocation
        name = _("Phân bổ kinh phí")
        fields = ("year", "level", "decision", "province_code", "province_name", "source_label", "allocated",
                  "committed_amount", "batch")
        export_order = fields

    def dehydrate_level(self, allocation):
        return _level(allocation.plan.level)

    def dehydrate_source_label(self, allocation):
        return _source(allocation.source)

    def get_queryset(self):
        return super().get_queryset().select_related("plan", "province")


class CommitmentResource(NeutralisedResource):
    de_an_code = _field("de_an__code", _("Mã đề án"))
    de_an_name = _field("de_an__name", _("Tên đề án"))
    province_name = _field("allocation__province__full_name", _("Tỉnh, thành phố (hiện nay)"))
    year = _number("allocation__plan__year", _("Năm kế hoạch"))
    source_label = fields.Field(column_name=_("Nguồn"), readonly=True)
    committed_amount = _number("amount", _("Số tiền cam kết (đồng)"))
    batch = _number("import_batch_id", _("Lô nhập"))
    created = fields.Field(column_name=_("Tạo lúc"), readonly=True)

    class Meta:
        model = Commitment
        name = _("Cam kết kinh phí")
        fields = ("de_an_code", "de_an_name", "province_name", "year", "source_label", "committed_amount", "batch",
                  "created")
        export_order = fields

    def dehydrate_source_label(self, commitment):
        return _source(commitment.allocation.source)

    def dehydrate_created(self, commitment):
        return format_datetime(commitment.created_at)

    def get_queryset(self):
        return super().get_queryset().select_related("de_an", "allocation__plan", "allocation__province")


class DisbursementResource(NeutralisedResource):
    de_an_code = _field("de_an__code", _("Mã đề án"))
    de_an_name = _field("de_an__name", _("Tên đề án"))
    kind_label = fields.Field(column_name=_("Loại"), readonly=True)
    source_label = fields.Field(column_name=_("Nguồn"), readonly=True)
    paid = _number("amount", _("Số tiền (đồng)"))
    day = fields.Field(column_name=_("Ngày"), readonly=True)
    document = _field("document_number", _("Số chứng từ"))
    remark = _field("note", _("Ghi chú"))
    voided = fields.Field(column_name=_("Đã hủy lúc"), readonly=True)
    reason = _field("void_reason", _("Lý do hủy"))

    class Meta:
        model = Disbursement
        name = _("Giải ngân")
        fields = ("de_an_code", "de_an_name", "kind_label", "source_label", "paid", "day", "document", "remark",
                  "voided", "reason")
        export_order = fields

    def dehydrate_kind_label(self, disbursement):
        return str(disbursement.get_kind_display())

    def dehydrate_source_label(self, disbursement):
        return _source(disbursement.source)

    def dehydrate_day(self, disbursement):
        return format_date(disbursement.date)

    def dehydrate_voided(self, disbursement):
        return format_datetime(disbursement.voided_at) if disbursement.voided_at else ""

    def get_queryset(self):
        return super().get_queryset().select_related("de_an")
