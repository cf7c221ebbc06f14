"""Security helpers kept in one place:

* login: a lockout (django-axes) is logged and written to the audit trail (``record_lockout``);
* input: text typed into the portal's forms may not hold invisible control characters
  (``NoControlCharactersMixin``): they have no business in a đề án, and ``"\\x01=HYPERLINK(…)"`` once
  slipped past ``khuyencong.xlsx.neutralise`` (which now drops them *before* its formula check);
* input: ids and numbers sent in a form or a URL's query are kept only when they fit a 64-bit integer
  (``whole_numbers``, ``BoundedModelMultipleChoiceField``): SQLite cannot bind a larger one, so a forged
  ``?province=99999999999999999999`` was a server error there instead of being ignored or refused;
* abuse: «Quên mật khẩu» requests are counted per client address and per e-mail address in the shared
  cache (``over_rate_limit``), so the form cannot be used to flood an inbox or the mail server;
* output: every file the portal hands out is private (``private_download``): not stored by a proxy or
  by the browser's disk cache of a shared office computer, never sniffed into a page.
"""
import logging
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import AuditEvent

logger = logging.getLogger("khuyencong.security")


def client_address(request):
    """The address of the person signing in, for the login lockout (``AXES_CLIENT_IP_CALLABLE``).

    ``TRUSTED_PROXY_COUNT`` = 0 (default: gunicorn faces the clients): ``REMOTE_ADDR``.
    ``TRUSTED_PROXY_COUNT`` = N ≥ 1 (N reverse proxies in a chain, each appending the address it was
    reached from to X-Forwarded-For): the N-th entry from the end, the one written by the farthest
    trusted proxy — what the client put before it is ignored, so rotating that header neither
    escapes nor resets a lockout. Without it every person behind the proxy had the proxy's address,
    and five wrong passwords from anyone locked everyone out. A header shorter than N entries or an
    entry that is not an address falls back to ``REMOTE_ADDR``."""
    import ipaddress

    from django.conf import settings

    remote = request.META.get("REMOTE_ADDR") or None
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    entries = [e.strip() for e in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if e.strip()]
    if len(entries) < count:
        return remote
    candidate = entries[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def _rate_key(scope, key):
    import hashlib

    digest = hashlib.sha256(f"{scope}\0{key}".encode()).hexdigest()[:32]
    return f"kc:rate:{scope}:{digest}"


def rate_limit_reached(scope, key, *, limit):
    """Whether ``limit`` attempts of ``scope`` for ``key`` are already counted in the current window
    (without counting one more)."""
    from django.core.cache import cache

    return (cache.get(_rate_key(scope, key)) or 0) >= limit


def over_rate_limit(scope, key, *, limit, window_seconds=3600):
    """Count one attempt of ``scope`` (e.g. "password-reset-address") for ``key`` and say whether it is
    past ``limit`` attempts within the window, which starts at the first attempt (fixed window, in the
    shared cache: Redis with ``CACHE_URL``, else this process's memory). The key is hashed: the cache
    never holds an e-mail address."""
    from django.core.cache import cache

    cache_key = _rate_key(scope, key)
    cache.add(cache_key, 0, window_seconds)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the window ended between add() and incr()
        cache.set(cache_key, 1, window_seconds)
        count = 1
    return count > limit


def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    """Receiver for ``axes.signals.user_locked_out``."""
    username = (username or "")[:150]
    logger.warning("Khóa đăng nhập: tài khoản %r từ địa chỉ %s sau nhiều lần nhập sai mật khẩu.", username, ip_address)
    AuditEvent.objects.create(
        actor=None,
        action="login.locked_out",
        object_type="login",
        object_id=username[:60],
        summary=f"Tạm khóa đăng nhập «{username}» từ {ip_address} sau nhiều lần nhập sai mật khẩu."[:500],
        data={
            "username": username,
            "ip_address": ip_address,
            "user_agent": (request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:255],
            "forwarded_for": (request.META.get("HTTP_X_FORWARDED_FOR", "") if request is not None else "")[:255],
        },
    )


# --- input: no invisible control characters in typed text -------------------------------------------

# C0 controls except tab, line feed and carriage return (which a textarea legitimately sends), and DEL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def reject_control_characters(value):
    """Validator: refuse text holding invisible control characters (they hide a spreadsheet formula
    behind the export's check, and no name, comment or document number legitimately holds them)."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise ValidationError(
            _("Nội dung có ký tự điều khiển không hiển thị (thường do sao chép từ tệp khác); hãy xóa và gõ lại."),
            code="control_characters",
        )


class NoControlCharactersMixin:
    """Put first in a form's bases: every text field (``CharField`` and its subclasses) refuses
    invisible control characters with a Vietnamese message."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and reject_control_characters not in field.validators:
                field.validators.append(reject_control_characters)


# --- input: ids and numbers -------------------------------------------------------------------------------

# What a database integer (a key, a year) can hold; a value outside it is no id of anything.
INTEGER_RANGE = range(-(2 ** 63), 2 ** 63)


def whole_numbers(values):
    """The values (a list, or one value) that are whole numbers a database integer can hold, as ints;
    anything else — text, «²», a number past 64 bits — is left out, as a filter that cannot match."""
    if values in (None, ""):
        return []
    result = []
    for value in values if isinstance(values, (list, tuple, set)) else [values]:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number in INTEGER_RANGE:
            result.append(number)
    return result


class BoundedModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses an id past 64 bits with its own «not a valid choice»
    message before querying: Django checks each id with ``exact`` (which knows the range) and then all
    of them with ``in`` (which does not: «Python int too large to convert to SQLite INTEGER», a 500)."""

    def clean(self, value):
        for pk in value if isinstance(value, (list, tuple)) else ():
            text = str(pk).strip()
            if text.lstrip("+-").isdecimal() and not whole_numbers(text):
                raise ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                      params={"pk": pk})
        return super().clean(value)


# --- output: private downloads ------------------------------------------------------------------------

def private_download(response):
    """Mark ``response`` (a file handed out after a permission check) as private: never stored by a
    cache, never content-sniffed. Returns the response."""
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
