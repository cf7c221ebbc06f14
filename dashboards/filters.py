"""Dashboard filters, read from the query string and carried over to the đề án list and the exports.

Parameters: ``programme`` (code), ``year_from``, ``year_to`` (within the programme's years),
``level`` (kcqg/kcdp), ``province`` (id of a current province; national dashboard only), ``content``
(id of an activity content or area), ``grouping`` (current/historical). Malformed values get a
Vietnamese message (``FilterError``); nothing is silently widened.
"""
from dataclasses import dataclass
from urllib.parse import urlencode

from django.utils import timezone
from django.utils.translation import gettext as _

from khuyencong.choices import Era, Level
from khuyencong.models import ActivityContent, Programme, Province

GROUPINGS = ("current", "historical")


class FilterError(ValueError):
    """A filter value the dashboard cannot use; ``str(err)`` is the Vietnamese message."""


@dataclass
class DashboardFilters:
    programme: Programme
    year_from: int
    year_to: int
    level: str = ""
    province: Province | None = None
    content: ActivityContent | None = None
    grouping: str = "current"

    @property
    def years(self):
        return list(range(self.year_from, self.year_to + 1))

    def params(self, **overrides):
        values = {
            "programme": self.programme.code, "year_from": self.year_from, "year_to": self.year_to,
            "level": self.level, "province": self.province.pk if self.province else "",
            "content": self.content.pk if self.content else "", "grouping": self.grouping,
        }
        values.update(overrides)
        return {k: v for k, v in values.items() if v not in ("", None)}

    def query(self, **overrides):
        return urlencode(self.params(**overrides))

    def list_query(self, **extra):
        """The đề án list's query string for the same selection (``/de-an/?year=…&current_province=…``)."""
        pairs = [("year", y) for y in self.years]
        if self.level:
            pairs.append(("level", self.level))
        if self.province is not None and "province" not in extra and "current_province" not in extra:
            pairs.append(("current_province", self.province.pk))
        if self.content is not None and "content" not in extra:
            pairs.append(("content", self.content.pk))
        for key, value in extra.items():
            pairs = [p for p in pairs if p[0] != key]  # a chart's own value replaces the filter's
            values = value if isinstance(value, (list, tuple)) else [value]
            pairs.extend((key, v) for v in values)
        return urlencode(pairs)

    def describe(self):
        """One line saying what is selected (for table captions and export headers)."""
        parts = [self.programme.decision_number, _("năm %(a)d–%(b)d") % {"a": self.year_from, "b": self.year_to}]
        if self.level:
            parts.append(str(Level(self.level).label))
        if self.province is not None:
            parts.append(self.province.full_name)
        if self.content is not None:
            parts.append(_("nội dung %(c)s") % {"c": self.content.code})
        parts.append(_("nhóm theo tỉnh hiện nay") if self.grouping == "current" else _("nhóm theo tỉnh khi đăng ký"))
        return " · ".join(parts)


def _int(params, name, label):
    raw = (params.get(name) or "").strip()
    if raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise FilterError(_("%(f)s «%(v)s» không phải là số.") % {"f": label, "v": raw[:20]}) from None


def default_programme(today=None):
    today = today or timezone.localdate()
    programme = Programme.objects.filter(start_year__lte=today.year, end_year__gte=today.year).first()
    return programme or Programme.objects.order_by("-start_year").first()


def parse_filters(params, *, fixed_province=None):
    """``DashboardFilters`` from ``params`` (a QueryDict or dict). ``fixed_province``: the province of a
    province dashboard (the ``province`` parameter is then ignored). Raises ``FilterError``."""
    code = (params.get("programme") or "").strip()
    if code:
        programme = Programme.objects.filter(code=code).first()
        if programme is None:
            raise FilterError(_("Không có chương trình khuyến công mã «%(c)s».") % {"c": code[:40]})
    else:
        programme = default_programme()
        if programme is None:
            raise FilterError(_("Chưa có chương trình khuyến công nào trong danh mục."))
    year_from = _int(params, "year_from", _("Từ năm"))
    year_to = _int(params, "year_to", _("Đến năm"))
    year_from = programme.start_year if year_from is None else year_from
    year_to = programme.end_year if year_to is None else year_to
    for year in (year_from, year_to):
        if not programme.covers(year):
            raise FilterError(_(
                "Năm %(y)d nằm ngoài chương trình %(p)s (%(a)d–%(b)d). Chọn năm trong giai đoạn của chương trình."
            ) % {"y": year, "p": programme.decision_number, "a": programme.start_year, "b": programme.end_year})
    if year_from > year_to:
        raise FilterError(_("Từ năm %(a)d lớn hơn đến năm %(b)d.") % {"a": year_from, "b": year_to})
    level = (params.get("level") or "").strip()
    if level and level not in Level.values:
        raise FilterError(_("Cấp «%(v)s» không hợp lệ: chọn khuyến công quốc gia hoặc địa phương.") % {"v": level[:20]})
    grouping = (params.get("grouping") or "current").strip()
    if grouping not in GROUPINGS:
        raise FilterError(_("Cách nhóm tỉnh «%(v)s» không hợp lệ.") % {"v": grouping[:20]})
    province = fixed_province
    if fixed_province is None:
        pid = _int(params, "province", _("Tỉnh, thành phố"))
        if pid is not None:
            province = Province.objects.filter(pk=pid, era=Era.CURRENT).first()
            if province is None:
                raise FilterError(_("Không có tỉnh, thành phố hiện hành mã số %(v)d.") % {"v": pid})
    content = None
    cid = _int(params, "content", _("Nội dung"))
    if cid is not None:
        content = ActivityContent.objects.filter(pk=cid).first()
        if content is None:
            raise FilterError(_("Không có nội dung hoạt động mã số %(v)d.") % {"v": cid})
    return DashboardFilters(programme=programme, year_from=year_from, year_to=year_to, level=level,
                            province=province, content=content, grouping=grouping)
