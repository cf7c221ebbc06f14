"""Figures recomputed independently, in plain Python, from the đề án and money rows (no aggregate
query, no code of the dashboards app), for the tests to compare with."""
from collections import defaultdict

from django.db.models import F

from funding.models import Allocation, Commitment, Disbursement
from projects.models import DeAn

GROUPS = {
    "preparing": ("draft", "submitted", "forwarded", "under_appraisal", "returned"),
    "running": ("approved", "in_implementation", "adjustment_requested"),
    "done": ("accepted", "settled"),
    "stopped": ("rejected", "cancelled"),
}


def paid_out(row):
    """«Giải ngân» as funding means it (funding.services.paid_amount): an advance or a payment, not
    voided. A settlement row is the settled amount, not money paid out."""
    return row["voided_at"] is None and row["kind"] in ("advance", "payment")


def select(years, *, level="", current_province=None, content=None):
    rows = {d["id"]: d for d in DeAn.objects.values(
        "id", "plan_year", "level", "status", "province_id", "current_province_id", "settled_amount",
        "national_amount", "local_amount")}
    links = list(DeAn.contents.through.objects.values("dean_id", "activitycontent_id",
                                                      parent=F("activitycontent__parent_id")))
    keep = {}
    for pk, d in rows.items():
        if d["plan_year"] not in years:
            continue
        if level and d["level"] != level:
            continue
        if current_province is not None and d["current_province_id"] != current_province:
            continue
        if content is not None and not any(
                link["dean_id"] == pk and content in (link["activitycontent_id"], link["parent"]) for link in links):
            continue
        keep[pk] = d
    return keep, links


def by_province(selected, grouping, years, *, level="", current_province=None):
    key = "current_province_id" if grouping == "current" else "province_id"
    out = defaultdict(lambda: {"count": 0, "committed": 0, "disbursed": 0, "settled": 0, "allocated": 0})
    for d in selected.values():
        out[d[key]]["count"] += 1
        if d["status"] == "settled":
            out[d[key]]["settled"] += d["settled_amount"] or 0
    for c in Commitment.objects.values("de_an_id", "amount"):
        if c["de_an_id"] in selected:
            out[selected[c["de_an_id"]][key]]["committed"] += c["amount"]
    for x in Disbursement.objects.values("de_an_id", "amount", "voided_at", "kind"):
        if x["de_an_id"] in selected and paid_out(x):
            out[selected[x["de_an_id"]][key]]["disbursed"] += x["amount"]
    if grouping == "current":
        for a in Allocation.objects.values("province_id", "amount", year=F("plan__year"), plan_level=F("plan__level")):
            if a["year"] in years and (not level or a["plan_level"] == level) and (
                    current_province is None or a["province_id"] == current_province):
                out[a["province_id"]]["allocated"] += a["amount"]
    return dict(out)


def money_by_year(selected, years, *, level="", current_province=None):
    out = {y: {s: {"allocated": 0, "committed": 0, "disbursed": 0, "settled": 0} for s in ("national", "local")}
           for y in years}
    for a in Allocation.objects.values("province_id", "amount", "source", year=F("plan__year"), plan_level=F("plan__level")):
        if a["year"] in years and (not level or a["plan_level"] == level) and (
                current_province is None or a["province_id"] == current_province):
            out[a["year"]][a["source"]]["allocated"] += a["amount"]
    for c in Commitment.objects.values("de_an_id", "amount", year=F("allocation__plan__year"), source=F("allocation__source")):
        if c["de_an_id"] in selected and c["year"] in out:
            out[c["year"]][c["source"]]["committed"] += c["amount"]
    for x in Disbursement.objects.values("de_an_id", "amount", "source", "voided_at", "kind"):
        if x["de_an_id"] in selected and paid_out(x):
            out[selected[x["de_an_id"]]["plan_year"]][x["source"]]["disbursed"] += x["amount"]
    for d in selected.values():
        if d["status"] == "settled":
            out[d["plan_year"]]["national" if d["level"] == "kcqg" else "local"]["settled"] += d["settled_amount"] or 0
    return out


def statuses(selected):
    out = defaultdict(lambda: {"count": 0, "support": 0})
    for d in selected.values():
        out[d["status"]]["count"] += 1
        out[d["status"]]["support"] += d["national_amount"] + d["local_amount"]
    return out


def contents(selected, links):
    seen = defaultdict(set)
    for link in links:
        if link["dean_id"] in selected:
            area = link["parent"] or link["activitycontent_id"]
            seen[area].add(link["dean_id"])
    out = {}
    for area, ids in seen.items():
        counts = {g: sum(1 for i in ids if selected[i]["status"] in states) for g, states in GROUPS.items()}
        counts["total"] = len(ids)
        out[area] = counts
    return out


def indicators(selected):
    from dashboards.models import DeAnIndicatorOutput

    out = defaultdict(lambda: {"planned": 0, "achieved": 0})
    for o in DeAnIndicatorOutput.objects.values("de_an_id", "indicator_id", "planned", "achieved"):
        d = selected.get(o["de_an_id"])
        if d is None:
            continue
        if d["status"] not in ("rejected", "cancelled"):
            out[o["indicator_id"]]["planned"] += o["planned"]
        if d["status"] in ("in_implementation", "adjustment_requested", "accepted", "settled"):
            out[o["indicator_id"]]["achieved"] += o["achieved"] or 0
    return out
