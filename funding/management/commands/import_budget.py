"""manage.py import_budget PATH [--dry-run] [--user USERNAME]

Imports an allocation table or a plan annex (.xlsx) exactly as the web upload does, printing the same
preview summary. With --dry-run nothing is written. Exit status 1 when the file is refused or has errors.
"""
import os

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from funding.importers import ImportRejected
from funding.services import ImportFailed, import_file


class Command(BaseCommand):
    help = "Nhập bảng phân bổ kinh phí hoặc phụ lục kế hoạch (.xlsx); --dry-run chỉ xem trước."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="Chỉ kiểm tra và in bản xem trước, không ghi gì.")
        parser.add_argument("--user", help="Tên đăng nhập của người thực hiện (mặc định: hệ thống).")

    def handle(self, *args, path, dry_run=False, user=None, **options):
        actor = None
        if user:
            from khuyencong.models import User

            actor = User.objects.filter(username=user).first()
            if actor is None:
                raise CommandError(_("Không có người dùng «%(u)s».") % {"u": user})
        if not os.path.isfile(path):
            raise CommandError(_("Không tìm thấy tệp «%(p)s».") % {"p": path})
        with open(path, "rb") as fileobj:
            try:
                preview = import_file(fileobj=fileobj, name=os.path.basename(path), actor=actor, dry_run=dry_run)
            except ImportRejected as exc:
                raise CommandError(_("Tệp bị từ chối: %(e)s") % {"e": exc}) from exc
            except ImportFailed as exc:
                for problem in exc.problems:
                    self.stderr.write(f"  - {problem.message}")
                raise CommandError(str(exc)) from exc
        for line in preview.summary_lines():
            self.stdout.write(line)
        if not preview.ok:
            raise CommandError(_("Chưa nhập: bảng tính có lỗi hoặc đã được nhập trước đây."))
        if dry_run:
            self.stdout.write(_("Chạy thử (--dry-run): chưa ghi gì vào cơ sở dữ liệu."))
        else:
            self.stdout.write(self.style.SUCCESS(_("Đã nhập: lô #%(id)s.") % {"id": preview.batch.pk}))
