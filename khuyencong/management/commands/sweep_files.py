from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from khuyencong.files import sweep_orphan_files


class Command(BaseCommand):
    # Help texts in Vietnamese as written (argparse wants plain strings), as the other commands do.
    help = "Xóa các tệp đã lưu mà không bản ghi nào trỏ tới (tệp mồ côi), cũ hơn số giờ cho trước."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Chỉ liệt kê, không xóa.")
        parser.add_argument("--hours", type=int, default=24, help="Chỉ xét tệp sửa lần cuối trước đó bấy nhiêu giờ (mặc định 24).")

    def handle(self, *args, dry_run=False, hours=24, **options):
        found = sweep_orphan_files(older_than=timedelta(hours=max(hours, 0)), dry_run=dry_run)
        for name in found:
            self.stdout.write(f"  {name}")
        if dry_run:
            self.stdout.write(_("%(n)d tệp mồ côi (chưa xóa: chạy thử).") % {"n": len(found)})
        else:
            self.stdout.write(_("Đã xóa %(n)d tệp mồ côi.") % {"n": len(found)})
