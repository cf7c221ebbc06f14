from django.core.management.base import BaseCommand

from khuyencong.reference import load_reference


class Command(BaseCommand):
    help = (
        "Nạp dữ liệu danh mục: tỉnh, thành phố trước/sau 01/07/2025, cơ quan, chương trình, nội dung, mức hỗ trợ. "
        "Chạy lại an toàn: chỉ thêm dòng còn thiếu, giữ nguyên những gì quản trị viên đã sửa "
        "(cơ quan, chương trình và chỉ tiêu, nội dung hoạt động, mức hỗ trợ); --overwrite đưa các dòng đó về "
        "giá trị gốc. Danh mục tỉnh, thành phố (Nghị quyết 202/2025/QH15) luôn được đối chiếu và sửa lại."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--overwrite", action="store_true",
            help="Ghi đè cơ quan, chương trình, chỉ tiêu, nội dung hoạt động và mức hỗ trợ đã sửa bằng giá trị "
                 "gốc của danh mục.",
        )

    def handle(self, *args, **options):
        counts = load_reference(overwrite=options["overwrite"])
        if options["verbosity"]:
            self.stdout.write(
                self.style.SUCCESS(
                    "Đã nạp danh mục: {provinces_current} tỉnh, thành phố hiện hành; {provinces_former} tỉnh, thành phố "
                    "trước sáp nhập; {organisations} cơ quan, đơn vị; {programmes} chương trình.".format(**counts)
                )
            )
