"""manage.py generate_report --kind national|province|record|plan --year N [--province CODE]
[--record ID] [--grouping current|historical] --output FILE.pdf

Runs the same context, template and renderer as the web's report jobs, synchronously.
"""
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from khuyencong.selectors import ProvinceNotFound, find_province
from reports import services
from reports.models import Grouping, ReportKind


class Command(BaseCommand):
    help = "Tạo báo cáo PDF ngay tại dòng lệnh (cùng dịch vụ với trang web)."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, choices=ReportKind.values)
        parser.add_argument("--year", required=True, type=int)
        parser.add_argument("--province", help="Mã hoặc tên tỉnh, thành phố (báo cáo tỉnh)")
        parser.add_argument("--record", type=int, help="Mã biên bản kiểm tra (loại record)")
        parser.add_argument("--grouping", default=Grouping.CURRENT, choices=Grouping.values)
        parser.add_argument("--output", required=True, help="Tệp PDF cần ghi")

    def handle(self, *args, **options):
        province = None
        if options["province"]:
            try:
                province = find_province(options["province"])
            except ProvinceNotFound as err:
                raise CommandError(str(err)) from err
        try:
            pages = services.report_generate_sync(
                kind=options["kind"], year=options["year"], province=province, grouping=options["grouping"],
                target_id=options["record"], output=options["output"],
            )
        except ValidationError as err:
            raise CommandError("; ".join(err.messages)) from err
        self.stdout.write(self.style.SUCCESS(f"Đã ghi {options['output']} ({pages} trang)."))
