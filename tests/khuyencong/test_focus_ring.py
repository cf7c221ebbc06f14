"""The keyboard focus ring stands out (WCAG 2.1 1.4.11, ≥ 3:1) on every background the portal uses: the
white cards, the grey page and the red header. A yellow ring alone was 1,6:1 on white."""
import re
from pathlib import Path

from django.conf import settings

CSS = Path(settings.BASE_DIR, "static", "css", "portal.css").read_text(encoding="utf-8")
BACKGROUNDS = {"card": "#ffffff", "page": "#f5f6f8", "header": "#a4161a", "header link": "#7a0f12"}


def _luminance(colour):
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a, b):
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def _focus_rule():
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", CSS):
        if "a:focus-visible" in selectors and "button:focus-visible" in selectors:
            return selectors, body
    raise AssertionError("no focus rule for links and buttons in portal.css")


def test_the_focus_ring_has_a_light_and_a_dark_part():
    selectors, body = _focus_rule()
    for element in ("a", "button", "input", "select", "textarea", "summary"):
        assert f"{element}:focus-visible" in selectors
    outline = re.search(r"outline:\s*(\d+)px solid (#[0-9a-fA-F]{6})", body)
    shadow = re.search(r"box-shadow:\s*0 0 0 (\d+)px (#[0-9a-fA-F]{6})", body)
    assert outline and shadow
    assert int(shadow.group(1)) - int(outline.group(1)) >= 2  # the dark ring shows outside the yellow one
    assert re.search(r"outline-offset:\s*0\b", body)  # no gap between them


def test_the_focus_ring_has_3_to_1_on_every_background():
    _, body = _focus_rule()
    rings = re.findall(r"#[0-9a-fA-F]{6}", body)
    for name, background in BACKGROUNDS.items():
        best = max(_contrast(ring, background) for ring in rings)
        assert best >= 3, f"focus ring on the {name} ({background}): {best:.2f}:1"


def test_nothing_turns_the_focus_ring_off():
    assert not re.search(r"outline:\s*(none|0)\b", CSS)
