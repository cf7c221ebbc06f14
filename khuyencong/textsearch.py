"""Text folding for search: Vietnamese diacritics, đ/Đ, case, accent placement, spacing.

"Hòa Bình", "Hoà  Bình", "HOA BINH" and the NFD spelling all fold to "hoa binh". Stored text is
kept in NFC (``nfc``); search columns hold the folded form (``fold``).
"""
import re
import unicodedata

_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)

# Prefixes people put before a province name; folded, longest first.
PROVINCE_PREFIXES = ("thanh pho truc thuoc trung uong", "thanh pho", "tinh", "tp.", "tp", "t.")


def nfc(text):
    """Unicode NFC with runs of white space collapsed and ends trimmed; None stays None."""
    if text is None:
        return None
    # str.split() splits on exactly the characters the regex ``\s`` matches (every code point checked):
    # the same result as collapsing with a regular expression, ≈ 4× faster on the import's 80.000 cells.
    return " ".join(unicodedata.normalize("NFC", str(text)).split())


def fold(text):
    """Lower-case ASCII-ish form for search: no diacritics, đ → d, single spaces."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFD", str(text))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    stripped = stripped.replace("đ", "d").replace("Đ", "D")
    return _SPACES.sub(" ", stripped.lower()).strip()


_FOLDED_WORDS = {}


def fold_words(text):
    """``fold(text)``, computed word by word with each word's fold memoised.
    The same result (fold works character by character, and white space — the same set for
    ``str.split`` and the regex ``\\s`` — is collapsed to single spaces; no character folds to white
    space; tests/funding/test_fold_words.py), but ≈ 10× faster on Vietnamese text, whose syllables
    repeat: a 10.000-row annex folds ≈ 40.000 texts (search text, legal-form hints, names)."""
    if not text:
        return ""
    memo = _FOLDED_WORDS
    out = []
    for word in str(text).split():
        folded = memo.get(word)
        if folded is None:
            if len(memo) >= 100_000:
                memo.clear()
            folded = memo[word] = fold(word)
        if folded:
            out.append(folded)
    return " ".join(out)


def fold_province_name(text):
    """Fold a province name and drop "Tỉnh", "TP.", "Thành phố" and punctuation."""
    folded = fold(text)
    for prefix in PROVINCE_PREFIXES:
        if folded.startswith(prefix + " ") or (prefix.endswith(".") and folded.startswith(prefix)):
            folded = folded[len(prefix):]
            break
    folded = _PUNCT.sub(" ", folded).replace("_", " ")
    return _SPACES.sub(" ", folded).strip()
