"""The import pauses Python's cycle collector only while it runs: it is back on afterwards, also when
the file is refused or has problems, and left off when the caller had it off."""
import gc
import io

import pytest

from funding.importers import ImportRejected
from funding.services import import_file, import_preview
from tests.funding.conftest import allocation_book, xlsx_bytes

pytestmark = pytest.mark.django_db
GOOD = [("Thành phố Hà Nội", "01", 100, 50), ("Tỉnh Cao Bằng", "04", 30, 20)]


def test_collector_back_on_after_an_import_and_after_a_refusal():
    assert gc.isenabled()
    result = import_file(fileobj=io.BytesIO(xlsx_bytes(allocation_book(GOOD))), name="bang.xlsx")
    assert result.ok and result.batch is not None
    assert gc.isenabled()
    bad = import_preview(fileobj=io.BytesIO(xlsx_bytes(allocation_book([("Hà Tây", "", 10, 5)]))), name="b.xlsx", actor=None)
    assert not bad.ok
    assert gc.isenabled()
    with pytest.raises(ImportRejected):
        import_file(fileobj=io.BytesIO(b"STT,Tinh\n1,Ha Noi\n"), name="bang.csv")
    assert gc.isenabled()


def test_collector_left_off_when_the_caller_had_it_off():
    gc.disable()
    try:
        result = import_file(fileobj=io.BytesIO(xlsx_bytes(allocation_book(GOOD))), name="bang.xlsx", dry_run=True)
        assert result.ok
        assert not gc.isenabled()
    finally:
        gc.enable()
