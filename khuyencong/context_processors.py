from django.conf import settings
from django.utils import timezone

from .access import user_province
from .navigation import menu_for


def portal(request):
    user = getattr(request, "user", None)
    context = {"portal_name": settings.PORTAL_NAME, "nav_items": [], "user_organisation_name": "", "user_province": None}
    if user is not None and user.is_authenticated:
        context["nav_items"] = menu_for(user, request.path)
        if user.organisation_id:
            # The organisation's name in force today (names changed in 2025).
            context["user_organisation_name"] = user.organisation.name_on(timezone.localdate())
        context["user_province"] = user_province(user)
    return context
