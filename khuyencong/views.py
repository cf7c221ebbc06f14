from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors
from .access import user_province
from .forms import LoginForm
from .home import panels_for


class PortalLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@login_required
def home(request):
    user = request.user
    return render(
        request,
        "khuyencong/home.html",
        {
            "province": user_province(user),
            "organisation": user.organisation,
            "organisation_name": user.organisation.name_on(timezone.localdate()) if user.organisation else "",
            "panels": panels_for(user),
        },
    )


@login_required
@require_GET
def province_search(request):
    """Province picker: ?q=hoa binh&era=current|former → JSON list."""
    era = request.GET.get("era") or None
    rows = selectors.province_search(request.GET.get("q", ""), era=era)[:20]
    return JsonResponse(
        {
            "results": [
                {
                    "id": p.pk,
                    "code": p.code,
                    "name": p.full_name,
                    "era": p.era,
                    "current": p.current.full_name if p.current else None,
                }
                for p in rows
            ]
        }
    )


@require_GET
def health(request):
    """Liveness for the load balancer and docker-compose: answers when the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
