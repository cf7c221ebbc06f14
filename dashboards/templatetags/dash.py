from django import template

from dashboards.selectors import cell_text

register = template.Library()


@register.simple_tag
def dash_cell(row, column):
    return cell_text(column.kind, row.get(column.key), row)


@register.filter
def is_num(column):
    return column.kind in ("int", "dong", "pct", "days", "mixed")


@register.filter
def get_link(row):
    return row.get("_link", "")


@register.filter
def has_key(mapping, key):
    return key in mapping
