"""Tiny server-side SVG charts: horizontal bar charts, grouped or stacked.

Every chart has a ``<title>`` and ``<desc>`` (referenced by ``aria-labelledby``), axis labels in
Vietnamese, a legend, a ``<title>`` on each bar giving the exact figure (money as ``1.234.567 đ``
through ``khuyencong.formatting``), and optional links on bars (a click lands on the matching
đề án list). Pages always show the table behind a chart as well (table fallback).
"""
import itertools
import math
from decimal import ROUND_HALF_UP, Decimal

from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext_lazy

from khuyencong.formatting import clip, format_decimal, format_dong, format_number, format_percent, format_ty

# Every colour has at least 3:1 contrast on white (WCAG 1.4.11: bars are graphics the reader must see);
# stacked segments are also parted by a white line, so neighbours never differ by colour alone.
PALETTE = ("#0b5cad", "#a86500", "#1e7b34", "#a4161a", "#6a4c93", "#5b6673")
STACK_GAP = ' stroke="#ffffff" stroke-width="1.5"'
_ids = itertools.count(1)


def _rounded(value, places):
    """``value`` rounded half up to ``places`` decimals, trailing zeros dropped: 0.42 → "0,4", 3.0 → "3",
    0.25 → "0,3" (one place)."""
    exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return format_decimal(exact.normalize() if exact else Decimal(0))


# The units carry the msgctxt «đơn vị thời gian» (a literal, for makemessages): «ngày» alone is also the
# word of «Quyết định số … ngày …» (“dated”).
def _duration(unit):
    """A length of time in ``unit`` (a lazy msgid, translated when drawn), to one decimal: «0,4 ngày»."""
    return lambda v: f"{_rounded(v, 1)} {unit}"


# Durations are drawn in the unit ``duration_unit`` picks for the chart, so that bar ends and the axis
# are readable (a 0,02-day wait is «0,5 giờ», not «0»).
DURATION_UNITS = (  # (format key, seconds in one unit, axis title msgid)
    ("days", 86400, gettext_noop("Số ngày")),
    ("hours", 3600, gettext_noop("Số giờ")),
    ("minutes", 60, gettext_noop("Số phút")),
)

# Value formats: (exact text for a bar's tooltip, short text for ticks and bar ends).
FORMATS = {
    "dong": (format_dong, lambda v: format_ty(v, places=1, unit=False)),
    "int": (format_number, format_number),
    "pct": (lambda v: format_percent(v), lambda v: format_percent(v, 0)),
    # Durations: the ticks of a round axis (steps of 0,25 at the finest, see duration_unit) and bars ending
    # in the exact figure with its unit, so a bar's length and its label agree.
    "days": (_duration(pgettext_lazy("đơn vị thời gian", "ngày")), lambda v: _rounded(v, 2)),
    "hours": (_duration(pgettext_lazy("đơn vị thời gian", "giờ")), lambda v: _rounded(v, 2)),
    "minutes": (_duration(pgettext_lazy("đơn vị thời gian", "phút")), lambda v: _rounded(v, 2)),
}
BAR_END_EXACT = {"days", "hours", "minutes"}  # bar ends printed with the exact text (number and unit)


def duration_unit(seconds):
    """(format key, seconds per unit, axis title) for durations whose largest is ``max(seconds)``: days
    when it reaches a day, else hours when it reaches an hour, else minutes. In that unit the largest
    value is at least 1 (waits under a minute aside), so the axis (``_nice_max``) steps by 0,25 or more
    and no two ticks read alike."""
    longest = max((s for s in seconds if s is not None), default=0)
    key, size, title = next((u for u in DURATION_UNITS if longest >= u[1]), DURATION_UNITS[-1])
    return key, size, _(title)


def _nice_max(value, integer=False):
    """The axis maximum: four equal, round steps (1, 2, 2.5 or 5 × 10^k) covering ``value``."""
    if value <= 0:
        return 4 if integer else 1
    raw = value / 4
    exp = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * exp:
            break
    step = step * exp
    if integer:
        step = max(1, math.ceil(step))
    return step * 4


def bar_chart(*, title, desc, categories, series, fmt="int", x_label="", y_label="", links=None, stacked=False,
              marker=None, width=760, empty_text=None):
    """An SVG bar chart. ``categories``: row labels; ``series``: [{"label": str, "values": [number|None]}];
    ``links``: one URL (or None) per category; ``marker``: (value, label) drawn as a dashed line."""
    empty_text = empty_text or _("Chưa có số liệu")
    exact, short = FORMATS[fmt]
    uid = f"kc-chart-{next(_ids)}"
    n = len(categories)
    label_w = 210
    plot_x = label_w + 34
    plot_w = width - plot_x - 70
    bar_h = 14 if not stacked and len(series) > 1 else 18
    row_h = (bar_h * (1 if stacked else len(series))) + 10
    header_y = 34 + (22 if len(series) > 1 else 0) + 6  # the row of the axis title and the marker's label
    top = header_y + 12 if (y_label or marker is not None) else header_y - 6
    height = top + max(n, 1) * row_h + 52
    values = [v or 0 for s in series for v in s["values"]]
    if stacked:
        totals = [sum((s["values"][i] or 0) for s in series) for i in range(n)]
        vmax = max(totals or [0])
    else:
        vmax = max(values or [0])
    if marker is not None:
        vmax = max(vmax, marker[0])
    vmax = _nice_max(vmax, integer=fmt == "int")
    scale = plot_w / vmax

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" aria-labelledby="{uid}-t {uid}-d" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f'<title id="{uid}-t">{escape(title)}</title>',
        f'<desc id="{uid}-d">{escape(desc)}</desc>',
        f'<text x="0" y="16" font-size="14" font-weight="700" fill="#1d2733">{escape(title)}</text>',
    ]
    if len(series) > 1:
        x = 0
        for i, s in enumerate(series):
            colour = PALETTE[i % len(PALETTE)]
            out.append(f'<rect x="{x}" y="28" width="12" height="12" fill="{colour}"/>'
                       f'<text x="{x + 16}" y="38" fill="#1d2733">{escape(s["label"])}</text>')
            x += 24 + 7 * len(str(s["label"]))
    # Grid and ticks on the value axis.
    axis_y = top + max(n, 1) * row_h
    for k in range(5):
        v = vmax * k / 4
        x = plot_x + v * scale
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{axis_y}" stroke="#d6dbe1"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 15}" text-anchor="middle" fill="#5b6673">{escape(short(v))}</text>')
    out.append(f'<line x1="{plot_x}" y1="{top - 4}" x2="{plot_x}" y2="{axis_y}" stroke="#5b6673"/>')
    if x_label:
        out.append(f'<text x="{plot_x + plot_w / 2:.1f}" y="{axis_y + 36}" text-anchor="middle" fill="#1d2733">'
                   f'{escape(x_label)}</text>')
    if y_label:
        out.append(f'<text x="{label_w + 28}" y="{header_y}" text-anchor="end" font-weight="700" fill="#5b6673">'
                   f'{escape(y_label)}</text>')
    if not n:
        out.append(f'<text x="{plot_x + 10}" y="{top + 14}" fill="#5b6673">{escape(empty_text)}</text>')
    for i, category in enumerate(categories):
        y0 = top + i * row_h + 5
        link = links[i] if links else None
        out.append(f'<text x="{label_w + 28}" y="{y0 + (row_h - 10) / 2 + 4:.1f}" text-anchor="end" fill="#1d2733">'
                   f'<title>{escape(category)}</title>{escape(clip(category, 34))}</text>')
        offset = 0.0
        for j, s in enumerate(series):
            value = s["values"][i]
            colour = PALETTE[j % len(PALETTE)]
            w = (value or 0) * scale
            if stacked:
                x, y = plot_x + offset, y0
                offset += w
            else:
                x, y = plot_x, y0 + j * bar_h
            tip = f"{category} – {s['label']}: {exact(value) if value is not None else _('chưa có')}"
            bar = (f'<g><title>{escape(tip)}</title><rect x="{x:.1f}" y="{y}" width="{max(w, 0):.1f}" '
                   f'height="{bar_h - 2}" fill="{colour}"{STACK_GAP if stacked else ""}/></g>')
            if link:
                # No href: the chart is one picture (role="img") and a link inside it would be a keyboard
                # stop a screen reader cannot name (WCAG 4.1.2). The same links are in the chart's data
                # table; here a click is a mouse shortcut, handled by static/js/portal.js.
                bar = f'<a class="bar-link" data-href="{escape(link)}">{bar}</a>'
            out.append(bar)
            if not stacked:
                text = (exact if fmt in BAR_END_EXACT else short)(value) if value is not None else "—"
                out.append(f'<text x="{x + max(w, 0) + 4:.1f}" y="{y + bar_h - 4}" fill="#1d2733" font-size="11">'
                           f'{escape(text)}</text>')
        if stacked:
            total = sum((s["values"][i] or 0) for s in series)
            out.append(f'<text x="{plot_x + offset + 4:.1f}" y="{y0 + bar_h - 4}" fill="#1d2733" font-size="11">'
                       f'{escape(short(total))}</text>')
    if marker is not None:
        mx = plot_x + marker[0] * scale
        out.append(f'<line x1="{mx:.1f}" y1="{header_y + 3}" x2="{mx:.1f}" y2="{axis_y}" stroke="#a4161a" '
                   f'stroke-width="2" stroke-dasharray="5 3"/>')
        anchor, dx = ("end", -4) if mx > plot_x + plot_w * 0.6 else ("start", 4)
        out.append(f'<text x="{mx + dx:.1f}" y="{header_y}" text-anchor="{anchor}" fill="#a4161a" font-size="11">'
                   f'{escape(marker[1])}</text>')
    out.append("</svg>")
    return mark_safe("".join(out))
