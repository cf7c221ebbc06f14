"""manage.py seed_scale --de-an 50000 [--reset]: realistic volume for benchmarks (see projects/scale.py)."""
import time

from django.core.management.base import BaseCommand

from projects.scale import seed_scale, seeded_count


class Command(BaseCommand):
    help = "Tạo dữ liệu đề án quy mô lớn (mọi tỉnh, 2017–2026, mọi trạng thái) để đo hiệu năng."

    def add_arguments(self, parser):
        parser.add_argument("--de-an", type=int, default=50_000, dest="de_an", help="Số đề án mẫu cần có (mặc định 50000)")
        parser.add_argument("--reset", action="store_true", help="Xóa dữ liệu mẫu cũ trước khi tạo")
        parser.add_argument("--seed", type=int, default=2026, help="Hạt giống ngẫu nhiên")

    def handle(self, *args, de_an, reset, seed, **options):
        started = time.perf_counter()
        made = seed_scale(de_an, reset=reset, rng_seed=seed, stdout=self.stdout if options["verbosity"] > 1 else None)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(
            f"Đã tạo {made} đề án mẫu trong {elapsed:.1f} giây; hiện có {seeded_count()} đề án mẫu."))
