"""PDF and Word input: text read from real files, a hint when the extra is missing."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from fpdf import FPDF

from eventx import Article, InputError, iter_articles, load_article
from eventx.ingest.load import iter_stream

GERMAN = "Japan und die NATO vereinbaren eine Stärkung der Zusammenarbeit."
SECOND = "Der Außenminister sagte, Tokio liefere 30 Millionen Dollar an Hilfe."
UKRAINIAN = "Міністр оборони Японії зустрівся з генсеком НАТО у Брюсселі."
FONTS = [Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"), Path("/Library/Fonts/Arial.ttf")]
INSTALL = 'pip install "eventx[documents]"'


def _pdf(*pages: str, title: str | None = None, font: Path | None = None) -> bytes:
    """A real PDF with one text page per argument (core Helvetica, or an embedded TTF)."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if font:
        pdf.add_font("body", fname=str(font))
    for text in pages:
        pdf.add_page()
        pdf.set_font("body" if font else "helvetica", size=12)
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _docx(*paragraphs: str, title: str = "", table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_a_pdf_is_read_page_by_page(tmp_path: Path) -> None:
    path = tmp_path / "kyodo.pdf"
    path.write_bytes(_pdf(f"{GERMAN}\n{SECOND}", "Seite zwei.", title="Japan und die NATO"))
    article = load_article(path)
    assert article.text == f"{GERMAN}\n{SECOND}\n\nSeite zwei."
    assert (article.id, article.title) == ("kyodo", "Japan und die NATO")
    assert (article.source, article.encoding) == (str(path), "pdf")


def test_a_pdf_with_an_embedded_font_keeps_cyrillic(tmp_path: Path) -> None:
    font = next((font for font in FONTS if font.exists()), None)
    if font is None:
        pytest.skip("no TrueType font with Cyrillic letters on this machine")
    path = tmp_path / "ukrinform.pdf"
    path.write_bytes(_pdf(UKRAINIAN, font=font))
    assert load_article(path).text == UKRAINIAN


def test_a_docx_is_read_in_document_order(tmp_path: Path) -> None:
    path = tmp_path / "note.docx"
    table = [["Geber", "Empfänger"], ["Japan", "Україна"]]
    path.write_bytes(_docx(GERMAN, "", UKRAINIAN, title="Hilfe", table=table))
    article = load_article(path)
    assert article.text == f"{GERMAN}\n\n{UKRAINIAN}\nGeber\tEmpfänger\nJapan\tУкраїна"
    assert (article.title, article.encoding, article.source) == ("Hilfe", "docx", str(path))


def test_documents_are_found_in_directories_and_globs(tmp_path: Path) -> None:
    (tmp_path / "2025").mkdir()
    (tmp_path / "2025" / "a.pdf").write_bytes(_pdf(GERMAN))
    (tmp_path / "2025" / "b.DOCX").write_bytes(_docx(SECOND))
    (tmp_path / "2025" / "c.txt").write_text(UKRAINIAN, encoding="utf-8")
    walked = list(iter_articles([tmp_path]))
    assert [(a.id, a.text) for a in walked if isinstance(a, Article)] == [
        ("2025/a", GERMAN),
        ("2025/b", SECOND),
        ("2025/c", UKRAINIAN),
    ]
    globbed = list(iter_articles([str(tmp_path / "**" / "*.pdf")]))
    assert [(a.id, a.encoding) for a in globbed if isinstance(a, Article)] == [("2025/a", "pdf")]


def test_documents_are_recognised_by_their_bytes_whatever_their_name(tmp_path: Path) -> None:
    (tmp_path / "download").write_bytes(_pdf(GERMAN))
    (tmp_path / "attachment.bin").write_bytes(_docx(SECOND))
    assert load_article(tmp_path / "download").text == GERMAN
    assert load_article(tmp_path / "attachment.bin").text == SECOND
    [from_stdin] = list(iter_stream(io.BytesIO(_pdf(GERMAN))))
    assert isinstance(from_stdin, Article)
    assert (from_stdin.id, from_stdin.text) == ("stdin", GERMAN)


def test_damaged_empty_and_scanned_documents_are_named_errors(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.7\nnot really a PDF")
    (tmp_path / "b.pdf").write_bytes(_pdf(""))  # a page without text, like a scan
    (tmp_path / "c.docx").write_bytes(b"PK\x03\x04 not a zip")
    (tmp_path / "d.docx").write_bytes(_docx("", "  "))
    (tmp_path / "e.txt").write_text(GERMAN, encoding="utf-8")
    items = list(iter_articles([tmp_path]))
    problems = {item.article_id: str(item) for item in items if isinstance(item, InputError)}
    assert "a.pdf is not a readable PDF" in problems["a"]
    assert "b.pdf has no text layer (a scanned PDF needs OCR first)" in problems["b"]
    assert "c.docx is not a readable Word document" in problems["c"]
    assert "d.docx has no text" in problems["d"]
    assert [item.id for item in items if isinstance(item, Article)] == ["e"]


@pytest.mark.parametrize(
    ("module", "name", "package"),
    [("pypdfium2", "a.pdf", "pypdfium2"), ("docx", "b.docx", "python-docx")],
)
def test_without_the_extra_each_document_is_an_error_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, module: str, name: str, package: str
) -> None:
    (tmp_path / "a.pdf").write_bytes(_pdf(GERMAN))
    (tmp_path / "b.docx").write_bytes(_docx(SECOND))
    (tmp_path / "c.txt").write_text(UKRAINIAN, encoding="utf-8")
    monkeypatch.setitem(sys.modules, module, None)  # its import fails as if not installed
    items = list(iter_articles([tmp_path, tmp_path / name]))  # walked, then named directly
    errors = [item for item in items if isinstance(item, InputError)]
    assert len(errors) == 2
    for error in errors:
        assert error.article_id == Path(name).stem
        assert str(tmp_path / name) in str(error)
        assert f"needs the {package} package, which is not installed: {INSTALL}" in str(error)
    assert sum(isinstance(item, Article) for item in items) == 2  # the other two files


def test_without_the_extra_nothing_is_decoded_as_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "report.dat"
    path.write_bytes(_pdf(GERMAN))
    monkeypatch.setitem(sys.modules, "pypdfium2", None)
    with pytest.raises(InputError, match=r"report\.dat: reading PDF files needs"):
        load_article(path)


def test_other_binary_files_are_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "sheet.xlsx").write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + b"x" * 100)
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"y" * 100)
    items = list(iter_articles([tmp_path / "sheet.xlsx", tmp_path / "old.doc"]))
    messages = [str(item) for item in items]
    assert "contains NUL bytes: binary data (a ZIP archive such as .docx, .xlsx" in messages[0]
    assert "is binary data (legacy Microsoft Office (.doc, .xls, .ppt)), not text" in messages[1]
