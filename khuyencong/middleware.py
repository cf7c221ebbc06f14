"""Request-wide behaviour: the language of a request (PortalLocaleMiddleware), private pages for
signed-in users (PrivatePagesMiddleware), the Content-Security-Policy (ContentSecurityPolicyMiddleware) and
requests carrying a NUL character (RejectNulMiddleware).

The portal is Vietnamese for everyone; English is there for those who choose it («Ngôn ngữ» at the
foot of every page, Django's ``set_language`` view, which keeps the choice in the language cookie).
Django's own ``LocaleMiddleware`` would also follow the browser's Accept-Language, so a provincial
officer whose Chrome happens to be installed in English would get English pages without asking for
them; this one reads only the cookie.
"""
from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def request_language(request):
    """The language chosen in the cookie if the portal offers it, else ``LANGUAGE_CODE`` (vi)."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen:
        try:
            return translation.get_supported_language_variant(chosen)
        except LookupError:
            pass
    return settings.LANGUAGE_CODE


class PortalLocaleMiddleware:
    """Activates :func:`request_language` for the request (in place of Django's LocaleMiddleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = request_language(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))  # the page depends on the language cookie only
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class PrivatePagesMiddleware:
    """Pages shown to a signed-in user are theirs alone: ``Cache-Control: private, no-store`` unless
    the view said otherwise (files already go out through ``security.private_download``). Without
    it, a shared office computer showed a đề án list or a money page again from the browser's cache
    with the Back button after the officer had signed out, and a proxy could keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


# Scripts only from the portal's own static files (no inline script or handler exists in its templates:
# tests/security/test_csp.py); styles may be inline (style attributes, htmx's indicator style); nothing
# framed, no plugin, forms post only here. The Django admin (/quan-tri/) keeps Django's own pages and
# the admin packages' templates as they come, so it is left out.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


class ContentSecurityPolicyMiddleware:
    """``Content-Security-Policy`` on the portal's pages (not the admin's), unless a view set its own:
    an injected ``<script>`` or ``onerror=`` would not run even if escaping were ever missed."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def __call__(self, request):
        response = self.get_response(request)
        if self._admin_prefix is None:
            from django.urls import reverse

            self._admin_prefix = reverse("admin:index")
        if not request.path.startswith(self._admin_prefix) and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response


def has_nul(request):
    """True when the path or a query parameter (name or value) holds a NUL character: PostgreSQL
    cannot store or compare one in text, so it would reach the database as a server error."""
    if "\x00" in request.path_info:
        return True
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())


class RejectNulMiddleware:
    """Answers 400 («Yêu cầu không hợp lệ», the portal's 400 page) to a request whose path or query
    string holds a NUL (``%00``), before any view builds a query from it. Forms refuse NUL in what is
    posted themselves (Django's ``ProhibitNullCharactersValidator`` on every CharField)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_nul(request):
            from django.views.defaults import bad_request

            return bad_request(request, exception=None)
        return self.get_response(request)
