"""``eventx extract --engine ray``: what it refuses before any cluster is started."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from eventx.cli import main
from tests.conftest import SEEDS


def _extract(*args: str) -> tuple[int, str]:
    outcome = CliRunner().invoke(main, ["extract", str(SEEDS), *args])
    return outcome.exit_code, outcome.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "ray"], "give -o DIR"),
        (["--engine", "ray", "-o", "out", "--db", "x.db"], "--db: the local engine only"),
        (["--engine", "ray", "-o", "out", "--restart"], "--restart: the local engine only"),
        (["--engine", "ray", "-o", "out", "--format", "csv"], "parquet or jsonl"),
    ],
)
def test_the_ray_engine_refuses_what_it_has_no_use_for(args: list[str], message: str) -> None:
    code, output = _extract(*args)
    assert code == 2
    assert message in " ".join(output.split())


def test_a_directory_is_an_output_of_the_ray_engine_only(tmp_path: Path) -> None:
    code, output = _extract("-o", str(tmp_path), "--base-url", "http://localhost:1/v1")
    assert code == 2
    assert "is a directory (only --engine ray writes one)" in " ".join(output.split())


def test_base_urls_on_the_command_line_are_a_comma_separated_list() -> None:
    code, output = _extract(
        "--dry-run", "--base-urls", "http://a:8000/v1,http://b:8000/v1", "--model", "m"
    )
    assert code == 0, output
    code, output = _extract("--dry-run", "--base-urls", "http://a:8000/v1", "--local", "x.gguf")
    assert code == 2
    assert "base_urls and local cannot be used together" in " ".join(output.split())
