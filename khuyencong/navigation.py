"""The navigation menu by role. Apps add entries with ``register_menu`` in AppConfig.ready().

The entry of the page being shown is marked: ``aria-current="page"`` on its own page, ``"true"`` on
the pages of its section (a đề án's page under «Đề án», a recommendation under «Kiểm tra, giám sát»):
the section is the entry's address, or ``section`` when the entry's page sits below its section's
start, and the longest section containing the page wins (/de-an/cho-xu-ly/ is «Việc chờ xử lý», not
«Đề án»)."""
from django.urls import NoReverseMatch, reverse

_ENTRIES = []


def register_menu(*, label, url_name, roles=None, order=100, url_kwargs=None, section=None):
    """Show ``label`` linking to ``url_name`` to users whose role is in ``roles`` (None: everyone);
    ``section``: the URL name where its section starts, when not ``url_name`` itself."""
    entry = {"label": label, "url_name": url_name, "roles": roles, "order": order, "kwargs": url_kwargs or {},
             "section": section}
    # Registering the same link twice (ready() run again) keeps one entry.
    _ENTRIES[:] = [e for e in _ENTRIES if (e["url_name"], e["kwargs"]) != (url_name, entry["kwargs"])]
    _ENTRIES.append(entry)


def menu_for(user, path=None):
    """The entries ``user`` sees, each with ``current``: "page", "true" (its section) or ""."""
    items = []
    for entry in sorted(_ENTRIES, key=lambda e: e["order"]):
        if entry["roles"] is not None and user.role not in entry["roles"] and not (
            user.is_superuser and "admin" in entry["roles"]
        ):
            continue
        try:
            url = reverse(entry["url_name"], kwargs=entry["kwargs"])
            section = reverse(entry["section"]) if entry["section"] else url
        except NoReverseMatch:
            continue
        items.append({"label": str(entry["label"]), "url": url, "url_name": entry["url_name"], "section": section,
                      "current": ""})
    if path:
        exact = [item for item in items if item["url"] == path]
        if exact:
            exact[0]["current"] = "page"
        else:
            containing = [item for item in items if path.startswith(item["section"])]
            if containing:
                max(containing, key=lambda item: len(item["section"]))["current"] = "true"
    return items
