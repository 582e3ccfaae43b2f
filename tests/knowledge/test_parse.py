from __future__ import annotations

import io
import zipfile
import zlib

import docx
import msgspec
import pytest

from sluice.errors import ParseError
from sluice.knowledge.parse import DOCX_TYPE, ParseBudget, kind_of, parse


def make_pdf(streams: list[bytes], *, compress: bool = False) -> bytes:
    """A minimal PDF with one page per content stream, in Helvetica; offsets computed exactly."""
    n = len(streams)
    font = 3 + 2 * n
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n))
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n))
    for i, content in enumerate(streams):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R"
            b" /Resources << /Font << /F1 %d 0 R >> >> >>" % (4 + 2 * i, font)
        )
        body = zlib.compress(content, 9) if compress else content
        extra = b" /Filter /FlateDecode" if compress else b""
        objects.append(b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(body), extra, body))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def text_page(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (" + text.encode() + b") Tj ET"


def make_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Lighthouses", level=1)
    document.add_paragraph("The Varne Point light flashes white twice every ten seconds.")
    document.add_heading("Keepers", level=2)
    document.add_paragraph("Keepers lived at the station until 1991.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "height"
    table.rows[0].cells[1].text = "38 m"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_text_and_markdown_are_kept_as_written() -> None:
    md = "# Title\r\n\r\nSome *text*.\n## Part\nmore"
    assert parse(md.encode(), "notes.md") == "# Title\n\nSome *text*.\n## Part\nmore"
    assert parse("\ufeffplain é".encode(), "a.txt") == "plain é"
    assert parse("utf16 text".encode("utf-16"), "a.txt") == "utf16 text"
    assert parse(b"print(1)\n", "x.py", "text/x-python") == "print(1)\n"


def test_html_keeps_headings_as_lines_and_drops_scripts() -> None:
    page = (
        b"<html><head><title>Tides</title><style>p{}</style></head><body>"
        b"<h1>Tides</h1><script>alert(1)</script><p>Caused by the <b>Moon</b> &amp; Sun.</p>"
        b"<h2>Spring   tides</h2><ul><li>new moon</li><li>full moon</li></ul></body></html>"
    )
    assert parse(page, "page.html") == (
        "# Tides\n\nCaused by the Moon & Sun.\n\n## Spring tides\n\nnew moon\n\nfull moon"
    )
    assert parse(b"<p>body</p>", "x", "text/html; charset=utf-8") == "body"
    assert parse(b"<title>Only</title><p>x</p>", "a.htm") == "# Only\n\nx"


def test_json_and_jsonl_are_checked_and_kept() -> None:
    assert parse(b'{"a": [1, 2]}', "data.json") == '{"a": [1, 2]}'
    assert parse(b'{"a": 1}\n\n{"b": 2}\n', "data.jsonl") == '{"a": 1}\n\n{"b": 2}\n'
    with pytest.raises(ParseError, match="not valid JSON on line 2"):
        parse(b'{"a": 1}\n{"b": \n', "data.jsonl")
    with pytest.raises(ParseError, match="not valid JSON"):
        parse(b"{nope", "data.json")


def test_pdf_text_per_page() -> None:
    pdf = make_pdf([text_page("Hello from page one"), text_page("And page two")], compress=True)
    assert parse(pdf, "doc.pdf") == "Hello from page one\n\nAnd page two"
    assert parse(pdf, "upload.bin", "application/pdf") == "Hello from page one\n\nAnd page two"


def test_docx_headings_paragraphs_and_tables() -> None:
    assert parse(make_docx(), "doc.docx") == (
        "# Lighthouses\n\nThe Varne Point light flashes white twice every ten seconds.\n\n## Keepers"
        "\n\nKeepers lived at the station until 1991.\n\nheight | 38 m"
    )
    assert kind_of("noname", DOCX_TYPE) == "docx"


def test_a_zip_bomb_docx_fails_before_it_is_inflated() -> None:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(make_docx())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        with dst.open("word/media/bomb.bin", "w", force_zip64=True) as bomb:
            block = bytes(1 << 20)
            for _ in range(300):  # 300 MiB of zeros, about 300 KiB packed
                bomb.write(block)
    data = out.getvalue()
    assert len(data) < 2 << 20
    with pytest.raises(ParseError, match="unpacks to more than") as e:
        parse(data, "bomb.docx")
    assert e.value.code == "invalid_file"


def test_a_pdf_stream_bomb_fails_within_the_budget() -> None:
    bomb = make_pdf([b"BT /F1 12 Tf 72 720 Td " + b" " * (64 << 20) + b"(x) Tj ET"], compress=True)
    assert len(bomb) < 1 << 20
    with pytest.raises(ParseError, match="over the parse budget"):
        parse(bomb, "bomb.pdf", budget=ParseBudget(max_unpacked_bytes=8 << 20))


def test_too_many_pages_or_too_much_time_or_text_fail_with_a_reason() -> None:
    pdf = make_pdf([text_page(f"page {i}") for i in range(12)])
    with pytest.raises(ParseError, match="more than 10 pages"):
        parse(pdf, "long.pdf", budget=ParseBudget(max_pages=10))
    ticks = iter(range(0, 10_000, 10))
    with pytest.raises(ParseError, match="longer than 25s"):
        parse(pdf, "slow.pdf", budget=ParseBudget(deadline_s=25), clock=lambda: next(ticks))
    with pytest.raises(ParseError, match="over 100 characters"):
        parse(b"x" * 101, "a.txt", budget=ParseBudget(max_text_chars=100))
    with pytest.raises(ParseError, match="over 10 bytes"):
        parse(b"x" * 11, "a.txt", budget=ParseBudget(max_bytes=10))


@pytest.mark.parametrize(
    ("data", "name", "content_type", "code", "message"),
    [
        (b"\x89PNG\r\n", "image.png", "image/png", "unsupported_file", "image/png are not supported"),
        (b"MZ", "tool.exe", None, "unsupported_file", ".exe are not supported"),
        (b"\xff\xfe\x00", "a.bin", None, "unsupported_file", "not supported"),
        (b"caf\xe9", "a.txt", None, "invalid_file", "not UTF-8 text"),
        (b"a\x00b", "a.txt", None, "invalid_file", "binary"),
        (b"%PDF-1.4 garbage", "a.pdf", None, "invalid_file", "PDF cannot be read"),
        (b"PK\x03\x04 not a zip", "a.docx", None, "invalid_file", "not a valid zip"),
    ],
)
def test_failures_are_typed_with_a_reason(data, name, content_type, code, message) -> None:
    with pytest.raises(ParseError, match=message) as e:
        parse(data, name, content_type)
    assert e.value.code == code
    assert e.value.status == 400


def test_a_zip_that_is_not_a_docx_fails_cleanly() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ParseError, match="DOCX cannot be read"):
        parse(out.getvalue(), "a.docx")


def test_a_parse_error_renders_as_openai_error_json() -> None:
    from sluice.api.render import error_body

    with pytest.raises(ParseError) as e:
        parse(b"MZ", "tool.exe")
    assert e.value.status == 400
    assert msgspec.json.decode(error_body(e.value)) == {
        "error": {
            "message": "files of type .exe are not supported",
            "type": "invalid_request_error",
            "param": None,
            "code": "unsupported_file",
        }
    }
