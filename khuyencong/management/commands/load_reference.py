from django.core.management.base import BaseCommand

from khuyencong.reference import load_reference


class Command(BaseCommand):
    help = "Nạp (hoặc cập nhật) dữ liệu danh mục: tỉnh, thành phố trước/sau 01/07/2025, cơ quan, chương trình, nội dung, mức hỗ trợ. Chạy lại an toàn."

    def handle(self, *args, **options):
        counts = load_reference()
        if options["verbosity"]:
            self.stdout.write(
                self.style.SUCCESS(
                    "Đã nạp danh mục: {provinces_current} tỉnh, thành phố hiện hành; {provinces_former} tỉnh, thành phố "
                    "trước sáp nhập; {organisations} cơ quan, đơn vị; {programmes} chương trình.".format(**counts)
                )
            )
