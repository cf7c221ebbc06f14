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
