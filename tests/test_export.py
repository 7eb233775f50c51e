"""Flat tables: the seeds' recorded output as CSV and Parquet, rows checked value by value."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from eventx import ExtractionResult, open_writer, read_results
from eventx.analysis.export import (
    COLUMN_NAMES,
    COLUMNS,
    ParquetResultWriter,
    parquet_schema,
    result_rows,
    write_rows,
)
from eventx.cli import main
from eventx.cli.common import EXIT_FAILED_ARTICLES, EXIT_USAGE
from eventx.models import SCHEMA_VERSION, ErrorCategory, ErrorRecord
from tests.conftest import ROOT, SEED_CASSETTES, SEEDS

AID_ARTICLE = "004_8ea74db2dcd210fd"


@pytest.fixture
def seed_output(tmp_path: Path) -> Path:
    """The JSONL `eventx extract` writes for the seeds, replayed from their cassettes."""
    output = tmp_path / "out.jsonl"
    args = ["extract", str(SEEDS), "--replay", str(SEED_CASSETTES), "-o", str(output)]
    outcome = CliRunner().invoke(main, args)
    assert outcome.exit_code == 0, outcome.output
    return output


def _results(path: Path) -> list[ExtractionResult]:
    items = list(read_results(path))
    assert all(isinstance(item, ExtractionResult) for item in items)
    return [item for item in items if isinstance(item, ExtractionResult)]


def _aid_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    [row] = [
        row for row in rows if row["article_id"] == AID_ARTICLE and row["type"] == "aid_delivery"
    ]
    return row


def _failed_result() -> ExtractionResult:
    return ExtractionResult(
        article_id="broken",
        source="in/broken.txt",
        model="gpt-4.1-mini",
        mode="tools",
        prompt_hash="0" * 16,
        published_at=date(2025, 4, 9),
        error=ErrorRecord(category=ErrorCategory.TRUNCATED, message="cut off", attempts=3),
    )


def test_csv_has_one_row_per_event_and_claim_with_real_values(
    seed_output: Path, tmp_path: Path
) -> None:
    table = tmp_path / "records.csv"
    assert write_rows(_results(seed_output), table) == 33
    with table.open(encoding="utf-8", newline="") as stream:
        reader = csv.DictReader(stream)
        rows = list(reader)
    assert tuple(reader.fieldnames or ()) == COLUMN_NAMES
    kinds = [row["record_kind"] for row in rows]
    assert (kinds.count("event"), kinds.count("claim")) == (11, 22)
    aid = _aid_row(rows)
    assert (aid["donor"], aid["donor_country"]) == ("Ministry of Defense of Japan", "JPN")
    assert (aid["recipient_country"], aid["aid_kind"], aid["status"]) == (
        "UKR",
        "military",
        "occurred",
    )
    assert json.loads(aid["item_quantities"]) == [100.0, 30000.0]
    assert json.loads(aid["countries"]) == ["JPN", "UKR"]
    assert [item["category"] for item in json.loads(aid["items"])] == ["vehicles", "food"]
    assert aid["speaker"] == aid["published_at"] == aid["error_category"] == ""


def test_evidence_offsets_in_the_table_point_into_the_article(
    seed_output: Path, tmp_path: Path
) -> None:
    table = tmp_path / "records.csv"
    write_rows(_results(seed_output), table)
    with table.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    checked = 0
    for row in rows:
        text = (SEEDS / f"{row['article_id']}.txt").read_text(encoding="utf-8")
        for evidence in json.loads(row["evidence"]):
            if evidence["match"] == "exact":  # fuzzy matches point at a slightly different span
                assert text[evidence["start"] : evidence["end"]] == evidence["quote"]
                checked += 1
        if row["quote"] and row["quote"] in text:
            assert text[int(row["quote_start"]) : int(row["quote_end"])] == row["quote"]
    assert checked >= len(rows) - 2


def test_parquet_has_the_fixed_schema_and_native_lists(seed_output: Path, tmp_path: Path) -> None:
    table = tmp_path / "records.parquet"
    assert write_rows(_results(seed_output), table) == 33
    read = pq.read_table(table)
    assert read.schema.equals(parquet_schema())
    assert read.schema.field("countries").type == pa.list_(pa.string())
    assert read.schema.field("quote_start").type == pa.int64()
    assert read.schema.metadata[b"schema_version"] == SCHEMA_VERSION.encode()
    rows = read.to_pylist()
    aid = _aid_row(rows)
    assert aid["item_quantities"] == [100.0, 30000.0]
    assert (aid["donor_country"], aid["recipient_country"]) == ("JPN", "UKR")
    assert aid["confidence"] == pytest.approx(0.95)
    [protest] = [row for row in rows if row["type"] == "diplomatic_protest"]
    assert (protest["protester_country"], protest["target_country"]) == ("RUS", "JPN")
    assert (protest["protest_form"], protest["trigger"]) == ("summoned_ambassador", "e3")
    meeting = next(row for row in rows if row["date_value"] == "2025-04-09")
    assert meeting["participants"] == ["Shigeru Ishiba", "Mark Rutte"]


def test_csv_and_parquet_hold_the_same_rows(seed_output: Path, tmp_path: Path) -> None:
    results = _results(seed_output)
    write_rows(results, tmp_path / "t.csv")
    write_rows(results, tmp_path / "t.parquet")
    with (tmp_path / "t.csv").open(encoding="utf-8", newline="") as stream:
        from_csv = list(csv.DictReader(stream))
    from_parquet = pq.read_table(tmp_path / "t.parquet").to_pylist()
    kinds = {column.name: column.kind for column in COLUMNS}
    for csv_row, parquet_row in zip(from_csv, from_parquet, strict=True):
        for name, value in parquet_row.items():
            if value is None:
                assert csv_row[name] == "", name
            elif kinds[name] in ("strings", "floats"):
                assert json.loads(csv_row[name]) == value, name
            else:
                assert csv_row[name] == str(value), name


def test_failed_articles_become_error_rows_unless_left_out(tmp_path: Path) -> None:
    [row] = list(result_rows(_failed_result()))
    assert (row["record_kind"], row["error_category"], row["error_message"]) == (
        "error",
        "truncated",
        "cut off",
    )
    assert (row["record_id"], row["countries"]) == (None, None)
    assert list(result_rows(_failed_result(), include_errors=False)) == []
    table = tmp_path / "errors.parquet"
    write_rows([_failed_result()], table)
    [stored] = pq.read_table(table).to_pylist()
    assert (stored["article_id"], stored["published_at"]) == ("broken", date(2025, 4, 9))


def test_parquet_rows_are_written_in_bounded_row_groups(seed_output: Path, tmp_path: Path) -> None:
    table = tmp_path / "grouped.parquet"
    with open_writer(table, row_group_size=5) as writer:
        assert isinstance(writer, ParquetResultWriter)
        for result in _results(seed_output):
            writer.write(result)
            assert writer.pending_rows < 5  # never more than one row group held in memory
    metadata = pq.ParquetFile(table).metadata
    assert (metadata.num_rows, metadata.num_row_groups) == (33, 7)


def test_csv_rows_are_on_disk_as_soon_as_a_result_is_written(
    seed_output: Path, tmp_path: Path
) -> None:
    table = tmp_path / "live.csv"
    results = _results(seed_output)
    with open_writer(table) as writer:
        assert writer.write(results[4]) == 6
        with table.open(encoding="utf-8", newline="") as stream:
            rows = list(csv.DictReader(stream))
        assert [row["record_id"] for row in rows] == ["e1", "e2", "e3", "c1", "c2", "c3"]


def test_an_empty_run_gives_a_valid_empty_table(tmp_path: Path) -> None:
    assert write_rows([], tmp_path / "empty.parquet") == 0
    read = pq.read_table(tmp_path / "empty.parquet")
    assert (read.num_rows, read.schema.names) == (0, list(COLUMN_NAMES))
    write_rows([], tmp_path / "empty.csv")
    assert (tmp_path / "empty.csv").read_text(encoding="utf-8").strip() == ",".join(COLUMN_NAMES)


def test_convert_infers_the_format_and_skips_bad_lines(seed_output: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    outcome = runner.invoke(main, ["convert", str(seed_output), "-o", str(tmp_path / "t.csv")])
    assert outcome.exit_code == 0, outcome.output
    assert "5 results, 33 rows" in outcome.output
    damaged = tmp_path / "damaged.jsonl"
    lines = seed_output.read_text(encoding="utf-8").splitlines()
    damaged.write_text("\n".join([lines[0], '{"article_id": "x"}', lines[1][:50]]) + "\n")
    target = tmp_path / "t.out"
    args = ["convert", str(damaged), "-o", str(target), "--format", "parquet"]
    outcome = runner.invoke(main, args)
    assert outcome.exit_code == EXIT_FAILED_ARTICLES
    assert f"{damaged}:2: not an extraction result (model: Field required)" in outcome.output
    assert f"{damaged}:3: not an extraction result" in outcome.output
    assert pq.read_table(target).num_rows == 10  # the first article: 5 events + 5 claims


def test_convert_refuses_an_unknown_table_format(seed_output: Path, tmp_path: Path) -> None:
    args = ["convert", str(seed_output), "-o", str(tmp_path / "t.xlsx")]
    outcome = CliRunner().invoke(main, args)
    assert outcome.exit_code == EXIT_USAGE
    assert "name it .csv or .parquet" in outcome.output


def test_every_column_is_documented() -> None:
    documented = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    missing = [name for name in COLUMN_NAMES if f"| `{name}` |" not in documented]
    assert missing == []
