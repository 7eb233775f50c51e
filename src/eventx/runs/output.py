"""A run's output, from the name the user gives to the last line written.

* :func:`output_format` settles the format (``jsonl``, ``csv`` or ``parquet``) from the
  format asked for and the file's suffix, and refuses a contradiction.
* :func:`check_output_is_ours` refuses to write over a file no run store accounts for.
* JSONL is written as results arrive, one line per article, flushed line by line, and
  always equal to the store's finished results in commit order: :func:`sync_output`
  restores that after a crash before anything new is written.
* Tables (CSV, Parquet) are written from the store when the run ends, so they are
  complete after a resume too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from eventx.analysis.export import SUFFIXES, OutputFormat, require_parquet
from eventx.errors import ConfigurationError
from eventx.models import ExtractionResult
from eventx.runs.store import RunStore

OutputTarget = str | Path | IO[str] | None
"""A file name, an open text stream (e.g. ``sys.stdout``) for JSONL, or None for no output."""


def output_path(output: OutputTarget) -> Path | None:
    """The output's file name, or None for a stream or no output (``-`` is stdout)."""
    if output is None or output == "-" or not isinstance(output, str | Path):
        return None
    return Path(output)


def output_format(output: OutputTarget, format: str | None = None) -> OutputFormat:
    """The format to write: ``format`` when given, else the one the suffix names, else JSONL.

    Raises:
        ConfigurationError: for an unknown format, a table asked for without a file, a
            format that contradicts the file's suffix (``--format parquet -o x.jsonl``), or
            Parquet without pyarrow installed.
    """
    chosen = _chosen_format(output, format)
    if chosen == "parquet":
        require_parquet()
    return chosen


def _chosen_format(output: OutputTarget, format: str | None) -> OutputFormat:
    path = output_path(output)
    implied = SUFFIXES.get(path.suffix.lower()) if path is not None else None
    if format is None:
        return implied or "jsonl"
    if format not in ("jsonl", "csv", "parquet"):
        raise ConfigurationError(f"unknown output format {format!r}; use jsonl, csv or parquet")
    if format != "jsonl" and path is None:
        raise ConfigurationError(f"the {format} format needs an output file (-o NAME.{format})")
    if path is not None and implied is not None and implied != format:
        raise ConfigurationError(
            f"the output {path} is named as {implied} but the format asked for is {format}; "
            f"name it {path.with_suffix('.' + format).name} or leave the format out"
        )
    return format  # type: ignore[return-value]  # checked against the literal values above


def check_output_is_ours(output: Path | None, store: Path | None) -> None:
    """Refuse to write into an existing output that no run store accounts for.

    Raises:
        ConfigurationError: naming the file and the way out (``restart``).
    """
    if output is None or not output.exists() or output.stat().st_size == 0:
        return
    if store is None or not store.exists():
        raise ConfigurationError(
            f"{output} already exists and has no run store ({store}) to resume from; "
            "pass --restart (restart=True) to overwrite it, or choose another output"
        )


@contextmanager
def jsonl_sink(output: OutputTarget, store: RunStore) -> Iterator[IO[str] | None]:
    """The stream results are written to as they arrive, or None for no JSONL output.

    A file is first brought in line with the store (:func:`sync_output`), then opened
    for appending; a stream (``-`` or an open file) is written as it is.
    """
    if output is None:
        yield None
        return
    path = output_path(output)
    if path is None:
        yield sys.stdout if output == "-" else output  # type: ignore[misc]
        return
    sync_output(store, path)
    with path.open("a", encoding="utf-8") as sink:
        yield sink


def write_line(sink: IO[str], result: ExtractionResult) -> None:
    """Write one result as a JSONL line and flush it."""
    sink.write(result.model_dump_json() + "\n")
    sink.flush()


def write_table(store: RunStore, path: Path, format: OutputFormat) -> int:
    """Write every finished result of ``store`` as a table; return the rows written."""
    from eventx.analysis.export import write_rows

    return write_rows(store.finished_results(), path, format)


def sync_output(store: RunStore, output: Path) -> int:
    """Make ``output`` hold every finished result of ``store``, in commit order.

    A partial last line (the process was killed mid-write) is cut off; results the
    store committed but the output lacks are appended. If the output does not
    match the store (its last line is not the store's result at that position:
    edited by hand, from another store, or an article was finished again after
    ``retry_failed``), it is rewritten from the store. Returns the lines written.
    """
    output.parent.mkdir(parents=True, exist_ok=True)
    lines, last = _complete_lines(output)
    if lines and store.finished_line(lines) != last:
        return _rewrite(store, output)
    return _append_lines(store.finished_lines(skip=lines), output, "a")


def _complete_lines(output: Path) -> tuple[int, str | None]:
    """Count the complete lines of ``output`` (cutting off a partial last line)."""
    if not output.exists():
        return 0, None
    lines, last, end = 0, b"", 0
    with output.open("rb") as source:
        for line in source:
            if not line.endswith(b"\n"):
                break
            lines, last, end = lines + 1, line, end + len(line)
    if end != output.stat().st_size:
        os.truncate(output, end)
    return lines, last.decode("utf-8", errors="replace").rstrip("\n") if lines else None


def _rewrite(store: RunStore, output: Path) -> int:
    partial = output.with_name(output.name + ".partial")
    written = _append_lines(store.finished_lines(), partial, "w")
    partial.replace(output)
    return written


def _append_lines(lines: Iterable[str], output: Path, mode: str) -> int:
    written = 0
    with output.open(mode, encoding="utf-8") as sink:
        for line in lines:
            sink.write(line + "\n")
            written += 1
    return written
