"""Reads of inspection and supervision pages, scoped by ``khuyencong.access`` and loaded with what
each page shows (one query per list, whatever the number of rows)."""
from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from khuyencong import access

from .models import FollowUp, MissionMember, Recommendation, RecommendationEvidence


def _evidence():
    """A recommendation's evidence files, in upload order, with who uploaded them (one query for a page)."""
    return Prefetch("evidence", queryset=RecommendationEvidence.objects.select_related("uploaded_by").order_by("uploaded_at", "id"))


def plan_list(user, *, year=None):
    qs = access.visible_inspection_plans(user).annotate(
        mission_count=Count("missions", distinct=True),
    ).order_by("-year")
    if year:
        qs = qs.filter(year=year)
    return qs


def plan_for(user, plan_id):
    return access.visible_inspection_plans(user).filter(pk=plan_id).first()


def missions_of(plan):
    return (plan.missions.annotate(de_an_count=Count("de_an", distinct=True), record_count=Count("records", distinct=True))
            .prefetch_related("provinces", Prefetch("members", queryset=MissionMember.objects.order_by("order", "id")))
            .order_by("order", "id"))


def mission_for(user, mission_id):
    return access.visible_missions(user).select_related("plan").filter(pk=mission_id).first()


def mission_de_an(mission):
    """The đề án in scope with, for each, the record made for it in this mission (if any)."""
    records = {r.de_an_id: r for r in mission.records.all()}
    rows = list(mission.de_an.select_related("current_province").order_by("current_province__code", "code"))
    for d in rows:
        d.mission_record = records.get(d.pk)
    return rows


def record_list(user, *, year=None, province=None, conclusion=None):
    qs = access.visible_inspection_records(user).select_related("de_an__current_province", "mission").annotate(
        rec_count=Count("recommendations", distinct=True),
        rec_open=Count("recommendations", filter=~Q(recommendations__status=FollowUp.CLOSED), distinct=True),
    ).order_by("-inspected_on", "-id")
    if year:
        qs = qs.filter(inspected_on__year=year)
    if province:
        qs = qs.filter(de_an__current_province=province)
    if conclusion:
        qs = qs.filter(conclusion=conclusion)
    return qs


def record_for(user, record_id):
    return (access.visible_inspection_records(user)
            .select_related("de_an__current_province", "mission__plan", "created_by")
            .prefetch_related(Prefetch("recommendations", queryset=Recommendation.objects.select_related("responded_by", "closed_by")
                                       .prefetch_related(_evidence())),
                              "attachments")
            .filter(pk=record_id).first())


def recommendation_list(user, *, status=None, overdue=False, province=None, today=None):
    today = today or timezone.localdate()
    qs = access.visible_recommendations(user).select_related(
        "record__de_an__current_province", "responded_by",
    ).prefetch_related(_evidence()).order_by("deadline", "id")
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(deadline__lt=today).exclude(status=FollowUp.CLOSED)
    if province:
        qs = qs.filter(record__de_an__current_province=province)
    return qs


def recommendation_for(user, recommendation_id):
    return (access.visible_recommendations(user)
            .select_related("record__de_an__current_province", "responded_by", "closed_by")
            .prefetch_related(_evidence())
            .filter(pk=recommendation_id).first())
