"""Text from PDF and Word (.docx) files, with the optional packages that read them.

* PDF: `pypdfium2 <https://pypi.org/project/pypdfium2/>`_, bindings to PDFium, the PDF
  engine of Chromium. It reads the text layer of a page in reading order, copes with
  damaged files as a browser does, is a self-contained binary wheel with no
  dependencies, and is the fastest of the well-kept readers (a 30-page PDF: 0.7 ms a
  page; pypdf 3.7 ms, pdfminer.six 35 ms, both pure Python). Pages are joined with a
  blank line; line ends become ``\n``.
* DOCX: `python-docx <https://pypi.org/project/python-docx/>`_, the common library for
  Word files (it also writes them, which the tests use). The body is read in document
  order: one line per paragraph (an empty paragraph gives a blank line), one line per
  table row with its cells separated by tabs. Headers, footers and comments are left
  out, as page junk is.

Both are in the extra ``eventx[documents]`` and are imported only when such a file is
read; without them, :class:`MissingExtraError` says what to install. A scanned PDF has
no text layer: it is refused, as OCR is not eventx's job.
"""

from __future__ import annotations

import importlib
import io
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

PAGE_SEPARATOR = "\n\n"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # all but tab and line feed


class MissingExtraError(ImportError):
    """A package that reads this kind of input is not installed."""

    def __init__(self, kind: str, package: str, extra: str) -> None:
        super().__init__(
            f"reading {kind} needs the {package} package, which is not installed: "
            f'pip install "eventx[{extra}]"'
        )


class DocumentError(ValueError):
    """The file is damaged, encrypted, or has no text."""


@dataclass(frozen=True)
class DocumentText:
    """The text of a document and what its metadata says about it."""

    text: str
    title: str | None = None


def require(module: str, *, kind: str, package: str, extra: str) -> ModuleType:
    """Import ``module``, or raise :class:`MissingExtraError` naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise MissingExtraError(kind, package, extra) from error


def is_docx(data: bytes) -> bool:
    """True when ``data`` is a ZIP archive holding a Word document body."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    import zipfile  # imported here: it costs 10 ms and only ZIP files need it

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def pdf_text(data: bytes) -> DocumentText:
    """The text layer of a PDF, page by page; raises :class:`DocumentError`."""
    pdfium = require("pypdfium2", kind="PDF files", package="pypdfium2", extra="documents")
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        raise DocumentError(f"is not a readable PDF ({error})") from None
    try:
        pages = [_page_text(document, index) for index in range(len(document))]
        title = _metadata(document).get("Title") or None
    finally:
        document.close()
    text = PAGE_SEPARATOR.join(page for page in pages if page.strip())
    if not text.strip():
        raise DocumentError("has no text layer (a scanned PDF needs OCR first)")
    return DocumentText(text, title=title)


def _page_text(document: Any, index: int) -> str:
    page = document[index]
    try:
        text_page = page.get_textpage()
        try:
            text = str(text_page.get_text_range())
        finally:
            text_page.close()
    finally:
        page.close()
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _metadata(document: Any) -> dict[str, str]:
    try:
        return dict(document.get_metadata_dict())
    except Exception:  # metadata is optional: a damaged info dictionary must not lose the text
        return {}


def docx_text(data: bytes) -> DocumentText:
    """The body of a Word document in document order; raises :class:`DocumentError`."""
    docx = require("docx", kind="Word files", package="python-docx", extra="documents")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises several types for damaged files
        raise DocumentError(f"is not a readable Word document ({type(error).__name__})") from None
    lines = [_block_text(block) for block in document.iter_inner_content()]
    text = "\n".join(lines).strip("\n")
    if not text.strip():
        raise DocumentError("has no text")
    # the properties' language is not taken: Word often fills in its own, not the text's
    return DocumentText(text, title=document.core_properties.title or None)


def _block_text(block: Any) -> str:
    """A paragraph's text, or a table's rows, one line each, cells separated by tabs."""
    if hasattr(block, "rows"):
        return "\n".join(_row_text(row) for row in block.rows)
    return str(block.text)


def _row_text(row: Any) -> str:
    cells: list[Any] = []
    for cell in row.cells:  # a merged cell is listed once per grid column it spans
        if not cells or cell._tc is not cells[-1]._tc:
            cells.append(cell)
    return "\t".join(" ".join(cell.text.split("\n")) for cell in cells)
