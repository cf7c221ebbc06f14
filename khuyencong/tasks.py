"""Celery tasks of the shared app: thin wrappers."""
from celery import shared_task

from . import files


@shared_task(name="khuyencong.sweep_files", ignore_result=True)
def sweep_files():
    return len(files.sweep_orphan_files())


@shared_task(name="khuyencong.sweep_form_submissions", ignore_result=True)
def sweep_form_submissions():
    from . import submissions

    return submissions.sweep()


@shared_task(name="khuyencong.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions():
    """Expired sign-in sessions are deleted: each sign-in leaves a row that nothing removes once it
    has expired (``SESSION_IDLE_MINUTES`` idle), so over the years the table would only grow."""
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@shared_task(name="khuyencong.send_password_reset", ignore_result=True)
def send_password_reset(email, domain, use_https, address=""):
    from . import services

    return services.password_reset_send(email=email, domain=domain, use_https=use_https, address=address)


@shared_task(name="khuyencong.send_invitations", ignore_result=True)
def send_invitations(user_ids, actor_id, domain, use_https):
    from . import services

    return services.invitation_send(user_ids=user_ids, actor_id=actor_id, domain=domain, use_https=use_https)
