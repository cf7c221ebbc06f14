"""Rules a đề án must meet before it is submitted (and again when it is forwarded or approved).

``check_submission(de_an)`` returns a list of Vietnamese messages; empty means the dossier may go on.
What the law leaves to administrators is data: the rules per kind (``KindRule``), the activity-content
catalogue valid on the đề án's dates (``ActivityContent.valid_on``) and the support caps
(``SupportCap.valid_on`` + ``limit_for``: "whichever is lower" of the percentage and the amount).

Beneficiary geography (pragmatic reading, documented in docs/projects.md):
* the establishment must be recorded in the đề án's province (any era: a former province counts for
  the current province it merged into) and have its commune filled in;
* đề án starting before 15/10/2025 (Decree 45 as first written) support *rural* establishments: a
  commune written as a ward ("Phường …") is refused; from 15/10/2025 (Decree 235) communes, wards and
  special zones (xã, phường, đặc khu) are all eligible. The cut-over table is ``GEOGRAPHY_RULES``.
"""
from datetime import date

from django.utils.translation import gettext as _

from khuyencong.choices import FundingSource, Level
from khuyencong.formatting import format_dong
from khuyencong.models import SupportCap
from khuyencong.textsearch import fold

from .models import Kind, KindRule, LegalForm

# (valid from, valid to, folded commune prefixes that are NOT eligible, instrument)
GEOGRAPHY_RULES = (
    (None, date(2025, 10, 14), ("phuong",), "45/2012/NĐ-CP"),
    (date(2025, 10, 15), None, (), "235/2025/NĐ-CP"),
)

DEFAULT_KIND_RULES = {
    Kind.PILOT: {"min_contents": 2, "max_contents": None, "min_beneficiaries": 2, "max_beneficiaries": None,
                 "min_years": 2, "max_years": 3,
                 "basis": "Nghị định 45/2012/NĐ-CP; Thông tư 46/2012/TT-BCT: đề án điểm"},
    Kind.GROUP: {"min_contents": 1, "max_contents": 1, "min_beneficiaries": 2, "max_beneficiaries": None,
                 "min_years": None, "max_years": None,
                 "basis": "Cách hiểu của cổng: một nội dung cho một nhóm cơ sở cùng ngành nghề"},
    Kind.ORDINARY: {"min_contents": 1, "max_contents": None, "min_beneficiaries": 0, "max_beneficiaries": None,
                    "min_years": None, "max_years": None, "basis": "Đề án thông thường"},
}


def ensure_kind_rules():
    """Create the default rules that are missing (idempotent; edited rules are kept)."""
    existing = set(KindRule.objects.values_list("kind", flat=True))
    for kind, values in DEFAULT_KIND_RULES.items():
        if kind not in existing:
            KindRule.objects.get_or_create(kind=kind, defaults=values)


def kind_rule_for(kind):
    rule = KindRule.objects.filter(kind=kind).first()
    if rule is None:
        ensure_kind_rules()
        rule = KindRule.objects.filter(kind=kind).first()
    return rule


def years_spanned(start, end):
    """Calendar years the schedule touches: 03/2026–11/2027 → 2."""
    if not start or not end:
        return None
    return end.year - start.year + 1


def _geography_rule(day):
    for valid_from, valid_to, refused, instrument in GEOGRAPHY_RULES:
        if (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to):
            return refused, instrument
    return (), ""


def check_dates(de_an):
    errors = []
    if not de_an.start_date or not de_an.end_date:
        errors.append(_("Chưa nhập thời gian thực hiện (ngày bắt đầu và ngày kết thúc)."))
    elif de_an.end_date < de_an.start_date:
        errors.append(_("Ngày kết thúc phải sau ngày bắt đầu."))
    return errors


def check_kind(de_an, contents, beneficiaries):
    errors = []
    rule = kind_rule_for(de_an.kind)
    if rule is None:
        return errors
    label = Kind(de_an.kind).label
    n_contents = len(contents)
    if n_contents < rule.min_contents:
        errors.append(_("%(kind)s phải có ít nhất %(n)s nội dung hoạt động (hiện có %(have)s).")
                      % {"kind": label, "n": rule.min_contents, "have": n_contents})
    if rule.max_contents is not None and n_contents > rule.max_contents:
        errors.append(_("%(kind)s chỉ có tối đa %(n)s nội dung hoạt động (hiện có %(have)s).")
                      % {"kind": label, "n": rule.max_contents, "have": n_contents})
    n_ben = len(beneficiaries)
    if n_ben < rule.min_beneficiaries:
        errors.append(_("%(kind)s phải có ít nhất %(n)s đơn vị thụ hưởng (hiện có %(have)s).")
                      % {"kind": label, "n": rule.min_beneficiaries, "have": n_ben})
    if rule.max_beneficiaries is not None and n_ben > rule.max_beneficiaries:
        errors.append(_("%(kind)s chỉ có tối đa %(n)s đơn vị thụ hưởng (hiện có %(have)s).")
                      % {"kind": label, "n": rule.max_beneficiaries, "have": n_ben})
    years = years_spanned(de_an.start_date, de_an.end_date)
    if years is not None:
        if rule.min_years is not None and years < rule.min_years:
            errors.append(_("%(kind)s phải thực hiện trong ít nhất %(n)s năm (hiện %(have)s năm).")
                          % {"kind": label, "n": rule.min_years, "have": years})
        if rule.max_years is not None and years > rule.max_years:
            errors.append(_("%(kind)s chỉ được thực hiện tối đa %(n)s năm (hiện %(have)s năm).")
                          % {"kind": label, "n": rule.max_years, "have": years})
    return errors


def check_contents_valid(de_an, contents):
    """Each activity content must be in the catalogue valid on the đề án's start date."""
    errors = []
    day = de_an.start_date
    if not day:
        return errors
    for content in contents:
        if (content.valid_from and content.valid_from > day) or (content.valid_to and content.valid_to < day):
            errors.append(_("Nội dung «%(c)s» không có trong danh mục áp dụng ngày %(d)s.")
                          % {"c": content, "d": day.strftime("%d/%m/%Y")})
    return errors


def check_budget(de_an, lines):
    errors = []
    if not lines:
        errors.append(_("Chưa có dòng kinh phí nào."))
        return errors
    totals = {source: 0 for source in FundingSource.values}
    for line in lines:
        totals[line.source] += line.amount
    computed_total = sum(totals.values())
    stored = {
        FundingSource.NATIONAL: de_an.national_amount, FundingSource.LOCAL: de_an.local_amount,
        FundingSource.COUNTERPART: de_an.counterpart_amount, FundingSource.OTHER: de_an.other_amount,
    }
    if computed_total != de_an.total_amount or any(stored[s] != totals[s] for s in stored):
        errors.append(_("Tổng kinh phí (%(total)s) không khớp với tổng các dòng kinh phí (%(sum)s).")
                      % {"total": format_dong(de_an.total_amount), "sum": format_dong(computed_total)})
    if de_an.level == Level.NATIONAL and totals[FundingSource.NATIONAL] <= 0:
        errors.append(_("Đề án khuyến công quốc gia phải có kinh phí khuyến công quốc gia đề nghị hỗ trợ."))
    if de_an.level == Level.LOCAL:
        if totals[FundingSource.NATIONAL] > 0:
            errors.append(_("Đề án khuyến công địa phương không dùng kinh phí khuyến công quốc gia."))
        if totals[FundingSource.LOCAL] <= 0:
            errors.append(_("Đề án khuyến công địa phương phải có kinh phí khuyến công địa phương đề nghị hỗ trợ."))
    errors.extend(check_caps(de_an, lines))
    return errors


def cap_for_line(line, day, caps=None):
    """The national cap that applies to ``line`` on ``day``: the one chosen on the line, else the
    cap of its activity content valid that day (the most generous one when several apply)."""
    if line.support_cap_id:
        return line.support_cap
    if not line.content_id or day is None:
        return None
    if caps is None:
        caps = list(SupportCap.objects.valid_on(day).filter(level=Level.NATIONAL, province__isnull=True))
    candidates = [c for c in caps if c.activity_content_id == line.content_id]
    if not candidates:
        return None
    return max(candidates, key=lambda c: (c.max_amount or 0))


# Caps whose unit is a beneficiary (or a model built at one): national support is summed per
# establishment. Other units (a contest, an industrial cluster) are the đề án itself.
PER_ESTABLISHMENT_UNITS = ("cơ sở", "mô hình")


def _cap_unit_key(cap, line):
    per = fold(cap.per_unit or "")
    if any(per == fold(unit) for unit in PER_ESTABLISHMENT_UNITS):
        return line.establishment_id
    return None


def _group_cost(group, lines):
    """The cost the % rule applies to for a group of national lines under one cap and unit: the
    lines' own ``cost_basis`` where given; for the others, every line (any source) of the same
    activity content and establishment, each (content, establishment) counted once."""
    cost = 0
    pairs = set()
    for line in group:
        if line.cost_basis is not None:
            cost += line.cost_basis
        else:
            pairs.add((line.content_id, line.establishment_id))
    for other in lines:
        if (other.content_id, other.establishment_id) not in pairs:
            continue
        if other.source == FundingSource.NATIONAL and other.cost_basis is not None:
            continue  # its cost is already counted through its cost_basis
        cost += other.amount
    return cost


def check_caps(de_an, lines):
    """National support within the TT 28 cap valid on the đề án's start date, summed per cap and per
    unit of the cap (per establishment for "cơ sở"/"mô hình", per đề án otherwise): splitting one
    item into several lines does not get round the cap. The % rule applies to the summed cost."""
    errors = []
    day = de_an.start_date
    if day is None:
        return errors
    caps = list(SupportCap.objects.valid_on(day).filter(level=Level.NATIONAL, province__isnull=True))
    groups = {}
    for line in lines:
        if line.source != FundingSource.NATIONAL or line.amount == 0:
            continue
        cap = cap_for_line(line, day, caps)
        if cap is None:
            continue
        if cap.valid_from and cap.valid_from > day or cap.valid_to and cap.valid_to < day:
            errors.append(_("Mức hỗ trợ «%(cap)s» không áp dụng ngày %(d)s.") % {"cap": cap, "d": day.strftime("%d/%m/%Y")})
            continue
        groups.setdefault((cap.pk, _cap_unit_key(cap, line)), (cap, []))[1].append(line)
    for (_cap_pk, unit_key), (cap, group) in groups.items():
        amount = sum(line.amount for line in group)
        limit = cap.limit_for(_group_cost(group, lines))
        if limit is None or amount <= limit:
            continue
        params = {"amount": format_dong(amount), "limit": format_dong(limit), "cap": cap.description,
                  "instrument": cap.instrument}
        if len(group) == 1:
            errors.append(
                _("Dòng «%(line)s»: kinh phí khuyến công quốc gia %(amount)s vượt mức tối đa %(limit)s "
                  "(%(cap)s, %(instrument)s; lấy mức thấp hơn giữa tỷ lệ và số tiền).")
                % {**params, "line": group[0].description}
            )
            continue
        params.update(lines=", ".join(f"«{line.description}»" for line in group), per=cap.per_unit or _("đề án"))
        if unit_key is not None:
            errors.append(
                _("Các dòng %(lines)s của cơ sở «%(establishment)s»: tổng kinh phí khuyến công quốc gia %(amount)s "
                  "vượt mức tối đa %(limit)s cho mỗi %(per)s (%(cap)s, %(instrument)s; lấy mức thấp hơn giữa tỷ lệ "
                  "và số tiền).") % {**params, "establishment": group[0].establishment.name}
            )
        else:
            errors.append(
                _("Các dòng %(lines)s: tổng kinh phí khuyến công quốc gia %(amount)s vượt mức tối đa %(limit)s "
                  "cho mỗi %(per)s (%(cap)s, %(instrument)s; lấy mức thấp hơn giữa tỷ lệ và số tiền).") % params
            )
    return errors


def check_beneficiaries(de_an, beneficiaries):
    errors = []
    day = de_an.start_date or date(de_an.plan_year, 1, 1)
    refused_prefixes, instrument = _geography_rule(day)
    current_id = de_an.current_province_id
    for link in beneficiaries:
        est = link.establishment
        if est.legal_form not in LegalForm.values:
            errors.append(_("Cơ sở «%(n)s» có loại hình không thuộc đối tượng được hỗ trợ.") % {"n": est.name})
        province = est.province
        est_current = province.pk if province.successor_id is None else province.successor_id
        if est_current != current_id:
            errors.append(_("Cơ sở «%(n)s» ở %(p)s, không thuộc địa bàn của đề án.") % {"n": est.name, "p": province})
        if not (est.commune or "").strip():
            errors.append(_("Cơ sở «%(n)s» chưa có địa chỉ đến cấp xã.") % {"n": est.name})
        else:
            folded = fold(est.commune)
            if any(folded.startswith(prefix) for prefix in refused_prefixes):
                errors.append(
                    _("Cơ sở «%(n)s» ở %(c)s: theo %(i)s chỉ hỗ trợ cơ sở công nghiệp nông thôn (xã, thị trấn) "
                      "cho đề án bắt đầu trước ngày 15/10/2025.") % {"n": est.name, "c": est.commune, "i": instrument}
                )
    return errors


def check_submission(de_an):
    """All pre-submission rules; returns Vietnamese messages (empty when the dossier may go on)."""
    errors = []
    if not (de_an.name or "").strip():
        errors.append(_("Chưa nhập tên đề án."))
    if not de_an.implementing_unit_id and not (de_an.implementing_unit_name or "").strip():
        errors.append(_("Chưa chọn đơn vị thực hiện."))
    contents = list(de_an.contents.all())
    beneficiaries = list(de_an.beneficiaries.select_related("establishment__province"))
    lines = list(de_an.budget_lines.select_related("support_cap", "establishment"))
    errors.extend(check_dates(de_an))
    errors.extend(check_kind(de_an, contents, beneficiaries))
    errors.extend(check_contents_valid(de_an, contents))
    errors.extend(check_budget(de_an, lines))
    errors.extend(check_beneficiaries(de_an, beneficiaries))
    return [str(e) for e in errors]
