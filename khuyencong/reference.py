"""Load reference data idempotently: ``load_reference()`` (also ``manage.py load_reference``).

Running it again never duplicates rows; rows are matched on their natural keys (province code + era,
organisation code, programme code, …). The web container runs it at every start, so it must not undo
what administrators edit in /quan-tri/:

* organisations and their dated names, activity contents and support caps: a row that already exists
  is left as it is (names, amounts, percentages, validity dates, successors …); only missing rows are
  created. ``load_reference(overwrite=True)`` (``manage.py load_reference --overwrite``) puts every
  field back to the shipped values, for an operator who wants exactly that;
* programmes and their indicators (names, decisions, targets): likewise only missing rows are created,
  so an administrator's correction or a target entered for 2026–2030 survives a deploy; ``overwrite``
  puts the shipped values back;
* provinces (the two maps of Nghị quyết 202/2025/QH15) are the law, not administrators' data: shown
  read-only in /quan-tri/ and repaired in place at every load.
"""
from django.db import transaction
from django.dispatch import Signal

from . import reference_data as data
from .choices import Era, OrganisationKind
from .models import Indicator, Organisation, OrganisationName, Programme, Province
from .textsearch import fold_province_name

# Sent after every load: the apps drop what they keep of the reference lists in process memory (the
# list filters' choices), so rows added or renumbered — a fresh database, a test's flush — show at once.
reference_loaded = Signal()


def _upsert(model, lookup, values, *, overwrite=True):
    """Get or create the row matching ``lookup``; with ``overwrite``, also set an existing row's fields
    to ``values`` (those that differ)."""
    obj, created = model.objects.get_or_create(**lookup, defaults=values)
    if not created and overwrite:
        changed = [k for k, v in values.items() if getattr(obj, k) != v]
        if changed:
            for k in changed:
                setattr(obj, k, values[k])
            obj.save(update_fields=changed)
    return obj, created


def load_provinces():
    current = {}
    for code, (name, kind) in data.CURRENT_PROVINCES.items():
        current[code], _ = _upsert(
            Province,
            {"code": code, "era": Era.CURRENT},
            {"name": name, "kind": kind, "valid_from": data.MERGER_DATE, "valid_to": None, "successor": None,
             "search_name": fold_province_name(name)},
        )
    former = {}
    for code, (name, kind, successor) in data.FORMER_PROVINCES.items():
        former[code], _ = _upsert(
            Province,
            {"code": code, "era": Era.FORMER},
            {"name": name, "kind": kind, "valid_from": None, "valid_to": data.FORMER_VALID_TO,
             "successor": current[successor], "search_name": fold_province_name(name)},
        )
    return current, former


def _province_place(province):
    """"tỉnh Bắc Ninh", "thành phố Hà Nội"; "Thành phố Hồ Chí Minh" keeps its capital T (proper name)."""
    if province.kind != "city":
        return f"tỉnh {province.name}"
    if province.name == "Hồ Chí Minh":
        return f"Thành phố {province.name}"
    return f"thành phố {province.name}"


def _province_org_names(province):
    place = _province_place(province)
    return f"Sở Công Thương {place}", f"Trung tâm Khuyến công {place}"


def load_organisations(current, former, *, overwrite=False):
    """The ministry, its agency (with its names by date) and each province's Sở and centre. Existing
    rows are kept as administrators left them unless ``overwrite``."""
    ministry, _ = _upsert(
        Organisation, {"code": "bo-cong-thuong"},
        {"kind": OrganisationKind.MINISTRY, "name": "Bộ Công Thương", "province": None, "parent": None},
        overwrite=overwrite,
    )
    agency, _ = _upsert(
        Organisation, {"code": "cuc-khuyen-cong"},
        {"kind": OrganisationKind.AGENCY, "name": data.AGENCY_NAMES[-1][0], "province": None, "parent": ministry},
        overwrite=overwrite,
    )
    for name, short, valid_from, valid_to, basis in data.AGENCY_NAMES:
        _upsert(
            OrganisationName, {"organisation": agency, "name": name},
            {"short_name": short, "valid_from": valid_from, "valid_to": valid_to, "basis": basis},
            overwrite=overwrite,
        )
    successors = {}
    for code, province in current.items():
        department_name, centre_name = _province_org_names(province)
        department, _ = _upsert(
            Organisation, {"code": f"so-ct-{code}"},
            {"kind": OrganisationKind.DEPARTMENT, "name": department_name, "province": province, "parent": None,
             "valid_from": data.MERGER_DATE, "valid_to": None, "successor": None}, overwrite=overwrite,
        )
        centre, _ = _upsert(
            Organisation, {"code": f"ttkc-{code}"},
            {"kind": OrganisationKind.CENTRE, "name": centre_name, "province": province, "parent": department,
             "valid_from": data.MERGER_DATE, "valid_to": None, "successor": None}, overwrite=overwrite,
        )
        successors[code] = (department, centre)
    for code, province in former.items():
        department_name, centre_name = _province_org_names(province)
        new_department, new_centre = successors[province.successor.code]
        department, _ = _upsert(
            Organisation, {"code": f"so-ct-cu-{code}"},
            {"kind": OrganisationKind.DEPARTMENT, "name": department_name, "province": province, "parent": None,
             "valid_from": None, "valid_to": data.FORMER_VALID_TO, "successor": new_department}, overwrite=overwrite,
        )
        _upsert(
            Organisation, {"code": f"ttkc-cu-{code}"},
            {"kind": OrganisationKind.CENTRE, "name": centre_name, "province": province, "parent": department,
             "valid_from": None, "valid_to": data.FORMER_VALID_TO, "successor": new_centre}, overwrite=overwrite,
        )
    return ministry, agency


def load_programmes(*, overwrite=False):
    """The national programmes and their indicators. Existing rows are kept as administrators left them
    (names, decision, years, targets) unless ``overwrite``; missing ones are created."""
    programmes = {}
    first_indicators = None
    for spec in data.PROGRAMMES:
        programme, _ = _upsert(
            Programme, {"code": spec["code"]},
            {k: spec[k] for k in ("name", "decision_number", "decision_date", "start_year", "end_year")},
            overwrite=overwrite,
        )
        indicators = spec["indicators"] if spec["indicators"] is not None else [
            (code, name, unit, None) for code, name, unit, _target in first_indicators
        ]
        if first_indicators is None:
            first_indicators = spec["indicators"]
        for order, (code, name, unit, target) in enumerate(indicators, start=1):
            existing = Indicator.objects.filter(programme=programme, code=code).first()
            if existing is None:
                Indicator.objects.create(programme=programme, code=code, name=name, unit=unit, target=target, order=order)
            elif overwrite and spec["indicators"] is not None and existing.target != target:
                # --overwrite: the targets set by the programme's own decision; targets of programmes
                # shipped without them (entered by administrators) are never touched.
                existing.target = target
                existing.save(update_fields=["target"])
        programmes[spec["code"]] = programme
    return programmes


@transaction.atomic
def load_reference(*, overwrite=False):
    """Load the reference data that is missing (and repair the province maps); with ``overwrite``, also
    put administrators' edits of organisations, programmes, contents and caps back to the shipped values.
    Returns counts for the command to print."""
    current, former = load_provinces()
    load_organisations(current, former, overwrite=overwrite)
    load_programmes(overwrite=overwrite)
    from .catalogue import load_catalogue

    load_catalogue(overwrite=overwrite)
    # Rules per đề án kind live with the projects app; the loader stays the one entry point for data.
    from projects.rules import ensure_kind_rules

    ensure_kind_rules()
    reference_loaded.send(sender=load_reference)
    return {
        "provinces_current": Province.objects.current().count(),
        "provinces_former": Province.objects.former().count(),
        "organisations": Organisation.objects.count(),
        "programmes": Programme.objects.count(),
    }
