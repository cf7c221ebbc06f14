"""The navigation menu by role. Apps add entries with ``register_menu`` in AppConfig.ready()."""
from django.urls import NoReverseMatch, reverse

_ENTRIES = []


def register_menu(*, label, url_name, roles=None, order=100, url_kwargs=None):
    """Show ``label`` linking to ``url_name`` to users whose role is in ``roles`` (None: everyone)."""
    entry = {"label": label, "url_name": url_name, "roles": roles, "order": order, "kwargs": url_kwargs or {}}
    # Registering the same link twice (ready() run again) keeps one entry.
    _ENTRIES[:] = [e for e in _ENTRIES if (e["url_name"], e["kwargs"]) != (url_name, entry["kwargs"])]
    _ENTRIES.append(entry)


def menu_for(user):
    items = []
    for entry in sorted(_ENTRIES, key=lambda e: e["order"]):
        if entry["roles"] is not None and user.role not in entry["roles"] and not (
            user.is_superuser and "admin" in entry["roles"]
        ):
            continue
        try:
            url = reverse(entry["url_name"], kwargs=entry["kwargs"])
        except NoReverseMatch:
            continue
        items.append({"label": str(entry["label"]), "url": url, "url_name": entry["url_name"]})
    return items
