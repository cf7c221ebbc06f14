"""Pagination of the portal's plain lists (accounts, report jobs, import batches, inspection plans, records and
recommendations): Django's Paginator, the page number from ``?page=``, and the rest of the query
string kept for the page links (``templates/khuyencong/_pagination.html``). A page number that is
not a number or below 1 shows the first page, past the end the last page, instead of an error. The đề án list has its
own (``projects.selectors.IdFirstPaginator``: a capped count at 50.000 đề án)."""
from django.core.paginator import Paginator


def paginate(request, queryset, per_page):
    """``(page, query_without_page)`` for ``queryset`` (ordered) at ``request``'s ``?page=``."""
    number = request.GET.get("page")
    try:
        if int(number) < 1:  # Django's get_page would show the *last* page for 0 or -3
            number = 1
    except (TypeError, ValueError):
        pass  # not a number: get_page shows the first page
    page = Paginator(queryset, per_page).get_page(number)
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()
