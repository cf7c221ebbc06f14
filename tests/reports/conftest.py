import subprocess

import pytest


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def pdf_text(path_or_bytes, *, layout=False, first=None, last=None, tmp_dir=None):
    """pdftotext of a file or bytes (NFC text, as poppler gives it)."""
    import tempfile

    if isinstance(path_or_bytes, (bytes, bytearray)):
        handle = tempfile.NamedTemporaryFile(suffix=".pdf", delete=False, dir=tmp_dir)
        handle.write(path_or_bytes)
        handle.close()
        path = handle.name
    else:
        path = str(path_or_bytes)
    args = ["pdftotext"]
    if layout:
        args.append("-layout")
    if first:
        args += ["-f", str(first)]
    if last:
        args += ["-l", str(last)]
    return subprocess.run(args + [path, "-"], capture_output=True, text=True, check=True).stdout


@pytest.fixture
def users(db):
    from tests.khuyencong.factories import centre_user, province_user, reviewer

    return {
        "reviewer": reviewer(),
        "bac_ninh": province_user("24"),
        "bac_ninh_centre": centre_user("24"),
        "ha_noi": province_user("01"),
    }
