"""The admin's user list searches as «Cán bộ, tài khoản» does: «nguyen van an» finds «Nguyễn Văn An»,
and the organisation and province count too; every word is needed."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.khuyencong.factories import admin_user, centre_user, province_user

pytestmark = pytest.mark.django_db

USERS = reverse("admin:khuyencong_user_changelist")


def _found(client, q):
    response = client.get(USERS, {"q": q})
    assert response.status_code == 200
    return {user.username for user in response.context["cl"].result_list}


def test_names_without_diacritics_organisation_and_province(client):
    client.force_login(admin_user(username="quantri", first_name="Phạm Quốc", last_name="Dũng"))
    centre_user("24", username="an.tt", first_name="Nguyễn Văn", last_name="An", email="an@bacninh.gov.vn")
    province_user("24", username="hoa.so", first_name="Trần Thị", last_name="Hoà", email="hoa@bacninh.gov.vn")
    centre_user("19", username="binh.tn", first_name="Lê Thị", last_name="Bình", email="binh@thainguyen.gov.vn")

    assert _found(client, "nguyen van an") == {"an.tt"}
    assert _found(client, "NGUYỄN VĂN AN") == {"an.tt"}
    assert _found(client, "tran thi hoa") == {"hoa.so"}  # «Hoà» typed as «hoa»
    assert _found(client, "Trần Thị Hòa") == {"hoa.so"}  # …or with the other accent placement
    assert _found(client, "nguyen an bac ninh") == {"an.tt"}
    assert _found(client, "so cong thuong bac ninh") == {"hoa.so"}
    assert _found(client, "thainguyen.gov.vn") == {"binh.tn"}
    assert _found(client, "le thi binh thai nguyen") == {"binh.tn"}
    assert _found(client, "thi") == {"hoa.so", "binh.tn"}
    assert _found(client, "khong co ai") == set()
    assert "không cần gõ dấu" in client.get(USERS).content.decode()


def test_the_search_s_queries_do_not_grow_with_the_accounts(client):
    client.force_login(admin_user())

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(USERS, {"q": "nguyen"}).status_code == 200
        return len(ctx.captured_queries)

    centre_user("24")
    few = queries()
    for _ in range(15):
        centre_user("19")
    assert queries() == few
