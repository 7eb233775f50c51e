"""The rows eventx on Ray writes, and how a resumed run reads an output a killed job left.

No Ray cluster is needed: the rows and the scan are plain pyarrow over files.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from eventx import ArticleExtraction, ErrorCategory, ErrorRecord, ExtractionResult
from eventx.errors import InputError
from eventx.ray.resume import digests_of, drop_finished, scan_output
from eventx.ray.rows import output_schema, result_table, results_of
from eventx.ray.worker import article_of
from tests.llm_server.server import first_sentence_meeting

PRINT = "f" * 16


def _result(article_id: str, *, records: int = 1, failed: bool = False) -> ExtractionResult:
    answer = first_sentence_meeting(f"Minister {article_id} met Mihai Popșoi in Kyiv.")
    events = [{**answer["events"][0], "id": f"e{n + 1}"} for n in range(records)]
    return ExtractionResult(
        article_id=article_id,
        model="m",
        mode="tools",
        prompt_hash="p",
        extraction=None if failed else ArticleExtraction.model_validate({"events": events}),
        error=ErrorRecord(category=ErrorCategory.API, message="HTTP 400") if failed else None,
    )


def _write(
    directory: Path, name: str, results: list[ExtractionResult], print_: str = PRINT
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    pq.write_table(result_table(results, print_), path)
    return path


def test_every_article_has_rows_and_its_result_rides_on_the_first() -> None:
    results = [_result("two", records=2), _result("none", records=0), _result("bad", failed=True)]
    rows = result_table(results, PRINT).to_pylist()
    assert [(r["article_id"], r["record_kind"], r["article_rows"]) for r in rows] == [
        ("two", "event", 2),
        ("two", "event", 2),
        ("none", "empty", 1),
        ("bad", "error", 1),
    ]
    assert [r["result"] is not None for r in rows] == [True, False, True, True]
    assert results_of(rows) == results
    assert {r["run_fingerprint"] for r in rows} == {PRINT}
    assert result_table(results, PRINT).schema.equals(output_schema())


def test_complete_files_count_and_other_fingerprints_do_not(tmp_path: Path) -> None:
    _write(tmp_path, "a.parquet", [_result("a1"), _result("a2", records=3)])
    _write(tmp_path / "part=x", "b.parquet", [_result("b1", records=0)])
    _write(tmp_path, "c.parquet", [_result("c1")], print_="0" * 16)
    pq.write_table(pa.table({"anything": [1, 2]}), tmp_path / "not-ours.parquet")

    finished = scan_output(str(tmp_path), PRINT)

    assert finished.articles == 3
    assert finished.set_aside == []
    assert sorted(finished.digests) == sorted(digests_of(["a1", "a2", "b1"]))


def test_a_file_cut_short_is_set_aside_and_its_articles_run_again(tmp_path: Path) -> None:
    _write(tmp_path, "done.parquet", [_result("a1")])
    cut = _write(tmp_path, "cut.parquet", [_result("b1"), _result("b2")])
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])

    finished = scan_output(str(tmp_path), PRINT)

    assert list(finished.digests) == list(digests_of(["a1"]))
    assert not cut.exists()
    assert (tmp_path / ".cut.parquet.incomplete").exists()
    assert scan_output(str(tmp_path), PRINT).set_aside == []  # hidden: never read again


def test_an_article_written_only_in_part_sets_its_file_aside(tmp_path: Path) -> None:
    table = result_table([_result("a1"), _result("split", records=3)], PRINT)
    pq.write_table(table.slice(0, 3), tmp_path / "first.parquet")  # a1, 2 of split's 3 rows
    _write(tmp_path, "other.parquet", [_result("c1")])

    finished = scan_output(str(tmp_path), PRINT)

    assert list(finished.digests) == list(digests_of(["c1"]))
    assert [Path(path).name for path in finished.set_aside] == [".first.parquet.incomplete"]


def test_an_article_split_over_two_complete_files_is_finished(tmp_path: Path) -> None:
    table = result_table([_result("a1"), _result("split", records=3)], PRINT)
    pq.write_table(table.slice(0, 3), tmp_path / "first.parquet")
    pq.write_table(table.slice(3), tmp_path / "second.parquet")

    finished = scan_output(str(tmp_path), PRINT)

    assert sorted(finished.digests) == sorted(digests_of(["a1", "split"]))
    assert finished.set_aside == []


def _json_lines(results: list[ExtractionResult]) -> str:
    rows = result_table(results, PRINT).to_pylist()
    return "".join(json.dumps(row, default=str) + "\n" for row in rows)


def test_json_lines_cut_mid_line_or_mid_article_are_set_aside(tmp_path: Path) -> None:
    text = _json_lines([_result("a1"), _result("a2", records=2)])
    (tmp_path / "whole.json").write_text(text)
    (tmp_path / "mid-line.json").write_text(_json_lines([_result("b1")])[:-20])
    other = _json_lines([_result("c1"), _result("c2", records=2)])
    (tmp_path / "mid-article.json").write_text("".join(other.splitlines(True)[:2]))

    finished = scan_output(str(tmp_path), PRINT)

    assert sorted(finished.digests) == sorted(digests_of(["a1", "a2"]))
    assert sorted(Path(path).name for path in finished.set_aside) == [
        ".mid-article.json.incomplete",
        ".mid-line.json.incomplete",
    ]


def test_an_empty_location_holds_nothing(tmp_path: Path) -> None:
    assert scan_output(str(tmp_path / "not-yet"), PRINT).articles == 0


def test_finished_articles_are_dropped_from_a_batch() -> None:
    batch = pa.table({"id": ["a", "b", "c", "d"], "text": ["x"] * 4})
    finished = drop_finished(batch, scan_sorted(["b", "d", "z"]))
    assert finished.column("id").to_pylist() == ["a", "c"]
    assert drop_finished(batch, scan_sorted([])).num_rows == 4


def scan_sorted(ids: list[str]) -> object:
    import numpy as np

    return np.unique(digests_of(ids))


def test_rows_become_articles_or_say_why_not() -> None:
    article = article_of({"id": 7, "text": "t", "published_at": datetime(2025, 4, 9, 12)})
    assert not isinstance(article, InputError)
    assert (article.id, article.published_at) == ("7", date(2025, 4, 9))
    missing = article_of({"id": "x", "title": "no text"})
    assert isinstance(missing, InputError)
    assert "text" in str(missing)
    unreadable = article_of({"id": "y", "input_error": "cannot read y.pdf"})
    assert isinstance(unreadable, InputError)
    assert (unreadable.article_id, str(unreadable)) == ("y", "cannot read y.pdf")


class _Meter:
    """Stands in for the limiter actor: ``admit.remote`` answers yes after ``delays``."""

    def __init__(self, *delays: float) -> None:
        self.delays = list(delays)
        self.asked = 0
        self.admit = self

    def remote(self, tokens: int) -> Any:
        self.asked += 1
        delay = self.delays.pop(0)

        async def answer() -> float:
            await asyncio.sleep(delay)
            return 0.0

        return answer()


def test_a_yes_that_reaches_a_busy_worker_late_is_asked_once_more() -> None:
    from eventx.ray.limiter import STALE_ADMISSION, SharedRateLimiter

    prompt = SharedRateLimiter(_Meter(0.0))
    late = SharedRateLimiter(_Meter(STALE_ADMISSION + 0.05, STALE_ADMISSION + 0.05))
    assert asyncio.run(prompt.aadmit(100)) == 0.0
    assert asyncio.run(late.aadmit(100)) == 0.0
    assert (prompt.actor.asked, late.actor.asked) == (1, 2)  # once more, not again and again
