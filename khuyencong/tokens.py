"""One-time links mailed to account holders.

«Quên mật khẩu» uses Django's ``default_token_generator`` (``PASSWORD_RESET_TIMEOUT``). The invitation an
administrator sends a new account (``services.user_invite``) needs a longer life — days, not an hour —
and must not be usable as a reset link, nor a reset link as an invitation: its own salt and its own
lifetime (``ACCOUNT_INVITATION_DAYS``). Like Django's token it hashes the account's password and last
sign-in, so it stops working as soon as its holder sets a password or signs in.
"""
from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "khuyencong.tokens.InvitationTokenGenerator"

    @staticmethod
    def lifetime_seconds():
        return settings.ACCOUNT_INVITATION_DAYS * 24 * 60 * 60

    def check_token(self, user, token):
        # Django's check with the invitation's lifetime in place of PASSWORD_RESET_TIMEOUT.
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
                   for secret in [self.secret, *self.secret_fallbacks]):
            return False
        return (self._num_seconds(self._now()) - ts) <= self.lifetime_seconds()


invitation_token_generator = InvitationTokenGenerator()
