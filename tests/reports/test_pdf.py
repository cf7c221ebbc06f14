"""The locked-down PDF renderer: only bundled static assets are fetched; user text stays text."""
import http.server
import shutil
import subprocess
import threading

import pytest
from django.template import engines

from reports import pdf

pytestmark = pytest.mark.filterwarnings("ignore")


def pdftotext(data, tmp_path, layout=False):
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    args = ["pdftotext"] + (["-layout"] if layout else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def pdf_attachments(data, tmp_path):
    path = tmp_path / "att.pdf"
    path.write_bytes(data)
    out = subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True, check=True).stdout
    return out


@pytest.fixture
def trap_server():
    """A local HTTP server that redirects everything to file:///etc/passwd and counts requests."""
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", "file:///etc/passwd")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.org/x.png",
        "ftp://127.0.0.1/x",
        "data:text/plain;base64,aGVsbG8=",
        "kc-static:fonts/../../../etc/passwd",
        "kc-static:/fonts/../css/../../etc/passwd",
        "kc-static:js/htmx.min.js",
        "kc-static:fonts/missing.ttf",
        "kc-static:fonts/LICENSE-LiberationSerif.txt",
        "kc-static:",
        "/etc/passwd",
    ],
)
def test_fetcher_refuses(url):
    fetcher = pdf.make_fetcher()
    with pytest.raises(ValueError):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_serves_bundled_font():
    fetcher = pdf.make_fetcher()
    response = fetcher.fetch("kc-static:fonts/LiberationSerif-Regular.ttf")
    body = response.read()
    assert body[:4] == b"\x00\x01\x00\x00"  # TrueType
    assert response.content_type == "font/ttf"


def test_fetcher_never_follows_a_redirect(trap_server):
    base, hits = trap_server
    fetcher = pdf.make_fetcher()
    with pytest.raises(ValueError):
        fetcher.fetch(f"{base}/redirect")
    assert hits == []  # refused before any connection
    # Even through urllib's opener interface (what WeasyPrint's internals could call).
    with pytest.raises(ValueError):
        fetcher.open(f"{base}/redirect")
    assert hits == []


def test_rendering_html_that_names_forbidden_urls_fetches_nothing(trap_server, tmp_path):
    """If raw HTML ever reached the renderer, the fetcher still refuses everything but kc-static."""
    base, hits = trap_server
    html = f"""<html><head><link rel="stylesheet" href="{base}/x.css"><link rel="attachment" href="file:///etc/passwd"></head>
    <body><p>Xin chào</p><img src="file:///etc/passwd"><img src="http://169.254.169.254/latest/meta-data/">
    <a rel="attachment" href="file:///etc/hostname">x</a><img src="{base}/img.png"></body></html>"""
    fetcher = pdf.make_fetcher()
    result = pdf.html_to_pdf(html, fetcher=fetcher)
    assert result.pdf.startswith(b"%PDF")
    assert hits == []
    # WeasyPrint asked for the forbidden URLs and every one of them was refused.
    assert any(u.startswith("file:") for u in fetcher.requested)
    assert set(fetcher.requested) == set(fetcher.refused)
    assert "root:" not in pdftotext(result.pdf, tmp_path)
    assert "0 embedded files" in pdf_attachments(result.pdf, tmp_path)
    assert b"/EmbeddedFile" not in result.pdf


EVIL = [
    '<img src="file:///etc/passwd">',
    '<link rel="attachment" href="file:///etc/passwd">',
    '<img src="http://169.254.169.254/latest/meta-data/iam">',
]


def test_user_text_is_escaped_and_printed_as_text(tmp_path):
    template = engines["django"].from_string(
        '{% extends "reports/pdf/base_document.html" %}{% block body %}<p>{{ name }}</p>{% endblock %}'
    )
    doc = {"issuer_parent": "BỘ CÔNG THƯƠNG", "issuer": "Cục thử", "number_suffix": "BC-T", "place_date": "Hà Nội",
           "kind_label": "BÁO CÁO", "title": "Thử", "recipients": ["Lưu: VT"], "signer_title": "CỤC TRƯỞNG"}
    html = template.render({"doc": doc, "name": " ".join(EVIL)})
    fetcher = pdf.make_fetcher()
    result = pdf.html_to_pdf(html, fetcher=fetcher)
    text = pdftotext(result.pdf, tmp_path)
    for evil in EVIL:
        assert evil in text.replace("\n", " ")
    assert fetcher.refused == []
    assert all(url.startswith("kc-static:fonts/") for url in fetcher.requested)
    assert "0 embedded files" in pdf_attachments(result.pdf, tmp_path)
    assert "root:" not in text


def test_fonts_are_the_bundled_ones(tmp_path):
    html = engines["django"].from_string(
        '{% extends "reports/pdf/base_document.html" %}{% block body %}<p>Đề án <b>hỗ trợ</b> <i>ứng dụng</i></p>{% endblock %}'
    ).render({"doc": {"issuer": "Cục", "kind_label": "BÁO CÁO", "title": "Tiêu đề", "recipients": []}})
    result = pdf.html_to_pdf(html)
    path = tmp_path / "f.pdf"
    path.write_bytes(result.pdf)
    if not shutil.which("pdffonts"):
        pytest.skip("pdffonts missing")
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    names = [line.split()[0] for line in fonts.splitlines()[2:]]
    assert names and all("KC-Serif" in name for name in names), fonts


def test_html_parser_regex_cache_is_keyed_as_looked_up():
    """tinyhtml5 2.1 stores chars_until's regexes under the wrong key and rebuilt one for every
    attribute of a report; pdf._CharsUntilCache builds each once, under the key tinyhtml5 looks up,
    and the parsed document is the same."""
    from tinyhtml5 import inputstream
    from tinyhtml5.constants import ascii_letters

    cells = "".join(f'<td class="num" data-i="{i}">{i}</td>' for i in range(300))
    html = f"<html><body><table><tr>{cells}</tr></table></body></html>"
    result = pdf.html_to_pdf(html)
    cache = inputstream.characters_until_regex
    assert isinstance(cache, pdf._CharsUntilCache)
    assert (ascii_letters, True) in cache
    compiled = cache[(ascii_letters, True)]
    assert pdf.html_to_pdf(html).pages == result.pages == 1
    assert cache[(ascii_letters, True)] is compiled  # built once, found again
    assert compiled.match("class=").group() == "class"
    assert cache[(("<", "\u0000"), False)].match("abc<d").group() == "abc"
