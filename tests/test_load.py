"""Loading articles: text kept exactly as read, bad input named, nothing stops the rest."""

from __future__ import annotations

import json
from pathlib import Path

from eventx import Article, InputError, iter_articles, load_article


def test_text_is_kept_exactly_but_for_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes("\ufeffErste Zeile\r\n  zweite Zeile\t\r\n".encode())
    article = load_article(path)
    assert article.text == "Erste Zeile\r\n  zweite Zeile\t\r\n"
    assert (article.id, article.source) == ("crlf", str(path))


def test_every_problem_names_its_article_and_the_rest_still_load(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Ein Artikel.", encoding="utf-8")
    (tmp_path / "binary.jsonl").write_bytes(b'{"id": "x", "text": "\xff\xfe"}\n')
    feed = tmp_path / "feed.jsonl"
    lines = [{"id": "a1", "text": "Text."}, {"id": "a2"}, {"id": "a3", "text": " "}, [1]]
    feed.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    items = list(iter_articles([tmp_path, tmp_path / "missing.txt"]))
    good = [item.id for item in items if isinstance(item, Article)]
    problems = {item.article_id: str(item) for item in items if isinstance(item, InputError)}
    assert good == ["a1", "good"]
    assert "not valid UTF-8" in problems["binary"]
    assert "text: Field required" in problems["a2"]
    assert "empty text" in problems["a3"]
    assert "expected a JSON object" in problems[f"{feed}:4"]
    assert "no such file or directory" in problems["missing"]
