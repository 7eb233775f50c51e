"""The rows eventx on Ray writes: the flat table of the Parquet export, keyed for resuming.

Every article has at least one row: one per event and claim, one ``error`` row when it
failed, one ``empty`` row when it was extracted and has no records. Three columns join
the export's (:data:`~eventx.analysis.export.COLUMNS`):

* ``run_fingerprint``: the model, mode, prompt hash and schema version, hashed; with
  ``article_id`` it is the key of a result, and a resumed run skips the articles it
  finds under its own fingerprint;
* ``article_rows``: how many rows the article has, so that a resumed run can tell an
  article written in full from one a killed write cut short;
* ``result``: the whole :class:`~eventx.models.ExtractionResult` as JSON, on the
  article's first row (null on its other rows).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa

from eventx.analysis.export import COLUMN_NAMES, parquet_schema, result_rows
from eventx.models import ExtractionResult

FINGERPRINT = "run_fingerprint"
ARTICLE_ROWS = "article_rows"
RESULT = "result"
KEY_COLUMNS = ("article_id", FINGERPRINT, ARTICLE_ROWS)
"""What a resumed run reads of an earlier output."""

_EXTRA_FIELDS = (
    (FINGERPRINT, pa.string(), "Hash of the model, mode, prompt hash and schema version."),
    (ARTICLE_ROWS, pa.int64(), "Rows this article has in the output (at least one)."),
    (RESULT, pa.string(), "The article's whole result as JSON, on its first row only."),
)


def fingerprint_id(fingerprint: Mapping[str, str]) -> str:
    """A short, stable hash of a run's fingerprint (model, mode, prompt hash, schema)."""
    text = json.dumps(dict(fingerprint), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def output_schema() -> pa.Schema:
    """The export's Parquet schema and the three columns above."""
    schema = parquet_schema()
    for name, kind, description in _EXTRA_FIELDS:
        schema = schema.append(pa.field(name, kind, metadata={"description": description}))
    return schema


def output_names() -> tuple[str, ...]:
    """Every column of the output, in order."""
    return (*COLUMN_NAMES, *(name for name, _, _ in _EXTRA_FIELDS))


def result_table(results: Iterable[ExtractionResult], fingerprint: str) -> pa.Table:
    """The rows of ``results`` as one table with :func:`output_schema`."""
    names = output_names()
    columns: dict[str, list[Any]] = {name: [] for name in names}
    for result in results:
        rows = list(result_rows(result, include_empty=True))
        for index, row in enumerate(rows):
            row[FINGERPRINT] = fingerprint
            row[ARTICLE_ROWS] = len(rows)
            row[RESULT] = result.model_dump_json() if index == 0 else None
            for name in names:
                columns[name].append(row[name])
    return pa.Table.from_pydict(columns, schema=output_schema())


def results_of(rows: Iterable[Mapping[str, Any]]) -> list[ExtractionResult]:
    """The results held by output rows (those that carry the JSON result)."""
    return [ExtractionResult.model_validate_json(row[RESULT]) for row in rows if row.get(RESULT)]
