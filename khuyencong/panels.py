"""The core app's home-page panels (registered in KhuyencongConfig.ready)."""
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .access import can
from .formatting import format_datetime
from .models import AuditEvent


def core_panels(user):
    """For administrators: sign-in lockouts of the last 24 hours, to check or unlock."""
    if not can(user, "users.manage"):
        return []
    since = timezone.now() - timedelta(hours=24)
    events = AuditEvent.objects.filter(action="login.locked_out", created_at__gte=since).order_by("-created_at")
    count = events.count()
    url = reverse("admin:khuyencong_auditevent_changelist") + "?action=login.locked_out"
    items = [
        {"label": event.summary, "url": reverse("admin:khuyencong_auditevent_change", args=[event.pk]),
         "meta": format_datetime(event.created_at)}
        for event in events[:5]
    ]
    return [{"title": _("Đăng nhập bị tạm khóa (24 giờ qua)"), "items": items, "count": count, "url": url, "order": 900}]
