"""PDF rendering with WeasyPrint, locked down.

WeasyPrint fetches every URL a document names (stylesheets, fonts, images, ``<link rel="attachment">``)
through a *URL fetcher*. The default fetcher reads ``file://`` paths and the network, and follows
redirects; a report whose text reached the HTML unescaped could then read ``/etc/passwd`` into an
attachment or make the server call ``http://169.254.169.254/``. So:

* report HTML is produced by Django templates (autoescape on): user text is always text;
* the only URLs that resolve are ``kc-static:<path>`` URLs that our own templates write (see the
  ``{% pdf_static %}`` tag), and only for files under ``static/fonts``, ``static/css`` and
  ``static/img`` with a font/css/image extension; the path is resolved and must stay inside those
  folders (no ``..``, no symlink escape);
* ``kc-media:<key>`` URLs resolve only to the bytes the caller handed to ``make_fetcher(media=…)``
  for this one render (the photos of a biên bản, read and type-checked by ``reports.services``);
* every other scheme — ``file:``, ``http:``, ``https:``, ``ftp:``, ``data:`` — is refused before any
  I/O, so there is nothing to redirect; WeasyPrint logs the refusal and renders without the resource.

The body font (Liberation Serif: Times New Roman metrics, full Vietnamese) is bundled under
``static/fonts/`` and declared with ``@font-face``, so output does not depend on the host's fonts.
"""
import logging
import re
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string

from khuyencong.runtime import cycle_collector_paused

logger = logging.getLogger(__name__)

SCHEME = "kc-static"
MEDIA_SCHEME = "kc-media"
ALLOWED_FOLDERS = ("fonts", "css", "img")
ALLOWED_SUFFIXES = {
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".css": "text/css",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".svg": "image/svg+xml",
}


class RefusedURL(ValueError):
    """A URL the report renderer will not fetch."""


def static_root():
    return Path(settings.BASE_DIR) / "static"


def static_url(path):
    """The URL a PDF template uses for a bundled asset: ``kc-static:fonts/LiberationSerif-Regular.ttf``."""
    resolve_static(f"{SCHEME}:{path}")  # fail early on a template typo
    return f"{SCHEME}:{path}"


def resolve_static(url):
    """Map an allowed ``kc-static:`` URL to a file path, or raise RefusedURL."""
    text = str(url)
    scheme, sep, rest = text.partition(":")
    if not sep or scheme.lower() != SCHEME:
        raise RefusedURL(f"URL refused (only bundled static assets are served): {text[:200]}")
    rest = rest.split("?", 1)[0].split("#", 1)[0].lstrip("/")
    parts = rest.split("/")
    if not rest or any(part in ("", ".", "..") or "\\" in part or "\x00" in part for part in parts):
        raise RefusedURL(f"URL refused (bad path): {text[:200]}")
    if parts[0] not in ALLOWED_FOLDERS:
        raise RefusedURL(f"URL refused (folder not allowed): {text[:200]}")
    suffix = Path(parts[-1]).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise RefusedURL(f"URL refused (file type not allowed): {text[:200]}")
    root = static_root().resolve()
    folder = (root / parts[0]).resolve()
    path = (root / Path(*parts)).resolve()
    if folder not in path.parents or not path.is_file():
        raise RefusedURL(f"URL refused (no such bundled file): {text[:200]}")
    return path, ALLOWED_SUFFIXES[suffix]


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serves only bundled static assets; refuses everything else before any I/O.

        ``requested`` and ``refused`` record what the document asked for (for tests and logs)."""

        def __init__(self, media=None):
            # allowed_protocols and allow_redirects are belt and braces: fetch() below never
            # delegates to the urllib handlers at all.
            super().__init__(allowed_protocols=(SCHEME, MEDIA_SCHEME), allow_redirects=False, fail_on_errors=False, timeout=1)
            self.media = dict(media or {})
            self.requested = []
            self.refused = []

        def fetch(self, url, headers=None):
            self.requested.append(url)
            if str(url) in self.media:
                body, mime = self.media[str(url)]
                return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})
            try:
                path, mime = resolve_static(url)
            except RefusedURL:
                self.refused.append(url)
                logger.warning("PDF renderer refused URL %.200s", url)
                raise
            return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})

        def open(self, url, data=None, timeout=None):  # never use urllib's opener
            target = getattr(url, "full_url", url)
            return self.fetch(target)

    return StaticOnlyFetcher


def make_fetcher(media=None):
    """A fetcher for one render. ``media``: {``media_url(key)``: (bytes, content type)} — the only
    non-bundled resources the document may use."""
    return _fetcher_class()(media)


def media_url(key):
    return f"{MEDIA_SCHEME}:{key}"


class _CharsUntilCache(dict):
    """tinyhtml5 2.1's ``chars_until`` caches its regexes under the wrong key (a chained assignment
    rebinds ``characters`` to the compiled regex before the dict key is built), so every attribute
    name and value of the document rebuilds its regex: about 2 % of an annual report's render time,
    the report having ~3,000 class attributes (bench/bench_report.py). Missing keys are built here,
    exactly as tinyhtml5 builds them, and stored under the key it looks up."""

    def __missing__(self, key):
        characters, opposite = key
        pattern = "".join(f"\\x{ord(character):02x}" for character in characters)
        if not opposite:
            pattern = f"^{pattern}"
        compiled = self[key] = re.compile(f"[{pattern}]+")
        return compiled


def _fix_html_parser_cache():
    from tinyhtml5 import inputstream

    if not isinstance(inputstream.characters_until_regex, _CharsUntilCache):
        inputstream.characters_until_regex = _CharsUntilCache(inputstream.characters_until_regex)


class RenderResult:
    __slots__ = ("pdf", "pages")

    def __init__(self, pdf, pages):
        self.pdf = pdf
        self.pages = pages


def _render(html, fetcher):
    import weasyprint

    _fix_html_parser_cache()
    html_doc = weasyprint.HTML(string=html, base_url=f"{SCHEME}:/", url_fetcher=fetcher or make_fetcher())
    # No attachments but the ones we pass (none), no form fields.
    return html_doc.render(attachments=[], pdf_forms=False)


def html_to_document(html, *, fetcher=None):
    """The laid-out WeasyPrint document (pages and their boxes) of ``html``, rendered exactly as
    html_to_pdf renders it: for checking the layout (margins, page numbers, overflowing text)."""
    with cycle_collector_paused():
        return _render(html, fetcher)


def html_to_pdf(html, *, fetcher=None, target=None):
    """Render ``html`` (a string from a Django template) to PDF.

    Returns a RenderResult: ``pdf`` holds the bytes when ``target`` is None (else the PDF is written
    into ``target``, a path or binary file object, and ``pdf`` is None); ``pages`` the page count."""
    with cycle_collector_paused():
        document = _render(html, fetcher)
        pdf = document.write_pdf(target=target)
    return RenderResult(pdf, len(document.pages))


def render_pdf(template_name, context, *, target=None, fetcher=None):
    """Render a Django template to PDF. ``context`` values are escaped by the template engine."""
    html = render_to_string(template_name, context)
    return html_to_pdf(html, fetcher=fetcher, target=target)
