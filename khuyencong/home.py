"""Panels on the home page ("what waits for me"). Each app registers a function in its
AppConfig.ready(); the home view asks every registered function for its panels.

A panel is a dict: {"title": str, "items": [{"label": str, "url": str, "meta": str}], "count": int,
"url": str (optional "see all" link), "order": int}.
"""
_PANEL_PROVIDERS = []


def register_panel(func):
    if func not in _PANEL_PROVIDERS:
        _PANEL_PROVIDERS.append(func)
    return func


def panels_for(user):
    panels = []
    for provider in _PANEL_PROVIDERS:
        panels.extend(provider(user) or [])
    return sorted(panels, key=lambda panel: panel.get("order", 100))
