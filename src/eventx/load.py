"""Loading articles from plain-text files, directories of them, and JSONL.

* ``*.txt`` (and any other non-JSONL file): one article, id = the file name's stem,
  text decoded as UTF-8 (a byte-order mark is dropped) and kept exactly as read.
* ``*.jsonl``: one article per line, ``{"id", "text", "title"?, "url"?, "language"?,
  "published_at"?}``.
* a directory: its ``*.txt`` and ``*.jsonl`` files, sorted by name.

A file or line that cannot be read yields an :class:`~eventx.errors.InputError`
naming the article instead of an :class:`~eventx.models.Article`, so one bad
article never stops the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from eventx.errors import InputError
from eventx.models import Article

ARTICLE_SUFFIXES = (".txt", ".jsonl")


def iter_articles(paths: Iterable[Path | str]) -> Iterator[Article | InputError]:
    """Yield every article under ``paths``, or an :class:`InputError` for a bad one."""
    for path in map(Path, paths):
        if path.is_dir():
            for child in sorted(path.iterdir()):
                if child.is_file() and child.suffix in ARTICLE_SUFFIXES:
                    yield from _read_file(child)
        elif path.is_file():
            yield from _read_file(path)
        else:
            yield InputError(f"no such file or directory: {path}", article_id=path.stem)


def load_article(path: Path | str) -> Article:
    """Read one plain-text article; raises :class:`InputError` if it cannot be read."""
    path = Path(path)
    text = _read_text(path)
    if not text.strip():
        raise InputError(f"{path} is empty", article_id=path.stem)
    return Article(id=path.stem, text=text, source=str(path))


def _read_file(path: Path) -> Iterator[Article | InputError]:
    try:
        if path.suffix == ".jsonl":
            yield from _read_jsonl(path)
        else:
            yield load_article(path)
    except InputError as error:
        yield error


def _read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (a byte-order mark is dropped), exactly as stored."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}", article_id=path.stem) from None
    except UnicodeDecodeError as error:
        message = f"{path} is not valid UTF-8 (byte {error.start}); convert it to UTF-8"
        raise InputError(message, article_id=path.stem) from None


def _read_jsonl(path: Path) -> Iterator[Article | InputError]:
    for number, line in enumerate(_read_text(path).splitlines(), start=1):
        if line.strip():
            yield _jsonl_article(path, number, line)


def _jsonl_article(path: Path, number: int, line: str) -> Article | InputError:
    where = f"{path}:{number}"
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        return InputError(f"{where}: not valid JSON ({error.msg})", article_id=where)
    if not isinstance(data, dict):
        return InputError(f"{where}: expected a JSON object", article_id=where)
    article_id = str(data.get("id") or where)
    try:
        article = Article.model_validate({**data, "id": article_id, "source": where})
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        return InputError(f"{where}: {problems}", article_id=article_id)
    if not article.text.strip():
        return InputError(f"{where}: empty text", article_id=article_id)
    return article
