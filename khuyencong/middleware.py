"""Request-wide behaviour: the language of a request (PortalLocaleMiddleware) and private pages for
signed-in users (PrivatePagesMiddleware).

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
