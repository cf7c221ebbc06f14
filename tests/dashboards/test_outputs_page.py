"""The page recording one đề án's outputs and economic results: writes through the services, refusals
shown with their reason and nothing saved — the page comes back (400) with what was typed, each error
next to its field and a summary on top — another province's đề án is a 404."""
from html.parser import HTMLParser

import pytest

from dashboards.models import DeAnEconomicResult, DeAnIndicatorOutput
from khuyencong.models import AuditEvent, Programme, Province
from tests.funding.factories import make_de_an

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(db):
    from types import SimpleNamespace

    from tests.khuyencong.factories import centre_user, province_user

    programme = Programme.objects.get(code="qd-1881-2021-2025")
    own = Province.objects.get(code="24", era="current")
    other = Province.objects.get(code="19", era="current")
    return SimpleNamespace(
        programme=programme, own=own, other=other, centre=centre_user("24"), so=province_user("24"),
        running=make_de_an(province=own, year=2024, status="in_implementation", programme=programme),
        draft=make_de_an(province=own, year=2025, status="draft", programme=programme),
        accepted=make_de_an(province=own, year=2023, status="accepted", programme=programme),
        foreign=make_de_an(province=other, year=2024, status="in_implementation", programme=programme),
    )


def test_record_achieved_and_economic_results(client, setup):
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.running.pk}"
    page = client.get(url).content.decode()
    assert "Nhãn hiệu" in page or "nhãn hiệu" in page
    assert "Hiệu quả kinh tế được ghi khi nghiệm thu" in page  # economic results not yet
    response = client.post(url, {"achieved-nhan-hieu": "12"}, follow=True)
    assert "Đã ghi 1 thay đổi" in response.content.decode()
    assert DeAnIndicatorOutput.objects.get(de_an=setup.running, indicator__code="nhan-hieu").achieved == 12
    url = f"/tong-quan/ket-qua/?de_an={setup.accepted.pk}"
    client.post(url, {"output_value": "1.500.000.000", "revenue": "2,25 tỷ đồng", "jobs_created": "35",
                      "counterpart_mobilised": "400.000.000"})
    result = DeAnEconomicResult.objects.get(de_an=setup.accepted)
    assert (result.output_value, result.revenue, result.jobs_created, result.counterpart_mobilised) == (
        1_500_000_000, 2_250_000_000, 35, 400_000_000)


def test_refusals_show_the_reason_and_save_nothing(client, setup):
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.draft.pk}"
    response = client.post(url, {"achieved-nhan-hieu": "3"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "chưa triển khai thực hiện" in text
    assert not DeAnIndicatorOutput.objects.exists()
    # Two changes in one form: the second is refused, the first is rolled back too.
    url = f"/tong-quan/ket-qua/?de_an={setup.running.pk}"
    response = client.post(url, {"achieved-nhan-hieu": "3", "achieved-mo-hinh-trinh-dien": "abc"})
    assert response.status_code == 400 and "không phải là số nguyên" in response.content.decode()
    assert not DeAnIndicatorOutput.objects.exists()
    response = client.post(f"/tong-quan/ket-qua/?de_an={setup.accepted.pk}", {"revenue": "-5"})
    assert response.status_code == 400 and "Doanh thu" in response.content.decode()
    assert not DeAnEconomicResult.objects.exists()


def test_other_province_is_not_found(client, setup):
    client.force_login(setup.centre)
    assert client.get(f"/tong-quan/ket-qua/?de_an={setup.foreign.pk}").status_code == 404
    assert client.post(f"/tong-quan/ket-qua/?de_an={setup.foreign.pk}", {"achieved-nhan-hieu": "9"}).status_code == 404
    assert client.get("/tong-quan/ket-qua/?de_an=abc").status_code == 404
    assert not DeAnIndicatorOutput.objects.exists()


# --- a refused save shows the page again with what was typed ----------------------------------------

class _Page(HTMLParser):
    """The inputs (by id), the ids of every element and the summary's links of a rendered page."""

    def __init__(self, html):
        super().__init__()
        self.inputs, self.ids, self.links = {}, set(), []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "input" and attrs.get("id"):
            self.inputs[attrs["id"]] = attrs
        if tag == "a" and (attrs.get("href") or "").startswith("#id_"):
            self.links.append(attrs["href"][1:])


def _assert_marked(page, input_id, message, body):
    """The input says it is wrong, points at its error text, and the summary links to it."""
    attrs = page.inputs[input_id]
    assert attrs.get("aria-invalid") == "true", attrs
    assert f"{input_id}_error" in attrs.get("aria-describedby", "").split(), attrs
    assert f"{input_id}_error" in page.ids
    error = body.split(f'id="{input_id}_error"', 1)[1].split("</div></div>", 1)[0]
    assert message in error, error
    assert input_id in page.links


def test_wrong_counts_show_the_page_again_with_what_was_typed(client, setup):
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.running.pk}"
    response = client.post(url, {"achieved-nhan-hieu": "12", "achieved-mo-hinh-trinh-dien": "abc",
                                 "achieved-day-chuyen-cong-nghe": "-3", "achieved-danh-gia-sxsh": "1.5"})
    assert response.status_code == 400
    body = response.content.decode()
    page = _Page(body)
    assert page.inputs["id_achieved-nhan-hieu"]["value"] == "12"  # the right value is kept too
    assert page.inputs["id_achieved-mo-hinh-trinh-dien"]["value"] == "abc"
    assert page.inputs["id_achieved-day-chuyen-cong-nghe"]["value"] == "-3"
    assert "aria-invalid" not in page.inputs["id_achieved-nhan-hieu"]
    _assert_marked(page, "id_achieved-mo-hinh-trinh-dien", "«abc» không phải là số nguyên", body)
    _assert_marked(page, "id_achieved-day-chuyen-cong-nghe", "Số lượng không được âm", body)
    _assert_marked(page, "id_achieved-danh-gia-sxsh", "«1.5» không phải là số nguyên", body)
    assert "Chưa lưu thay đổi nào" in body and 'role="alert"' in body
    assert "Đã đạt «Mô hình trình diễn kỹ thuật»" in body  # the summary names the field
    assert not DeAnIndicatorOutput.objects.exists()
    assert not AuditEvent.objects.filter(object_type="projects.DeAn").exists()


def test_count_over_the_limit_is_refused_next_to_its_field(client, setup):
    """The limit is the service's: its refusal comes back onto the field that caused it."""
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.running.pk}"
    response = client.post(url, {"achieved-nhan-hieu": "20.000.000", "achieved-mo-hinh-trinh-dien": "4"})
    assert response.status_code == 400
    body = response.content.decode()
    page = _Page(body)
    _assert_marked(page, "id_achieved-nhan-hieu", "quá lớn (tối đa 10.000.000)", body)
    assert page.inputs["id_achieved-nhan-hieu"]["value"] == "20.000.000"
    assert page.inputs["id_achieved-mo-hinh-trinh-dien"]["value"] == "4"
    assert not DeAnIndicatorOutput.objects.exists()


def test_counts_are_shown_and_read_grouped_by_thousands(client, setup):
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.running.pk}"
    assert client.post(url, {"achieved-dao-tao-lao-dong": "1.500"}).status_code == 302
    assert DeAnIndicatorOutput.objects.get(de_an=setup.running, indicator__code="dao-tao-lao-dong").achieved == 1500
    page = _Page(client.get(url).content.decode())
    attrs = page.inputs["id_achieved-dao-tao-lao-dong"]
    assert (attrs["value"], attrs["type"], attrs["inputmode"]) == ("1.500", "text", "numeric")


def test_money_is_shown_grouped_and_read_back_as_shown(client, setup):
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.accepted.pk}"
    assert client.post(url, {"output_value": "1500000000", "revenue": "2,25 tỷ", "jobs_created": "35",
                             "counterpart_mobilised": "400.000.000"}).status_code == 302
    page = _Page(client.get(url).content.decode())
    money = {name: page.inputs[f"id_{name}"] for name in ("output_value", "revenue", "counterpart_mobilised")}
    assert {name: a["value"] for name, a in money.items()} == {
        "output_value": "1.500.000.000", "revenue": "2.250.000.000", "counterpart_mobilised": "400.000.000"}
    assert all("money" in a["class"].split() and a["inputmode"] == "numeric" for a in money.values())
    # Sending the page back as shown changes nothing (and logs nothing).
    events = AuditEvent.objects.count()
    shown = {a["name"]: a.get("value", "") for i, a in page.inputs.items() if i.startswith("id_") and "name" in a}
    assert shown["revenue"] == "2.250.000.000" and shown["achieved-nhan-hieu"] == ""
    response = client.post(url, shown, follow=True)
    assert "Không có gì thay đổi." in response.content.decode()
    assert AuditEvent.objects.count() == events
    client.post(url, {**shown, "revenue": "3.000.000.000"})
    assert DeAnEconomicResult.objects.get(de_an=setup.accepted).revenue == 3_000_000_000


def test_wrong_money_shows_every_error_at_once_and_keeps_the_input(client, setup):
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.accepted.pk}"
    response = client.post(url, {"output_value": "100.000.000.000.000.000", "revenue": "-5", "jobs_created": "35",
                                 "counterpart_mobilised": "1,500,000", "achieved-nhan-hieu": "7"})
    assert response.status_code == 400
    body = response.content.decode()
    page = _Page(body)
    _assert_marked(page, "id_output_value", "lớn bất thường", body)
    _assert_marked(page, "id_revenue", "là số âm", body)
    _assert_marked(page, "id_counterpart_mobilised", "kiểu tiếng Anh", body)
    assert [page.inputs[f"id_{n}"]["value"] for n in ("output_value", "revenue", "jobs_created",
                                                       "counterpart_mobilised", "achieved-nhan-hieu")] == [
        "100.000.000.000.000.000", "-5", "35", "1,500,000", "7"]
    assert "Doanh thu (đồng/năm):" in body  # the summary names the field
    assert not DeAnEconomicResult.objects.exists() and not DeAnIndicatorOutput.objects.exists()


def test_a_refusal_while_writing_rolls_back_what_was_written(client, setup, monkeypatch):
    """The outputs are written first; the economic results are then refused: nothing stays."""
    from dashboards import services

    def refuse(**kwargs):
        raise services.OutputRefused("Từ chối thử nghiệm.")

    monkeypatch.setattr(services, "economic_result_record", refuse)
    client.force_login(setup.so)
    url = f"/tong-quan/ket-qua/?de_an={setup.accepted.pk}"
    response = client.post(url, {"achieved-nhan-hieu": "7", "achieved-mo-hinh-trinh-dien": "2",
                                 "revenue": "2.000.000.000"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Từ chối thử nghiệm." in body
    page = _Page(body)
    assert page.inputs["id_achieved-nhan-hieu"]["value"] == "7" and page.inputs["id_revenue"]["value"] == "2.000.000.000"
    assert not DeAnIndicatorOutput.objects.exists() and not DeAnEconomicResult.objects.exists()
    assert not AuditEvent.objects.filter(object_type="projects.DeAn").exists()


@pytest.mark.parametrize("which, data, reason", [
    ("draft", {"achieved-nhan-hieu": "3"}, "chưa triển khai thực hiện"),
    ("running", {"planned-nhan-hieu": "3"}, "sản phẩm kế hoạch chỉ ghi được khi đang soạn"),
    ("running", {"revenue": "1.000.000"}, "Hiệu quả kinh tế được ghi khi nghiệm thu"),
])
def test_values_for_what_the_user_may_not_change_are_refused(client, setup, which, data, reason):
    """A page opened before the đề án moved on: the reason on top, nothing saved."""
    client.force_login(setup.so)
    response = client.post(f"/tong-quan/ket-qua/?de_an={getattr(setup, which).pk}", data)
    assert response.status_code == 400
    alert = response.content.decode().split('id="form-errors"', 1)[1].split("</div>", 1)[0]
    assert reason in alert
    assert not DeAnIndicatorOutput.objects.exists() and not DeAnEconomicResult.objects.exists()


def test_outputs_save_names_every_wrong_field(setup):
    from dashboards import services
    from khuyencong.models import Indicator

    big, ok = (Indicator.objects.get(programme=setup.programme, code=c) for c in ("nhan-hieu", "mo-hinh-trinh-dien"))
    with pytest.raises(services.OutputRefused) as caught:
        services.outputs_save(actor=setup.so, de_an=setup.running, planned={ok: 2}, achieved={big: 10**8, ok: 1})
    errors = caught.value.errors
    assert set(errors) == {None, "achieved-nhan-hieu"}
    assert "sản phẩm kế hoạch chỉ ghi được" in errors[None][0] and "quá lớn" in errors["achieved-nhan-hieu"][0]
    assert not DeAnIndicatorOutput.objects.exists()
    with pytest.raises(services.OutputRefused) as caught:  # economic results before acceptance
        services.outputs_save(actor=setup.so, de_an=setup.running, economic={"revenue": 5})
    assert "Hiệu quả kinh tế được ghi khi nghiệm thu" in caught.value.errors[None][0]
    foreign = Indicator.objects.filter(programme__code="qd-2646-2026-2030").first() or Indicator.objects.create(
        programme=Programme.objects.get(code="qd-2646-2026-2030"), code="khac", name="Chỉ tiêu khác", unit="cái")
    with pytest.raises(services.OutputRefused) as caught:  # an indicator of another programme
        services.outputs_save(actor=setup.so, de_an=setup.running, achieved={foreign: 1})
    assert "không thuộc chương trình của đề án" in caught.value.errors[f"achieved-{foreign.code}"][0]
    assert not DeAnIndicatorOutput.objects.exists() and not DeAnEconomicResult.objects.exists()
    assert services.outputs_save(actor=setup.so, de_an=setup.running, achieved={ok: 1}) == 1
    assert services.outputs_save(actor=setup.so, de_an=setup.running, achieved={ok: 1}) == 0  # unchanged


@pytest.mark.parametrize("text, value", [("1500", 1500), ("1.500", 1500), (" 12 ", 12), ("1 500", 1500), ("", None)])
def test_count_field_reads_vietnamese_numbers(text, value):
    from dashboards.forms import CountField

    assert CountField(required=False).clean(text) == value


@pytest.mark.parametrize("text, message", [("1.5", "không phải là số nguyên"), ("1,5", "không phải là số nguyên"),
                                           ("-3", "không được âm"), ("ba", "không phải là số nguyên"),
                                           ("1.50", "không phải là số nguyên")])
def test_count_field_refuses_what_is_not_a_whole_number(text, message):
    from django.core.exceptions import ValidationError

    from dashboards.forms import CountField

    with pytest.raises(ValidationError) as caught:
        CountField(required=False).clean(text)
    assert message in caught.value.messages[0]
