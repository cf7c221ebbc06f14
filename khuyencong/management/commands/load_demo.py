from django.core.management.base import BaseCommand, CommandError

from khuyencong.demo import DEMO_ACCOUNTS, load_demo


class Command(BaseCommand):
    help = (
        "Tạo tài khoản mẫu cho từng vai trò (và dữ liệu mẫu của các phân hệ), in tên đăng nhập và mật khẩu. "
        "Chạy lại an toàn: không tạo trùng."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset-passwords", action="store_true",
            help="Đặt lại mật khẩu mẫu cho các tài khoản mẫu đã đổi mật khẩu.",
        )

    def handle(self, *args, **options):
        try:
            result = load_demo(reset_passwords=options["reset_passwords"])
        except RuntimeError as exc:
            raise CommandError(str(exc))
        self.stdout.write(self.style.SUCCESS("Tài khoản mẫu (tên đăng nhập / mật khẩu):"))
        for spec in DEMO_ACCOUNTS:
            user = result.accounts[spec.key]
            organisation = user.organisation.name if user.organisation else "—"
            password = spec.password
            if spec.key in result.password_kept:
                password = "(mật khẩu đã được đổi, giữ nguyên; dùng --reset-passwords để đặt lại)"
            status = " [mới tạo]" if spec.key in result.created else ""
            self.stdout.write(
                f"  {user.get_role_display():<34} {spec.username:<15} {password:<20} {organisation}{status}"
            )
        if result.apps:
            self.stdout.write("Dữ liệu mẫu của phân hệ: " + ", ".join(result.apps))
