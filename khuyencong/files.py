"""Stored files no row points at: found and removed by a periodic sweep.

Every file the portal keeps in the default storage belongs to a ``FileField`` of some model (đề án
attachments, inspection photos and documents, original import workbooks, report PDFs) or is a report
being written (``reports/.tmp``). A file can still lose its row: the upload is saved, then an *outer*
transaction rolls back; a worker is killed between writing a temporary PDF and publishing it. Nothing
points at such a file again, so ``sweep_orphan_files`` deletes every stored file that no ``FileField``
of any model names and that was last modified longer ago than ``older_than`` (default 24 h — far past
any transaction or render still in flight, so a file being saved right now is never touched).

Run daily by Celery beat (``khuyencong.sweep_files``) and by hand: ``manage.py sweep_files [--dry-run]``.
"""
import logging
import posixpath
from datetime import timedelta

from django.apps import apps
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)

DEFAULT_AGE = timedelta(hours=24)


def referenced_names():
    """Every storage name a ``FileField`` of any installed model holds."""
    names = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.FileField):
                names.update(
                    model._default_manager.exclude(**{field.name: ""}).exclude(**{f"{field.name}__isnull": True})
                    .values_list(field.name, flat=True).iterator()
                )
    return names


def stored_names(storage=None, path=""):
    """Every file under ``path`` in ``storage`` (default storage), as storage names."""
    storage = storage or default_storage
    try:
        dirs, files = storage.listdir(path)
    except FileNotFoundError:  # nothing stored yet
        return
    for name in files:
        yield posixpath.join(path, name) if path else name
    for folder in dirs:
        yield from stored_names(storage, posixpath.join(path, folder) if path else folder)


def sweep_orphan_files(*, older_than=DEFAULT_AGE, dry_run=False, now=None, storage=None):
    """Delete the stored files no row references, last modified before ``now - older_than``.

    Returns the names found (deleted unless ``dry_run``), sorted. The names are listed before the
    references are read, so a file whose row is written meanwhile is seen as referenced."""
    storage = storage or default_storage
    now = now or timezone.now()
    candidates = list(stored_names(storage))
    referenced = referenced_names()
    found = []
    for name in candidates:
        if name in referenced:
            continue
        try:
            modified = storage.get_modified_time(name)
        except (FileNotFoundError, NotImplementedError):
            continue
        if now - modified < older_than:
            continue
        found.append(name)
        if not dry_run:
            storage.delete(name)
            logger.info("orphan file removed: %s (last modified %s)", name, modified.isoformat())
    return sorted(found)
