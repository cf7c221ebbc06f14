"""Reads of reference data: provinces, organisations, programmes, catalogue, caps."""
import difflib
from datetime import date

from django.utils.translation import gettext as _

from .choices import Era
from .models import ActivityContent, Organisation, Programme, Province, SupportCap
from .textsearch import fold_province_name, in_vietnamese_order, join_fields, search_terms

# Everyday short forms people write for some provinces, folded.
PROVINCE_ALIASES = {
    "hcm": "ho chi minh",
    "tphcm": "ho chi minh",
    "tp hcm": "ho chi minh",
    "sai gon": "ho chi minh",
    "saigon": "ho chi minh",
    "thanh pho ho chi minh": "ho chi minh",
    "hn": "ha noi",
    "hue": "hue",
    "thua thien hue": "thua thien hue",
    "tt hue": "thua thien hue",
    "brvt": "ba ria vung tau",
    "ba ria vung tau": "ba ria vung tau",
    "daklak": "dak lak",
    "dac lac": "dak lak",
    "daknong": "dak nong",
    "dac nong": "dak nong",
}

# Provinces that no longer exist since before 2025 (merged or split long ago). They are not provinces
# of either map: searching them is an error that points to today's province(s). Folded name →
# (display name, current codes to suggest).
HISTORICAL_PROVINCES = {
    "ha tay": ("Hà Tây", ["01"]),
    "ha son binh": ("Hà Sơn Bình", ["01", "25"]),
    "ha bac": ("Hà Bắc", ["24"]),
    "hai hung": ("Hải Hưng", ["31", "33"]),
    "vinh phu": ("Vĩnh Phú", ["25"]),
    "bac thai": ("Bắc Thái", ["19"]),
    "hoang lien son": ("Hoàng Liên Sơn", ["15"]),
    "nam ha": ("Nam Hà", ["37"]),
    "ha nam ninh": ("Hà Nam Ninh", ["37"]),
    "nghe tinh": ("Nghệ Tĩnh", ["40", "42"]),
    "binh tri thien": ("Bình Trị Thiên", ["44", "46"]),
    "quang nam da nang": ("Quảng Nam – Đà Nẵng", ["48"]),
    "nghia binh": ("Nghĩa Bình", ["51", "52"]),
    "phu khanh": ("Phú Khánh", ["56", "66"]),
    "gia lai kon tum": ("Gia Lai – Kon Tum", ["52", "51"]),
    "thuan hai": ("Thuận Hải", ["56", "68"]),
    "song be": ("Sông Bé", ["75", "79"]),
    "cuu long": ("Cửu Long", ["86"]),
    "minh hai": ("Minh Hải", ["96"]),
}


def _label(province):
    if province.era == Era.FORMER:
        return _("%(name)s (mã %(code)s, trước 01/07/2025)") % {"name": province.full_name, "code": province.code}
    return _("%(name)s (mã %(code)s)") % {"name": province.full_name, "code": province.code}


class ProvinceNotFound(LookupError):
    """No province matches; ``suggestions`` lists close names. ``str(err)`` is Vietnamese."""

    def __init__(self, text, suggestions, note=""):
        self.text = text
        self.suggestions = suggestions
        self.note = note
        if not text:
            message = _("Chưa nhập tên hoặc mã tỉnh, thành phố.")
        elif suggestions:
            message = _("Không tìm thấy tỉnh, thành phố «%(t)s». Có phải bạn muốn: %(s)s?") % {
                "t": text,
                "s": "; ".join(suggestions),
            }
        else:
            message = _("Không tìm thấy tỉnh, thành phố «%(t)s».") % {"t": text}
        if note:
            message = f"{message} {note}"
        super().__init__(message)


def _province_index():
    """All provinces (97 rows), with successors, read once per call."""
    return list(Province.objects.select_related("successor").order_by("-era", "code"))


def _ordered(candidates):
    # Preference: current map first, then former.
    return sorted(candidates, key=lambda p: (0 if p.era == Era.CURRENT else 1, p.code))


def _code_suggestions(code, candidates, all_rows):
    """For an unknown code: the same code in the other map (with its successor), then the nearest codes."""
    suggestions = []
    note = ""
    other = [p for p in all_rows if p.code == code and p not in candidates]
    if other:
        p = other[0]
        if p.era == Era.FORMER:
            note = _("Mã %(code)s là mã của %(name)s trước 01/07/2025, nay thuộc %(current)s.") % {
                "code": code, "name": p.full_name, "current": _label(p.successor)}
            if p.successor in candidates:
                suggestions.append(_label(p.successor))
        else:
            note = _("Mã %(code)s là mã của %(name)s từ 01/07/2025.") % {"code": code, "name": p.full_name}
    number = int(code)
    nearest = sorted(candidates, key=lambda p: (abs(int(p.code) - number), 0 if p.era == Era.CURRENT else 1, p.code))
    for p in nearest[:3]:
        label = _label(p)
        if label not in suggestions:
            suggestions.append(label)
    return suggestions[:4], note


def find_province(text, *, era=None, on=None, provinces=None):
    """Find a province by statistics-office code or by any usual spelling of its name.

    ``era`` restricts to Era.FORMER or Era.CURRENT; ``on`` picks the map in force on a date (and
    otherwise prefers the current map, falling back to a former province of that name). Names ignore
    case, diacritics, accent placement, NFD text and the prefixes "Tỉnh", "TP.", "Thành phố".
    Raises ProvinceNotFound with close matches (and a note for codes of the other map and for
    provinces that no longer exist, such as Hà Tây).
    """
    if on is not None and era is None:
        era = Era.CURRENT if on >= date(2025, 7, 1) else Era.FORMER
    rows = provinces if provinces is not None else _province_index()
    raw = "" if text is None else str(text).strip()
    if not raw:
        raise ProvinceNotFound(raw, [])
    candidates = _ordered(p for p in rows if era is None or p.era == era)
    digits = raw.zfill(2) if raw.isdigit() and len(raw) <= 2 else None
    if digits:
        for province in candidates:
            if province.code == digits:
                return province
        suggestions, note = _code_suggestions(digits, candidates, rows)
        raise ProvinceNotFound(raw, suggestions, note)
    key = fold_province_name(raw)
    key = PROVINCE_ALIASES.get(key, PROVINCE_ALIASES.get(key.replace(" ", ""), key))
    for province in candidates:
        if province.search_name == key:
            return province
    # Written without its spaces ("Kontum", "Daklak", "Quangninh"): the same name when it is the only one.
    squeezed = key.replace(" ", "")
    same = [p for p in candidates if p.search_name.replace(" ", "") == squeezed]
    if same and len({p.search_name for p in same}) == 1:
        return same[0]
    historical = HISTORICAL_PROVINCES.get(key)
    if historical:
        old_name, codes = historical
        suggestions = []
        for code in codes:
            for province in candidates:
                if province.code == code:
                    suggestions.append(_label(province))
                    break
        note = _("%(name)s không còn là đơn vị hành chính cấp tỉnh; địa bàn của nó nay thuộc tỉnh, thành phố gợi ý.") % {
            "name": old_name}
        raise ProvinceNotFound(raw, suggestions, note)
    names = sorted({p.search_name for p in candidates})
    close = difflib.get_close_matches(key, names, n=4, cutoff=0.6)
    # Also names that contain every word typed ("vung tau" → Bà Rịa – Vũng Tàu).
    words = key.split()
    close += [n for n in names if words and all(w in n.split() for w in words) and n not in close]
    suggestions = []
    for folded in close:
        for province in candidates:
            if province.search_name == folded:
                label = _label(province)
                if label not in suggestions:
                    suggestions.append(label)
    raise ProvinceNotFound(raw, suggestions[:5])


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


def provinces_with_predecessors():
    """Current provinces in code order, each with ``predecessors`` (former provinces) prefetched."""
    from django.db.models import Prefetch

    return Province.objects.current().order_by("code").prefetch_related(
        Prefetch("predecessors", queryset=Province.objects.former().order_by("code"))
    )


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


def account_list(user, *, q="", role=None):
    """Active accounts ``user`` may see (``access.visible_users``), ordered by province, organisation
    and user name; ``q`` matches the name, user name, e-mail, organisation or province, with or
    without diacritics («nguyen» finds «Nguyễn»), every word somewhere and a phrase in quotes whole
    (``textsearch.search_terms``, the đề án list's rule); ``role`` narrows to one role.
    A list: a province has tens of accounts and the whole country a few hundred, so the words are
    matched in Python on the folded text."""
    from .access import visible_users

    qs = visible_users(user).filter(is_active=True).order_by("organisation__province__code", "organisation__name",
                                                              "username")
    if role:
        qs = qs.filter(role=role)
    terms = search_terms(q)
    if not terms:
        return list(qs)
    return [account for account in qs if _account_matches(account, terms)]


def _account_matches(account, terms):
    organisation = account.organisation
    province = organisation.province if organisation else None
    # Fields kept apart by « | », so a quoted phrase is never found across two of them.
    text = join_fields([
        account.get_full_name(), account.username, account.email,
        organisation.name if organisation else "", province.full_name if province else "",
    ])
    return all(term in text for term in terms)


def accounts_matching(queryset, q):
    """``queryset`` of accounts narrowed to those ``q`` finds by ``account_list``'s rule (name, user name,
    e-mail, organisation, province; diacritics and case ignored): for the admin's user list. The words
    are matched in Python over the accounts' id and names only — a few hundred in the whole country."""
    terms = search_terms(q)
    if not terms:
        return queryset
    rows = (queryset.order_by().select_related("organisation__province")
            .only("pk", "username", "first_name", "last_name", "email", "organisation__name",
                  "organisation__province__name", "organisation__province__kind"))
    return queryset.filter(pk__in=[account.pk for account in rows if _account_matches(account, terms)])


def province_choices(queryset=None):
    """Provinces for a choice field, in Vietnamese alphabetical order — one order on every screen —
    still a queryset (the field validates against it). Default:
    the current provinces."""
    from django.db.models import Case, IntegerField, Value, When

    qs = Province.objects.current() if queryset is None else queryset
    ordered = in_vietnamese_order(qs.only("pk", "name"))
    if not ordered:
        return qs.none()
    return qs.filter(pk__in=[p.pk for p in ordered]).order_by(
        Case(*(When(pk=p.pk, then=Value(i)) for i, p in enumerate(ordered)), output_field=IntegerField()))
