"""Login security: a lockout (django-axes) is logged and written to the audit trail."""
import logging

from .models import AuditEvent

logger = logging.getLogger("khuyencong.security")


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
