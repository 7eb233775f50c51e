"""Loading articles from files, directories, glob patterns and stdin, streamed.

Inputs (see docs/inputs.md):

* a ``*.jsonl`` file: one article per line, ``{"id", "text", "title"?, "url"?,
  "language"?, "published_at"?}``, UTF-8, read line by line;
* a ``*.html`` / ``*.htm`` file: one article, the page's main text extracted with
  trafilatura, with its title, URL, language and publication date when the markup has them;
* a ``*.pdf`` or ``*.docx`` file (or one that starts like a PDF or Word file): one
  article, the document's text (:mod:`eventx.ingest.documents`);
* any other file: one plain-text article, kept exactly as read; its encoding is detected
  (:mod:`eventx.ingest.decode`) and recorded in :attr:`Article.encoding`; binary files
  are refused, never decoded;
* a directory: every ``*.txt``, ``*.jsonl``, ``*.html``, ``*.htm``, ``*.pdf`` and
  ``*.docx`` file below it, recursively, in name order; hidden entries and symlinked
  directories are skipped;
* a glob pattern (``data/**/*.html``), expanded by eventx itself;
* ``-``: stdin, read as JSONL when its first non-blank character is ``{``, else as
  one HTML (when it starts with ``<``), PDF, Word or plain-text article with id ``stdin``.

A file's article id is its path relative to the directory or the pattern's fixed
prefix, without the suffix (``2025/04/kyiv``); a file named directly has its stem.

Everything is read lazily: one file at a time, JSONL one line at a time.  A file
or line that cannot be read yields an :class:`~eventx.errors.InputError` naming
the article instead of an :class:`~eventx.models.Article`, and the rest go on. HTML,
PDF and DOCX need optional packages (``eventx[html]``, ``eventx[documents]``), imported
when the first such file is read; without them each such file is an ``InputError``
that says what to install.
"""

from __future__ import annotations

import codecs
import glob
import io
import itertools
import json
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol

from pydantic import ValidationError

from eventx.errors import InputError
from eventx.ingest.decode import DecodedText, UndecodableError, decode_text
from eventx.ingest.documents import (
    DocumentError,
    DocumentText,
    MissingExtraError,
    docx_text,
    is_docx,
    pdf_text,
    require,
)
from eventx.models import Article

TEXT_SUFFIXES = (".txt",)
JSONL_SUFFIXES = (".jsonl",)
HTML_SUFFIXES = (".html", ".htm")
PDF_SUFFIXES = (".pdf",)
DOCX_SUFFIXES = (".docx",)
ARTICLE_SUFFIXES = TEXT_SUFFIXES + JSONL_SUFFIXES + HTML_SUFFIXES + PDF_SUFFIXES + DOCX_SUFFIXES
"""Suffixes read from directories (case-insensitive); files named directly are read whatever
their suffix."""

STDIN = "-"
STDIN_ID = "stdin"

_GLOB_MAGIC = re.compile(r"[*?[]")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)
_CHARSET_WINDOW = 2048
_WHITESPACE = b" \t\r\n\f\v"


def iter_articles(paths: Iterable[Path | str]) -> Iterator[Article | InputError]:
    """Yield every article under ``paths``, or an :class:`InputError` for a bad one.

    Each path is a file, a directory (walked recursively), a glob pattern, or ``-`` for stdin.
    """
    for item in paths:
        yield from _iter_input(str(item))


def load_article(path: Path | str, *, article_id: str | None = None) -> Article:
    """Read one article file: plain text, HTML, PDF or Word (.docx).

    Raises :class:`InputError` if it cannot be read. The id defaults to the file's stem.
    """
    path = Path(path)
    article_id = article_id or path.stem
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}", article_id=article_id) from None
    reader = _reader(path.suffix.lower(), data)
    return reader(data, article_id=article_id, source=str(path))


class _Reader(Protocol):
    def __call__(self, data: bytes, *, article_id: str, source: str) -> Article: ...


def _reader(suffix: str, data: bytes) -> _Reader:
    """How to read a file: by its suffix, else by what its first bytes say it is."""
    if suffix in HTML_SUFFIXES:
        return article_from_html
    if suffix in PDF_SUFFIXES or data.startswith(b"%PDF-"):
        return article_from_pdf
    if suffix in DOCX_SUFFIXES or is_docx(data):
        return article_from_docx
    return article_from_text


def article_from_text(data: bytes, *, article_id: str, source: str) -> Article:
    """A plain-text article from raw bytes, its encoding detected and recorded."""
    decoded = _decode(data, article_id, source)
    if not decoded.text.strip():
        raise InputError(f"{source} is empty", article_id=article_id)
    return Article(id=article_id, text=decoded.text, source=source, encoding=decoded.encoding)


def article_from_html(data: bytes, *, article_id: str, source: str) -> Article:
    """An article from an HTML page: its main text (extracted with trafilatura) and metadata.

    The article's text is the extracted main text, so evidence offsets refer to it.
    """
    # imported here: it is slow to import and only HTML needs it
    what = {"kind": "HTML pages", "package": "trafilatura", "extra": "html"}
    trafilatura = _required(article_id, source, "trafilatura", **what)
    decoded = _decode(data, article_id, source, declared=_declared_charset(data))
    if not decoded.text.strip():
        raise InputError(f"{source} is empty", article_id=article_id)
    tree = trafilatura.load_html(decoded.text)
    if tree is None:
        raise InputError(f"{source} is not an HTML page", article_id=article_id)
    language = tree.get("lang") or None
    try:
        page = trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            include_comments=False,
            # only dates the markup states; a guess from the body would be an event's date
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as error:  # a parser failing on one odd page must not end the batch
        message = f"{source}: the page could not be parsed ({type(error).__name__}: {error})"
        raise InputError(message, article_id=article_id) from None
    text = getattr(page, "text", None)
    if not text or not text.strip():
        raise InputError(f"{source}: no main text found in the page", article_id=article_id)
    return Article(
        id=article_id,
        text=text,
        title=getattr(page, "title", None),
        url=getattr(page, "url", None),
        language=language,
        published_at=_page_date(getattr(page, "date", None)),
        source=source,
        encoding=decoded.encoding,
    )


def article_from_pdf(data: bytes, *, article_id: str, source: str) -> Article:
    """An article from a PDF file: the text of its pages (see :mod:`eventx.ingest.documents`)."""
    document = _document(pdf_text, data, article_id, source)
    return _document_article(document, article_id=article_id, source=source, encoding="pdf")


def article_from_docx(data: bytes, *, article_id: str, source: str) -> Article:
    """An article from a Word (.docx) file: its paragraphs and tables in document order."""
    document = _document(docx_text, data, article_id, source)
    return _document_article(document, article_id=article_id, source=source, encoding="docx")


def iter_stream(stream: IO[bytes], *, name: str = STDIN_ID) -> Iterator[Article | InputError]:
    """Articles from a byte stream such as stdin: JSONL (read line by line) when the first
    non-blank character is ``{``; otherwise the whole stream is one article with id
    ``name``: HTML when it starts with ``<``, PDF or Word when its bytes say so, plain
    text else."""
    head = b""
    for line in stream:
        head += line
        if line.strip(_WHITESPACE):
            break
    start = head.removeprefix(codecs.BOM_UTF8).lstrip(_WHITESPACE)[:1]
    if start == b"{":
        yield from _jsonl_lines(itertools.chain(io.BytesIO(head), stream), name)
        return
    data = head + stream.read()
    reader = article_from_html if start == b"<" else _reader("", data)
    yield _guarded(lambda: reader(data, article_id=name, source=name))


# -- inputs ----------------------------------------------------------------------------------


def _iter_input(argument: str) -> Iterator[Article | InputError]:
    path = Path(argument)
    if argument == STDIN:
        yield from iter_stream(sys.stdin.buffer)
    elif path.is_dir():
        yield from _walk(path, root=path)
    elif path.is_file():
        yield from _read_file(path, path.stem)
    elif _GLOB_MAGIC.search(argument):
        yield from _expand(argument)
    else:
        yield InputError(f"no such file or directory: {path}", article_id=path.stem)


def _walk(directory: Path, *, root: Path) -> Iterator[Article | InputError]:
    """Files under ``directory`` in name order; only one directory's names are held at once."""
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        message = f"cannot read directory {directory}: {error.strerror}"
        yield InputError(message, article_id=_relative_id(directory, root))
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.name.startswith("."):
            continue
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path, root=root)
        elif entry.is_file() and path.suffix.lower() in ARTICLE_SUFFIXES:
            yield from _read_file(path, _relative_id(path, root))


def _expand(pattern: str) -> Iterator[Article | InputError]:
    root = _pattern_root(pattern)
    matches = sorted(name for name in glob.iglob(pattern, recursive=True) if Path(name).is_file())
    if not matches:
        yield InputError(f"no file matches the pattern {pattern}", article_id=pattern)
    for name in matches:
        yield from _read_file(Path(name), _relative_id(Path(name), root))


def _pattern_root(pattern: str) -> Path:
    """The directory part of a glob pattern before its first wildcard."""
    fixed = itertools.takewhile(lambda part: not _GLOB_MAGIC.search(part), Path(pattern).parts)
    return Path(*fixed)


def _relative_id(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix() if path != root else path.stem


def _read_file(path: Path, article_id: str) -> Iterator[Article | InputError]:
    if path.suffix.lower() in JSONL_SUFFIXES:
        yield from _read_jsonl(path)
    else:
        yield _guarded(lambda: load_article(path, article_id=article_id))


def _guarded(read: Callable[[], Article]) -> Article | InputError:
    try:
        return read()
    except InputError as error:
        return error


# -- JSONL -----------------------------------------------------------------------------------


def _read_jsonl(path: Path) -> Iterator[Article | InputError]:
    try:
        with path.open("rb") as stream:
            yield from _jsonl_lines(stream, str(path))
    except OSError as error:
        yield InputError(f"cannot read {path}: {error.strerror}", article_id=path.stem)


def _jsonl_lines(lines: Iterable[bytes], name: str) -> Iterator[Article | InputError]:
    for number, raw in enumerate(lines, start=1):
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if raw.strip(_WHITESPACE):
            yield _jsonl_article(f"{name}:{number}", raw)


def _jsonl_article(where: str, raw: bytes) -> Article | InputError:
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        message = f"{where}: not valid UTF-8 (byte {error.start}); JSONL must be UTF-8"
        return InputError(message, article_id=where)
    except json.JSONDecodeError as error:
        return InputError(f"{where}: not valid JSON ({error.msg})", article_id=where)
    if not isinstance(data, dict):
        return InputError(f"{where}: expected a JSON object", article_id=where)
    article_id = str(data.get("id") or where)
    fields = {**data, "id": article_id, "source": where, "encoding": "utf-8"}
    try:
        article = Article.model_validate(fields)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return InputError(f"{where}: {problems}", article_id=article_id)
    if not article.text.strip():
        return InputError(f"{where}: empty text", article_id=article_id)
    return article


# -- decoding, optional packages, documents and HTML metadata -------------------------------


def _required(article_id: str, source: str, module: str, **what: str) -> Any:
    """Import the optional ``module``, or raise an :class:`InputError` saying what to install."""
    try:
        return require(module, **what)
    except MissingExtraError as error:
        raise InputError(f"{source}: {error}", article_id=article_id) from None


def _document(
    read: Callable[[bytes], DocumentText], data: bytes, article_id: str, source: str
) -> DocumentText:
    try:
        return read(data)
    except MissingExtraError as error:
        raise InputError(f"{source}: {error}", article_id=article_id) from None
    except DocumentError as error:
        raise InputError(f"{source} {error}", article_id=article_id) from None


def _document_article(
    document: DocumentText, *, article_id: str, source: str, encoding: str
) -> Article:
    return Article(
        id=article_id,
        text=document.text,
        title=document.title,
        source=source,
        encoding=encoding,
    )


def _decode(
    data: bytes, article_id: str, source: str, *, declared: str | None = None
) -> DecodedText:
    try:
        return decode_text(data, declared=declared)
    except UndecodableError as error:
        raise InputError(f"{source} {error}", article_id=article_id) from None


def _declared_charset(data: bytes) -> str | None:
    """The charset an HTML page declares in a ``<meta>`` tag near its start."""
    found = _CHARSET.search(data[:_CHARSET_WINDOW])
    return found.group(1).decode("ascii") if found else None


def _page_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
