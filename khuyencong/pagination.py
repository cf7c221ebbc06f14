"""Pagination of the portal's plain lists (accounts, report jobs, inspection plans, records and
recommendations): Django's Paginator, the page number from ``?page=``, and the rest of the query
string kept for the page links (``templates/khuyencong/_pagination.html``). A page number that is
not a number or past the end shows the nearest page instead of an error. The đề án list has its
own (``projects.selectors.IdFirstPaginator``: a capped count at 50.000 đề án)."""
from django.core.paginator import Paginator


def paginate(request, queryset, per_page):
    """``(page, query_without_page)`` for ``queryset`` (ordered) at ``request``'s ``?page=``."""
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()
