"""Tags for PDF templates: {% load report_pdf %} then {% pdf_static 'fonts/LiberationSerif-Regular.ttf' %}."""
from django import template

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
