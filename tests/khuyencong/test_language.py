"""The portal speaks Vietnamese whatever the browser's language; English only when chosen."""
import pytest
from django.conf import settings

from .factories import centre_user

pytestmark = pytest.mark.django_db

LOGIN = "/dang-nhap/"
ENGLISH_BROWSER = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def test_an_english_browser_gets_vietnamese_pages(client):
    response = client.get(LOGIN, **ENGLISH_BROWSER)
    html = response.content.decode()
    assert '<html lang="vi">' in html and "Tên đăng nhập" in html and "Username" not in html
    assert response["Content-Language"] == "vi"
    assert "Accept-Language" not in response.get("Vary", "")
    client.force_login(centre_user("24"))
    home = client.get("/", **ENGLISH_BROWSER).content.decode()
    assert "Việc đang chờ bạn" in home and "What is waiting for you" not in home


def test_english_when_chosen_and_back(client):
    client.post("/i18n/setlang/", {"language": "en", "next": LOGIN}, HTTP_ACCEPT_LANGUAGE="vi")
    response = client.get(LOGIN, HTTP_ACCEPT_LANGUAGE="vi")
    assert '<html lang="en">' in response.content.decode() and response["Content-Language"] == "en"
    assert "Cookie" in response["Vary"]
    client.post("/i18n/setlang/", {"language": "vi", "next": LOGIN})
    assert "Tên đăng nhập" in client.get(LOGIN, **ENGLISH_BROWSER).content.decode()


@pytest.mark.parametrize("cookie", ["fr", "xx-YY", "", "../../etc"])
def test_a_language_the_portal_does_not_offer_falls_back_to_vietnamese(client, cookie):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    response = client.get(LOGIN, **ENGLISH_BROWSER)
    assert response.status_code == 200 and '<html lang="vi">' in response.content.decode()


def test_a_regional_variant_of_english_is_english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en-GB"
    assert '<html lang="en">' in client.get(LOGIN).content.decode()
