"""The command line reads stdin and expands glob patterns itself."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from eventx.cli import main
from tests.conftest import SEED_CASSETTES, SEEDS


def _results(path: Path) -> dict[str, dict]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {result["article_id"]: result for result in map(json.loads, lines)}


def test_jsonl_on_stdin_is_extracted(tmp_path: Path) -> None:
    text = (SEEDS / "002_2306dc31ba5326a4.txt").read_text(encoding="utf-8")
    feed = json.dumps({"id": "002_2306dc31ba5326a4", "text": text}) + "\n"
    output = tmp_path / "out.jsonl"
    args = ["extract", "-", "--replay", str(SEED_CASSETTES), "-o", str(output)]
    outcome = CliRunner().invoke(main, args, input=feed.encode())
    assert outcome.exit_code == 0, outcome.output
    [result] = _results(output).values()
    assert result["source"] == "stdin:1"
    assert result["extraction"]["events"][0]["type"] == "meeting"


def test_a_quoted_glob_is_expanded_by_eventx(tmp_path: Path) -> None:
    shutil.copytree(SEEDS, tmp_path / "articles" / "2025")
    output = tmp_path / "out.jsonl"
    args = ["extract", "articles/**/00[12]*.txt", "--replay", str(SEED_CASSETTES)]
    outcome = CliRunner().invoke(main, [*args, "-o", str(output)])
    assert outcome.exit_code == 1, outcome.output  # ids now carry the folder: no cassette
    results = _results(output)
    assert sorted(results) == ["2025/001_3d83a5f5de596b38", "2025/002_2306dc31ba5326a4"]
    assert results["2025/001_3d83a5f5de596b38"]["error"]["category"] == "replay"
    flat = tmp_path / "flat.jsonl"
    args = ["extract", "articles/2025/00[12]*.txt", "--replay", str(SEED_CASSETTES)]
    outcome = CliRunner().invoke(main, [*args, "-o", str(flat)])
    assert outcome.exit_code == 0, outcome.output
    assert sorted(_results(flat)) == ["001_3d83a5f5de596b38", "002_2306dc31ba5326a4"]
