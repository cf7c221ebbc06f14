"""Factories for core tests (users attached to reference organisations loaded by conftest)."""
import factory

from khuyencong.choices import Role
from khuyencong.models import Organisation, User

PASSWORD = "Mat-khau-thu-2026"


def organisation(code):
    return Organisation.objects.get(code=code)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"canbo{n}")
    first_name = "Nguyễn Văn"
    last_name = factory.Sequence(lambda n: f"Cán bộ {n}")
    role = Role.CENTRE
    organisation = factory.LazyFunction(lambda: organisation("ttkc-24"))
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


def centre_user(province_code="24", **kwargs):
    return UserFactory(role=Role.CENTRE, organisation=organisation(f"ttkc-{province_code}"), **kwargs)


def province_user(province_code="24", **kwargs):
    return UserFactory(role=Role.PROVINCE, organisation=organisation(f"so-ct-{province_code}"), **kwargs)


def reviewer(**kwargs):
    return UserFactory(role=Role.REVIEWER, organisation=organisation("cuc-khuyen-cong"), **kwargs)


def admin_user(**kwargs):
    return UserFactory(role=Role.ADMIN, organisation=organisation("cuc-khuyen-cong"), is_staff=True, **kwargs)
