"""Content-Security-Policy: the portal's pages allow scripts from its own static files only, and no
template holds an inline script or event handler that the policy would block (or that a translation
with a quote could break: confirmations are data-confirm attributes read by static/js/portal.js)."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.projects.factories import ready_de_an

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JS_URL = re.compile(r"javascript:", re.I)


def portal_templates():
    """Every HTML template of the portal, except the PDF documents (rendered by WeasyPrint, which runs
    no script) and the admin overrides."""
    for path in sorted(ROOT.glob("**/templates/**/*.html")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "node_modules/")) or "/reports/pdf/" in rel or "/admin/" in rel:
            continue
        yield rel, path.read_text(encoding="utf-8")


def test_no_template_has_an_inline_script_or_handler():
    checked = 0
    for rel, text in portal_templates():
        checked += 1
        assert not INLINE_SCRIPT.search(text), f"{rel}: inline <script>"
        assert not HANDLER.search(text), f"{rel}: inline event handler"
        assert not JS_URL.search(text), f"{rel}: javascript: URL"
    assert checked > 40


def test_portal_pages_carry_the_policy_and_the_admin_does_not(client, users):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    for url in ("/dang-nhap/", "/", reverse("projects:list"), reverse("projects:detail", args=[de_an.pk]),
                reverse("projects:create")):
        response = client.get(url)
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, url
        script_src = re.search(r"script-src ([^;]*)", policy).group(1)
        assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
    client.force_login(users.admin)
    assert "Content-Security-Policy" not in client.get(reverse("admin:index"))


def test_destructive_actions_ask_through_data_confirm(client, users):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    page = client.get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert 'src="/static/js/portal.js"' in page or "js/portal" in page
    assert re.search(r'data-confirm="Xác nhận: [^"]+\? Thao tác này không hoàn tác được\."', page)
