"""Reads of reference data: provinces, organisations, programmes, catalogue, caps."""
import difflib
from datetime import date

from django.utils.translation import gettext as _

from .choices import Era
from .models import ActivityContent, Organisation, Programme, Province, SupportCap
from .textsearch import fold_province_name

# Everyday short forms people write for some provinces, folded.
PROVINCE_ALIASES = {
    "hcm": "ho chi minh",
    "tphcm": "ho chi minh",
    "tp hcm": "ho chi minh",
    "sai gon": "ho chi minh",
    "thanh pho ho chi minh": "ho chi minh",
    "hue": "hue",
    "thua thien hue": "thua thien hue",
    "brvt": "ba ria vung tau",
    "ba ria vung tau": "ba ria vung tau",
    "dak lak": "dak lak",
    "dac lac": "dak lak",
    "dak nong": "dak nong",
    "dac nong": "dak nong",
}


class ProvinceNotFound(LookupError):
    """No province matches; ``suggestions`` lists close names. ``str(err)`` is Vietnamese."""

    def __init__(self, text, suggestions):
        self.text = text
        self.suggestions = suggestions
        if suggestions:
            message = _("Không tìm thấy tỉnh, thành phố «%(t)s». Có phải bạn muốn: %(s)s?") % {
                "t": text,
                "s": ", ".join(suggestions),
            }
        else:
            message = _("Không tìm thấy tỉnh, thành phố «%(t)s».") % {"t": text}
        super().__init__(message)


def _province_index():
    """All provinces keyed by folded name. Small (97 rows), read once per call site."""
    return list(Province.objects.select_related("successor").order_by("-era", "code"))


def find_province(text, *, era=None, on=None, provinces=None):
    """Find a province by statistics-office code or by any usual spelling of its name.

    ``era`` restricts to Era.FORMER or Era.CURRENT; ``on`` picks the map in force on a date (and
    otherwise prefers the current map, falling back to a former province of that name). Names ignore
    case, diacritics, accent placement, NFD text and the prefixes "Tỉnh", "TP.", "Thành phố".
    Raises ProvinceNotFound with close matches.
    """
    if on is not None and era is None:
        era = Era.CURRENT if on >= date(2025, 7, 1) else Era.FORMER
    rows = provinces if provinces is not None else _province_index()
    raw = "" if text is None else str(text).strip()
    if not raw:
        raise ProvinceNotFound(raw, [])
    candidates = [p for p in rows if era is None or p.era == era]
    # Preference: current map first, then former.
    candidates.sort(key=lambda p: (0 if p.era == Era.CURRENT else 1, p.code))
    digits = raw.zfill(2) if raw.isdigit() and len(raw) <= 2 else None
    if digits:
        for province in candidates:
            if province.code == digits:
                return province
        raise ProvinceNotFound(raw, [])
    key = fold_province_name(raw)
    key = PROVINCE_ALIASES.get(key, key)
    for province in candidates:
        if province.search_name == key:
            return province
    names = sorted({p.search_name for p in candidates})
    close = difflib.get_close_matches(key, names, n=4, cutoff=0.6)
    suggestions = []
    for folded in close:
        for province in candidates:
            if province.search_name == folded and province.full_name not in suggestions:
                suggestions.append(f"{province.full_name} ({province.code})")
                break
    raise ProvinceNotFound(raw, suggestions)


def province_search(query, *, era=None):
    """Provinces whose folded name contains the folded query (for pickers)."""
    qs = Province.objects.select_related("successor")
    if era:
        qs = qs.filter(era=era)
    key = fold_province_name(query or "")
    if key:
        if key.isdigit():
            qs = qs.filter(code=key.zfill(2))
        else:
            qs = qs.filter(search_name__contains=key)
    return qs.order_by("-era", "code")


def current_provinces():
    return Province.objects.current().order_by("code")


def agency_on(day):
    """The ministry's khuyến công agency, with its name in force on ``day``."""
    agency = Organisation.objects.prefetch_related("names").get(code="cuc-khuyen-cong")
    return agency, agency.name_on(day)


def programme_for_year(year):
    return Programme.objects.filter(start_year__lte=year, end_year__gte=year).first()


def activity_contents_valid_on(day):
    return ActivityContent.objects.valid_on(day).select_related("parent")


def support_caps_valid_on(day, *, province=None):
    qs = SupportCap.objects.valid_on(day).select_related("activity_content")
    if province is None:
        return qs.filter(province__isnull=True)
    return qs.filter(province__isnull=True) | qs.filter(province=province)
