"""Home-page panel: overdue inspection recommendations in the user's scope (everyone sees theirs)."""
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from khuyencong.formatting import format_date


def _recommendation_url(recommendation_id):
    return reverse("reports:inspection_recommendation", args=[recommendation_id])


def overdue_recommendations(user, province=None):
    """The panel: overdue recommendations ``user`` may see; with ``province`` (a current province: a
    province's dashboard) only those of đề án now in that province, whoever looks at the page."""
    from khuyencong.access import visible_inspection_records

    from .models import FollowUp, Recommendation

    today = timezone.localdate()
    qs = (
        Recommendation.objects.filter(record__in=visible_inspection_records(user), deadline__lt=today)
        .exclude(status=FollowUp.CLOSED)
        .select_related("record__de_an")
        .order_by("deadline", "id")
    )
    if province is not None:
        qs = qs.filter(record__de_an__current_province=province)
    count = qs.count()
    if not count:
        return []
    items = [
        {
            "label": f"{r.record.de_an.code}: {r.text[:80]}",
            "url": _recommendation_url(r.pk),
            "meta": _("hạn %(d)s") % {"d": format_date(r.deadline)},
        }
        for r in qs[:5]
    ]
    return [{"title": _("Kiến nghị sau kiểm tra đã quá hạn"), "items": items, "count": count, "order": 40,
             "url": reverse("reports:inspection_recommendations") + "?overdue=on"
             + (f"&province={province.pk}" if province is not None else "")}]
