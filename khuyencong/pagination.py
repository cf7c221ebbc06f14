"""Pagination of the portal's plain lists (accounts, report jobs, import batches, inspection plans, records and
recommendations): Django's Paginator, the page number from ``?page=``, and the rest of the query
string kept for the page links (``templates/khuyencong/_pagination.html``). A page number that is
not a number or below 1 shows the first page, past the end the last page, instead of an error. The đề án list has its
own (``projects.selectors.IdFirstPaginator``: a capped count at 50.000 đề án)."""
from django.core.paginator import Paginator


def page_number(request):
    """The ``?page=`` to ask a paginator's ``get_page`` for: below 1 means the first page (Django's
    get_page would show the *last* page for 0 or -3); not a number is left to get_page (first page)."""
    number = request.GET.get("page")
    try:
        if int(number) < 1:
            return 1
    except (TypeError, ValueError):
        pass
    return number


def query_without_page(request):
    """The query string for the page links: everything but ``page``."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def paginate(request, queryset, per_page):
    """``(page, query_without_page)`` for ``queryset`` (ordered) at ``request``'s ``?page=``."""
    return Paginator(queryset, per_page).get_page(page_number(request)), query_without_page(request)
