"""Tags for PDF templates: {% load report_pdf %} then {% pdf_static 'fonts/LiberationSerif-Regular.ttf' %}."""
import re

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

from .. import pdf

register = template.Library()


@register.simple_tag
def pdf_static(path):
    """A ``kc-static:`` URL for a bundled asset; the PDF renderer's fetcher serves only these."""
    return pdf.static_url(path)


@register.filter
def pct_of(part, whole):
    """part / whole as a percentage number (None when whole is 0 or missing)."""
    try:
        if not whole:
            return None
        return round(float(part or 0) * 100 / float(whole), 1)
    except (TypeError, ValueError):
        return None


@register.filter
def nb(text):
    """Spaces made no-break, for a number and its unit in running text: «71,6 %», «1.234.567 đ» are
    never split across two lines (a line starting with «%» or «đ» reads as a mistake)."""
    if text is None:
        return ""
    return str(text).replace(" ", "\u00a0")


_NUMBER_UNIT = re.compile(r"(\d) (%|đ\b)")


@register.filter
def nb_units(text):
    """In a sentence, the space between a number and «%» or «đ» made no-break («dưới 50 % kế hoạch»)."""
    return _NUMBER_UNIT.sub("\\1\u00a0\\2", str(text or ""))


# A document's number and symbol: «120/QĐ-ĐMST», «30/2020/NĐ-CP», «1881/QĐ-TTg» (no trailing full stop).
_DOCUMENT_NUMBER = re.compile(r"\b\d+(?:/[\w-]*\w)+")
# A span of years in a programme's name: «giai đoạn 2026 – 2030» (a line ending «2026» and the next
# starting «– 2030» reads as a minus sign).
_YEAR_SPAN = re.compile(r"\b\d{4} ?[–-] ?\d{4}\b")


def _unbroken(escaped):
    return f'<span class="docno">{escaped}</span>'


@register.filter
def docno(value):
    """A document number kept on one line («(120/» then «QĐ-ĐMST)» on the next reads as two things):
    escaped and wrapped in ``<span class="docno">`` (``white-space: nowrap`` in document.css)."""
    text = "" if value is None else str(value).strip()
    return mark_safe(_unbroken(conditional_escape(text))) if text else ""


@register.filter
def docnos(value):
    """Free text (a legal basis, a programme's name) escaped, with each document number in it kept on
    one line as ``docno`` does: «Căn cứ Quyết định số <span class="docno">77/QĐ-ĐMST</span>…»; a span of
    years («2026 – 2030») likewise."""
    escaped = conditional_escape("" if value is None else str(value))
    marked = _DOCUMENT_NUMBER.sub(lambda m: _unbroken(m.group(0)), escaped)
    return mark_safe(_YEAR_SPAN.sub(lambda m: _unbroken(m.group(0)), marked))


def _signed(value, text):
    if value is None:
        return ""
    if value > 0:
        return f"+{text}"
    if value < 0:
        return "\u2212" + text.lstrip("-")
    return text


@register.filter
def signed(value):
    """A change in a «Tăng (+), giảm (−)» column: «+508.375.332.000», «−1.234.567», «0»."""
    from khuyencong.formatting import format_number

    return _signed(value, format_number(value) if value is not None else "")


@register.filter
def signed_percent(value):
    """A relative change with its sign: «+304,6 %», «−12,5 %»."""
    from khuyencong.formatting import format_percent

    return _signed(value, format_percent(value) if value is not None else "")


@register.filter
def or_fill_line(value, multiline=False):
    """The text as typed (escaped; line breaks kept when ``multiline``), or, when nothing was typed, a
    dotted line on a line of its own to complete by hand, as a printed biên bản has — a block, so the
    justified line before it is not stretched across the page."""
    text = "" if value is None else str(value).strip()
    if not text:
        return mark_safe('<span class="fill-line"></span>')
    escaped = conditional_escape(text)
    return mark_safe(escaped.replace("\n", "<br>")) if multiline else escaped
