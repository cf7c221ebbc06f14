"""One-time keys for create forms: a form sent twice makes its record once.

A create form carries a hidden ``submission_key`` (``{% submission_key %}``, a fresh UUID each time the
form is shown). The view, inside the transaction that creates the record, first *claims* the key
(a FormSubmission row, unique on the key), then creates, then says where the result is shown::

    with transaction.atomic():
        claim = submissions.claim(request)          # AlreadySubmitted if this key was used
        de_an = services.de_an_create(...)
        claim.done(reverse("projects:detail", args=[de_an.pk]))

and catches ``AlreadySubmitted`` around it to send the person to the first send's result with
``ALREADY_SUBMITTED_MESSAGE``. Two copies sent at the same moment: the second INSERT of the key waits
for the first transaction and then fails on the unique index, so exactly one record is made; a first
send that failed (its transaction rolled back) leaves no key, and sending again works.

A form without a key (a script, a form opened before this existed) is served as before. A key used
by another account is ignored for that account (it cannot redirect anyone anywhere): the form is
served as if it had no key.
"""
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import FormSubmission

FIELD = "submission_key"
ALREADY_SUBMITTED_MESSAGE = _("Biểu mẫu này đã được gửi trước đó; đây là kết quả của lần gửi ấy (không tạo thêm bản mới).")


class AlreadySubmitted(Exception):
    """The form's key was used already; ``url`` is where the first send's result is shown ("" if the
    first send is still running or made nothing to show)."""

    def __init__(self, url):
        super().__init__(url)
        self.url = url


class _Claim:
    def __init__(self, row=None):
        self.row = row

    def done(self, url):
        """Record where the result is shown (same transaction as the record it made)."""
        if self.row is not None:
            self.row.url = url[:300]
            self.row.save(update_fields=["url"])


def new_key():
    return uuid.uuid4().hex


def _key(request):
    try:
        return uuid.UUID(str(request.POST.get(FIELD, "")).strip())
    except ValueError:
        return None


def claim(request):
    """Claim the form's key for this send; call inside the transaction that makes the record.
    Raises AlreadySubmitted when the key was used by this account (also by a send still running)."""
    key = _key(request)
    if key is None or not request.user.is_authenticated:
        return _Claim()
    try:
        with transaction.atomic():
            row = FormSubmission.objects.create(key=key, user=request.user)
    except IntegrityError:
        first = FormSubmission.objects.filter(key=key).first()
        if first is None or first.user_id != request.user.pk:
            return _Claim()
        raise AlreadySubmitted(first.url) from None
    return _Claim(row)


def keep_days():
    return int(getattr(settings, "SUBMISSION_KEEP_DAYS", 2))


def sweep(now=None):
    """Forget keys older than SUBMISSION_KEEP_DAYS (a form is not sent again days later). Returns the count."""
    cutoff = (now or timezone.now()) - timedelta(days=keep_days())
    return FormSubmission.objects.filter(created_at__lt=cutoff).delete()[0]
