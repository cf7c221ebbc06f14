"""The orphan-file sweep: stored files no row points at, older than a day, are removed; the rest stay."""
import os
import time
from datetime import timedelta

import pytest
from django.core.management import call_command

from khuyencong.files import referenced_names, stored_names, sweep_orphan_files

pytestmark = pytest.mark.django_db

DAY = 86400


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")  # the storage follows the setting (setting_changed)
    return tmp_path / "media"


def put(root, name, *, age_s):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.7 test")
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))
    return name


def test_sweep_removes_only_old_unreferenced_files(media):
    from reports.models import ReportJob

    kept_ref = put(media, "reports/2026/01/kept.pdf", age_s=10 * DAY)
    ReportJob.objects.create(kind="national", year=2025, request_key="national:2025", status="done", file=kept_ref)
    orphan = put(media, "reports/2026/01/orphan.pdf", age_s=2 * DAY)
    tmp_left = put(media, "reports/.tmp/job-7.pdf.part", age_s=3 * DAY)
    fresh = put(media, "inspections/2026/11/fresh.jpg", age_s=60)  # an upload whose row may be committing now

    assert set(stored_names()) == {kept_ref, orphan, tmp_left, fresh}
    assert kept_ref in referenced_names()

    assert sweep_orphan_files(dry_run=True) == sorted([orphan, tmp_left])
    assert all((media / n).exists() for n in (kept_ref, orphan, tmp_left, fresh))  # a dry run deletes nothing

    assert sweep_orphan_files() == sorted([orphan, tmp_left])
    assert (media / kept_ref).exists() and (media / fresh).exists()
    assert not (media / orphan).exists() and not (media / tmp_left).exists()
    assert sweep_orphan_files() == []  # nothing left to do

    # With a shorter age the fresh orphan goes too; the referenced file never does.
    assert sweep_orphan_files(older_than=timedelta(seconds=1)) == [fresh]
    assert (media / kept_ref).exists()


def test_sweep_with_nothing_stored_yet(media):
    assert not media.exists()
    assert sweep_orphan_files() == []


def test_sweep_command_lists_and_says_what_it_did(media, capsys):
    orphan = put(media, "imports/2026/10/old.xlsx", age_s=5 * DAY)
    call_command("sweep_files", "--dry-run")
    out = capsys.readouterr().out
    assert orphan in out and "1 tệp mồ côi (chưa xóa: chạy thử)." in out
    assert (media / orphan).exists()
    call_command("sweep_files")
    assert "Đã xóa 1 tệp mồ côi." in capsys.readouterr().out
    assert not (media / orphan).exists()


def test_sweep_task_is_scheduled_and_runs(media, settings):
    from khuyencong.tasks import sweep_files

    assert settings.CELERY_BEAT_SCHEDULE["files-sweep-orphans"]["task"] == sweep_files.name == "khuyencong.sweep_files"
    put(media, "de-an/2026/09/lost.pdf", age_s=2 * DAY)
    assert sweep_files() == 1
