"""khuyencong.textsearch.fold_words (used by the bulk annex import) gives exactly khuyencong.textsearch.fold."""
import random
import sys
import unicodedata

from khuyencong.textsearch import fold, fold_words


def test_same_as_fold_on_tricky_text():
    samples = [
        None, "", "   ", "Hòa Bình", "Hoà  Bình", "HOA BINH", unicodedata.normalize("NFD", "Thành phố Hồ Chí Minh"),
        "Công ty\tTNHH\nBình\u00a0An\u2003số 1", "a \u0301 b", "\u0301", "İstanbul", "ĐẮK LẮK", "Đ đ", " x ",
        "Hỗ trợ ứng dụng máy móc thiết bị tiên tiến", "Trung tâm Khuyến công (TP. Cần Thơ) – 2024",
    ]
    for text in samples:
        assert fold_words(text) == fold(text), text
        assert fold_words(text) == fold(text), text  # memoised words give the same again


def test_same_as_fold_on_random_text():
    rnd = random.Random(4)
    alphabet = list("aăâbcdđeêghiklmnoôơpqrstuưvxy AĂÂĐÊÔƠƯ\t\n\r\u00a0\u2003\u0301\u0300\u0309\u0303\u0323İẞ.,-()")
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 25)))
        if rnd.random() < 0.5:
            text = unicodedata.normalize(rnd.choice(["NFC", "NFD"]), text)
        assert fold_words(text) == fold(text), repr(text)


def test_no_character_folds_to_white_space_and_split_matches_the_regex():
    import re

    space = re.compile(r"\s")
    for code in range(0, sys.maxunicode + 1, 1):
        ch = chr(code)
        assert bool(space.match(ch)) == ch.isspace()
        if not ch.isspace():
            assert not any(c.isspace() for c in unicodedata.normalize("NFD", ch).lower())


def test_join_fields_folds_each_field_and_keeps_them_apart():
    from khuyencong.textsearch import join_fields

    assert join_fields(["KCQG-2026-24-0001", "Mây  tre ĐAN", None, "", "   ", "Xã Đan Phượng"]) == (
        "kcqg-2026-24-0001 | may tre dan | xa dan phuong")
    assert join_fields(["Hòa Bình"]) == "hoa binh" and join_fields([]) == "" and join_fields([None, " "]) == ""


def test_join_fields_leaves_out_punctuation_at_word_edges_only():
    from khuyencong.textsearch import join_fields

    assert join_fields(["Hỗ trợ (giai đoạn 2) - mây tre, đan.", "Thôn Đồng Lạc, Xã Tân Yên, Bắc Ninh"]) == (
        "ho tro giai doan 2 may tre dan | thon dong lac xa tan yen bac ninh")
    # Inside a word it stays: codes, numbers, e-mail addresses, units.
    assert join_fields(["KCQG-2026-24-0001", "1.500 tấn/năm", "«a.b@so.gov.vn»"]) == (
        "kcqg-2026-24-0001 | 1.500 tan/nam | a.b@so.gov.vn")
    # A field of punctuation only leaves no empty field behind.
    assert join_fields(["-", "Mây", "(…)", "tre", "-"]) == "may | tre"

