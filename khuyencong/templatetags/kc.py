"""Template filters for Vietnamese display: {% load kc %} then |dong, |trieu, |ty, |percent, |vndate;
the date field's |date_input and {% date_input_attrs %}."""
from django import template

from .. import formatting

register = template.Library()


@register.filter
def dong(value):
    return formatting.format_dong(value)


@register.filter
def trieu(value, places=None):
    return formatting.format_trieu(value, places=None if places in (None, "") else int(places))


@register.filter
def trieu_number(value, places=None):
    return formatting.format_trieu(value, places=None if places in (None, "") else int(places), unit=False)


@register.filter
def ty(value, places=2):
    return formatting.format_ty(value, places=int(places))


@register.filter
def percent(value, places=1):
    return formatting.format_percent(value, places=int(places))


@register.filter
def number(value):
    return formatting.format_number(value)


@register.filter
def vndate(value):
    return formatting.format_date(value)


@register.filter
def vndatetime(value):
    return formatting.format_datetime(value)


@register.filter
def vndate_long(value):
    return formatting.format_date_long(value)


@register.filter
def minutes(value):
    """A timedelta as whole minutes (rounded up): timedelta(minutes=15) → 15."""
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    return -(-seconds // 60)


@register.filter
def date_input(value):
    """The value of a hand-written date field (khuyencong.dates): a date as dd/mm/yyyy, typed text as is."""
    from .. import dates

    return dates.display(value)


@register.simple_tag
def date_input_attrs():
    """The attributes of the portal's date field for a hand-written ``<input>`` (khuyencong.dates)."""
    from django.forms.utils import flatatt

    from .. import dates

    return flatatt({"type": "text", **dates.ATTRS})


@register.simple_tag
def submission_key():
    """The hidden one-time key of a create form (khuyencong.submissions): sent twice, it makes one record."""
    from django.utils.html import format_html

    from .. import submissions

    return format_html('<input type="hidden" name="{}" value="{}">', submissions.FIELD, submissions.new_key())
