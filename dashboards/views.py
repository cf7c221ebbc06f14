"""Dashboard pages: national (reviewers, administrators) and province (its staff; reviewers too).

Thin: access decisions come from ``khuyencong.access`` (refusals are a 403 page with the Vietnamese
reason), figures from ``dashboards.selectors``. Every block has its table one click away
(``…/bang/<block>/``) and an .xlsx export (``…/xuat/<block>/``) with the same filters.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from khuyencong import access
from khuyencong.choices import Era, Level
from khuyencong.models import ActivityContent, Indicator, Programme, Province
from khuyencong.security import private_download
from khuyencong.textsearch import in_vietnamese_order

from . import selectors, services
from .exports import XLSX_CONTENT_TYPE, block_workbook
from .filters import FilterError, parse_filters
from .forms import OutputsForm
from .models import DeAnEconomicResult, DeAnIndicatorOutput

PROVINCE_BLOCKS = ("so-sanh",)


def _refuse(request, reason, status=403):
    return render(request, "dashboards/refused.html", {"message": reason}, status=status)


def _province_or_404(code):
    province = Province.objects.filter(code=code, era=Era.CURRENT).first()
    if province is None:
        raise Http404(_("Không có tỉnh, thành phố mã %(c)s.") % {"c": code})
    return province


def _scope(request, code):
    """(province or None, refusal response or None) for a dashboard URL."""
    if code is None:
        decision = access.can(request.user, "dashboards.national")
        return None, (None if decision else _refuse(request, decision.reason))
    province = _province_or_404(code)
    decision = access.can(request.user, "dashboards.province", province)
    return province, (None if decision else _refuse(request, decision.reason))


def _filter_form_context(request, filters):
    """The filter form's lists and values: the parsed filters, or what the user typed when they were
    refused (so it can be corrected)."""
    if filters is not None:
        form = {"programme": filters.programme.code, "year_from": filters.year_from, "year_to": filters.year_to,
                "level": filters.level, "province": str(filters.province.pk) if filters.province else "",
                "content": str(filters.content.pk) if filters.content else "", "grouping": filters.grouping}
    else:
        form = {k: (request.GET.get(k) or "").strip()[:40] for k in
                ("programme", "year_from", "year_to", "level", "province", "content", "grouping")}
    return {
        "programmes": Programme.objects.order_by("start_year"),
        "provinces": in_vietnamese_order(Province.objects.filter(era=Era.CURRENT)),
        "areas": ActivityContent.objects.filter(parent__isnull=True).order_by("instrument", "order", "code"),
        "levels": Level.choices,
        "filters": filters,
        "form": form,
    }


def _base_urls(province):
    if province is None:
        return reverse("dashboards:national"), "dashboards:national_table", "dashboards:national_export", []
    return (reverse("dashboards:province", args=[province.code]), "dashboards:province_table",
            "dashboards:province_export", [province.code])


@login_required
@require_GET
def index(request):
    if access.can(request.user, "dashboards.national"):
        return redirect("dashboards:national")
    province = access.user_province(request.user)
    if province is None:
        return _refuse(request, _("Tài khoản chưa gắn với tỉnh, thành phố nào nên chưa có trang tổng quan."))
    return redirect("dashboards:province", code=province.code)


def _dashboard(request, code=None):
    province, refusal = _scope(request, code)
    if refusal:
        return refusal
    page_url, table_name, export_name, args = _base_urls(province)
    context = {"province": province, "page_url": page_url,
               "scope": province.full_name if province else _("Toàn quốc")}
    try:
        filters = parse_filters(request.GET, fixed_province=province)
    except FilterError as err:
        context.update(_filter_form_context(request, None))
        context["error"] = str(err)
        return render(request, "dashboards/dashboard.html", context, status=400)
    blocks, computed_at = selectors.cached_dashboard(user=request.user, filters=filters, with_comparison=province is not None,
                                                     refresh=bool(request.GET.get("lam_moi")))
    if province is not None:
        if not access.is_nationwide(request.user):
            context["waiting"] = selectors.waiting_for_me(request.user)
        context["overdue"] = selectors.overdue_recommendations(request.user, province=province)
    query = filters.query()
    for block in blocks:
        block.table_url = f"{reverse(table_name, args=[*args, block.key])}?{query}"
        block.export_url = f"{reverse(export_name, args=[*args, block.key])}?{query}"
    context.update(_filter_form_context(request, filters))
    context.update({"blocks": blocks, "computed_at": computed_at, "refresh_url": f"{page_url}?{query}&lam_moi=1",
                    "list_url": f"{reverse('projects:list')}?{filters.list_query()}",
                    "scope": province.full_name if province else _("Toàn quốc")})
    return render(request, "dashboards/dashboard.html", context)


@login_required
@require_GET
def national(request):
    return _dashboard(request)


@login_required
@require_GET
def province(request, code):
    return _dashboard(request, code)


def _block(request, code, key):
    province, refusal = _scope(request, code)
    if refusal:
        return None, None, refusal
    if key not in selectors.BLOCKS and not (province is not None and key in PROVINCE_BLOCKS):
        raise Http404(_("Không có bảng số liệu «%(k)s».") % {"k": key})
    try:
        filters = parse_filters(request.GET, fixed_province=province)
    except FilterError as err:
        return None, None, _refuse(request, str(err), status=400)
    block = selectors.cached_dashboard(user=request.user, filters=filters, only=key)[0][0]
    return block, filters, None


@login_required
@require_GET
def table(request, key, code=None):
    block, filters, refusal = _block(request, code, key)
    if refusal:
        return refusal
    province = filters.province
    page_url, _t, export_name, args = _base_urls(province if code else None)
    return render(request, "dashboards/table.html", {
        "blk": block, "filters": filters, "page_url": f"{page_url}?{filters.query()}",
        "export_url": f"{reverse(export_name, args=[*args, key])}?{filters.query()}",
        "scope": province.full_name if code else _("Toàn quốc"),
    })


@login_required
@require_GET
def export(request, key, code=None):
    block, filters, refusal = _block(request, code, key)
    if refusal:
        return refusal
    scope = filters.province.full_name if code else _("Toàn quốc")
    content = block_workbook(block=block, scope=scope, filters=filters)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    suffix = f"-{code}" if code else ""
    response["Content-Disposition"] = content_disposition_header(
        True, f"tong-quan-{key}{suffix}-{filters.year_from}-{filters.year_to}.xlsx")
    return private_download(response)


@login_required
@require_GET
def indicator(request, indicator_code):
    """The đề án behind one indicator's figure (national for ministry users, own province otherwise)."""
    if access.is_nationwide(request.user):
        fixed = None
    else:
        fixed = access.user_province(request.user)
        if fixed is None:
            return _refuse(request, _("Tài khoản chưa gắn với tỉnh, thành phố nào."))
    try:
        filters = parse_filters(request.GET, fixed_province=fixed)
    except FilterError as err:
        return _refuse(request, str(err), status=400)
    item = Indicator.objects.filter(programme=filters.programme, code=indicator_code).first()
    if item is None:
        return _refuse(request, _("Không có chỉ tiêu «%(c)s» trong chương trình %(p)s.") % {
            "c": indicator_code[:40], "p": filters.programme.decision_number}, status=404)
    outputs = selectors.indicator_de_an(user=request.user, filters=filters, indicator=item)
    back = reverse("dashboards:province", args=[fixed.code]) if fixed else reverse("dashboards:national")
    return render(request, "dashboards/indicator.html", {
        "indicator": item, "outputs": outputs, "filters": filters, "page_url": f"{back}?{filters.query()}",
    })


# --- recording outputs and economic results of one đề án ---------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def outputs(request):
    """``/tong-quan/ket-qua/?de_an=<id>``: planned and achieved outputs per indicator, and the economic
    results, of one đề án. ``dashboards.forms.OutputsForm`` reads what was typed and
    ``dashboards.services.outputs_save`` writes it, all or nothing; what the user may not change is shown
    read-only with the reason. A refusal shows the page again (400) with what was typed, each message
    next to its field and a summary on top."""
    from khuyencong.selectors import programme_for_year

    try:
        pk = int(request.GET.get("de_an") or "")
    except ValueError:
        raise Http404(_("Không tìm thấy đề án.")) from None
    de_an = access.visible_de_an(request.user).select_related("programme", "current_province").filter(pk=pk).first()
    if de_an is None:
        raise Http404(_("Không tìm thấy đề án."))
    programme = de_an.programme or programme_for_year(de_an.plan_year)
    indicators = list(Indicator.objects.filter(programme=programme).order_by("order", "id")) if programme else []
    existing = {o.indicator_id: o for o in DeAnIndicatorOutput.objects.filter(de_an=de_an)}
    econ = DeAnEconomicResult.objects.filter(de_an=de_an).first()
    can_plan = access.can(request.user, "dashboards.output_plan", de_an)
    can_record = access.can(request.user, "dashboards.output_record", de_an)
    can_econ = access.can(request.user, "dashboards.economic_record", de_an)
    form = OutputsForm(request.POST if request.method == "POST" else None, indicators=indicators, existing=existing,
                       econ=econ, can_plan=can_plan, can_record=can_record, can_econ=can_econ)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.outputs_save(actor=request.user, de_an=de_an, **form.changes())
        except services.OutputRefused as err:
            form.add_refusal(err)
        else:
            messages.success(request, _("Đã ghi %(n)d thay đổi về kết quả của đề án.") % {"n": changed} if changed
                             else _("Không có gì thay đổi."))
            return redirect(f"{reverse('dashboards:outputs')}?de_an={de_an.pk}")
    rows = [{"indicator": ind, "output": existing.get(ind.pk), "planned": form.bound(services.planned_field(ind)),
             "achieved": form.bound(services.achieved_field(ind))} for ind in indicators]
    economic = {name: form.bound(name) for name in services.ECONOMIC_FIELDS}
    return render(request, "dashboards/outputs.html", {
        "de_an": de_an, "programme": programme, "rows": rows, "econ": econ, "economic": economic, "form": form,
        "can_plan": can_plan, "can_record": can_record, "can_econ": can_econ,
    }, status=400 if form.errors else 200)
