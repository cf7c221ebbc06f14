"""Closed lists shared by several apps. Stored values are stable English codes; labels are
Vietnamese and translated only at display."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CENTRE = "centre", _("Cán bộ Trung tâm khuyến công")
    PROVINCE = "province", _("Cán bộ Sở Công Thương")
    REVIEWER = "reviewer", _("Chuyên viên thẩm định (Cục)")
    ADMIN = "admin", _("Quản trị hệ thống")


# Roles that see every province.
NATIONWIDE_ROLES = frozenset({Role.REVIEWER, Role.ADMIN})


class Level(models.TextChoices):
    NATIONAL = "kcqg", _("Khuyến công quốc gia")
    LOCAL = "kcdp", _("Khuyến công địa phương")


class FundingSource(models.TextChoices):
    NATIONAL = "national", _("Kinh phí khuyến công quốc gia")
    LOCAL = "local", _("Kinh phí khuyến công địa phương")
    COUNTERPART = "counterpart", _("Vốn đối ứng")
    OTHER = "other", _("Nguồn hợp pháp khác")


class Era(models.TextChoices):
    """Which administrative map a province record belongs to."""

    FORMER = "former", _("Trước 01/07/2025 (63 tỉnh, thành phố)")
    CURRENT = "current", _("Từ 01/07/2025 (34 tỉnh, thành phố)")


class ProvinceKind(models.TextChoices):
    PROVINCE = "province", _("Tỉnh")
    CITY = "city", _("Thành phố")


class OrganisationKind(models.TextChoices):
    MINISTRY = "ministry", _("Bộ Công Thương")
    AGENCY = "agency", _("Cục (cơ quan quản lý khuyến công)")
    DEPARTMENT = "department", _("Sở Công Thương")
    CENTRE = "centre", _("Trung tâm khuyến công")
    REGIONAL_CENTRE = "regional_centre", _("Trung tâm khuyến công vùng")
    OTHER = "other", _("Đơn vị khác")
