"""Flat tables from extraction results: one row per event, one per claim, one per failure.

Every row has the same columns (:data:`COLUMNS`), so the tables load into pandas,
DuckDB or a spreadsheet as they are.  Columns that do not apply to a row are empty.
The generic columns (ids, type, status, summary, date, location, ``countries``,
``roles``, evidence, codes) are filled for every record, whatever its type; the
type-specific ones for the built-in types (:data:`TYPE_COLUMNS`).

* ``csv``: UTF-8, a header line, lists and nested values written as JSON text;
* ``parquet``: a fixed schema; lists of names or codes are native ``list<string>``
  columns, nested values (evidence, aid items) JSON text; rows are buffered into row
  groups of ``row_group_size`` rows, so memory stays bounded however long the run.

Writers take results one at a time, as a batch produces them::

    with open_writer("events.parquet") as writer:
        for result in results:
            writer.write(result)

See docs/outputs.md for every column.
"""

from __future__ import annotations

import csv
import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

from pydantic import ValidationError

from eventx._version import __version__
from eventx.errors import ConfigurationError, InputError
from eventx.models import (
    SCHEMA_VERSION,
    Actor,
    AidDelivery,
    Claim,
    DiplomaticProtest,
    Event,
    Evidence,
    ExtractionResult,
    MeetingEvent,
    Record,
)

TableFormat = Literal["csv", "parquet"]
ColumnKind = Literal["string", "int", "float", "date", "strings", "floats", "json"]

OutputFormat = Literal["jsonl", "csv", "parquet"]
SUFFIXES: dict[str, OutputFormat] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
"""Output suffixes and the format each one means, for ``eventx extract`` and ``convert``."""
FORMATS: dict[str, TableFormat] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
"""The suffixes of table outputs."""
PARQUET_HINT = 'Parquet output needs pyarrow, which is not installed: pip install "eventx[parquet]"'

DEFAULT_ROW_GROUP_SIZE = 10_000


@dataclass(frozen=True)
class Column:
    """One column of the flat table."""

    name: str
    kind: ColumnKind
    description: str


def _columns(*specs: tuple[str, ColumnKind, str]) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


COLUMNS = _columns(
    ("article_id", "string", "Id of the article the row comes from."),
    (
        "record_kind",
        "string",
        "event, claim, error (a failed article), or empty (an article with no records; "
        "Ray output only).",
    ),
    ("record_id", "string", "Id of the event or claim within its article (e1, c2)."),
    ("type", "string", "meeting, aid_delivery, diplomatic_protest, a registered type, or claim."),
    ("status", "string", "Event status: occurred, planned, pledged, reported, denied."),
    ("summary", "string", "The event's one-sentence summary, or the claim as a sentence."),
    ("date_text", "string", "The date as the article writes it."),
    ("date_value", "string", "ISO date as far as known: 2025-04-09, 2025-04, 2025, --09-12."),
    ("date_precision", "string", "day, month, year, or unknown."),
    ("date_rule", "string", "How the value was found: explicit, publication_year, relative, …"),
    ("location", "string", "Where the event took place (English name when known)."),
    ("location_country", "string", "ISO3 code of the event's location."),
    ("countries", "strings", "ISO3 codes in the record: event actors and location, or speaker."),
    ("roles", "json", "Every actor of the record by role: JSON object, role → actor or array."),
    ("participants", "strings", "Meeting participants."),
    ("participant_countries", "strings", "ISO3 codes of the participants, first-seen order."),
    ("meeting_format", "string", "bilateral, multilateral, summit, phone, or visit."),
    ("forum", "string", "The gathering a meeting was part of."),
    ("host", "string", "Who hosted the meeting."),
    ("topics", "strings", "Topics discussed."),
    ("outcomes", "strings", "Agreements or results of the meeting."),
    ("donor", "string", "Who gives the aid."),
    ("donor_country", "string", "ISO3 code of the donor."),
    ("recipient", "string", "Who receives the aid."),
    ("recipient_country", "string", "ISO3 code of the recipient."),
    ("aid_kind", "string", "military, humanitarian, or economic."),
    ("item_descriptions", "strings", "What is given, one entry per aid item."),
    ("item_quantities", "floats", "Quantity of each aid item (null when not stated)."),
    ("items", "json", "The aid items as a JSON array of objects."),
    ("protester", "string", "The state or official protesting."),
    ("protester_country", "string", "ISO3 code of the protester."),
    ("target", "string", "The state protested against."),
    ("target_country", "string", "ISO3 code of the target."),
    ("protest_form", "string", "summoned_ambassador, note, demarche, statement, expulsion..."),
    ("summoned_official", "string", "The diplomat summoned or expelled."),
    ("grievance", "string", "What is protested."),
    ("trigger", "string", "Id of the event protested against, when in the same article."),
    ("speaker", "string", "Who made the claim."),
    ("speaker_country", "string", "ISO3 code of the speaker."),
    ("speaker_title", "string", "The speaker's office or role."),
    ("reported_via", "string", "The outlet or agency the article cites for the claim."),
    ("quote", "string", "The speaker's words verbatim, when quoted directly."),
    ("quote_start", "int", "Character offset of the quote in the article text."),
    ("quote_end", "int", "Character offset just past the quote."),
    ("quote_type", "string", "direct or indirect."),
    ("claim_type", "string", "assertion, accusation, warning, denial, intention, evaluation."),
    ("stance", "string", "supportive, critical, concerned, or neutral."),
    ("about", "strings", "Entities the claim is about."),
    ("evidence", "json", "JSON array of {quote, start, end, match, score}."),
    ("confidence", "float", "The model's confidence, 0 to 1."),
    ("plover_event", "string", "PLOVER event type."),
    ("plover_mode", "string", "PLOVER mode."),
    ("cameo", "string", "CAMEO code."),
    ("title", "string", "The article's headline."),
    ("url", "string", "The article's URL."),
    ("language", "string", "The article's language tag."),
    ("published_at", "date", "The article's publication date."),
    ("source", "string", "File or feed the article came from."),
    ("encoding", "string", "Character encoding the article was decoded from."),
    ("model", "string", "Model that extracted the record."),
    ("prompt_hash", "string", "Hash of the prompt the model was sent."),
    ("eventx_version", "string", "eventx version that wrote the result."),
    ("schema_version", "string", "Version of the output contract."),
    ("error_category", "string", "Why the article failed (error rows only)."),
    ("error_message", "string", "What went wrong (error rows only)."),
)
"""Every column of the flat table, in order."""

COLUMN_NAMES = tuple(column.name for column in COLUMNS)

Row = dict[str, Any]


# -- rows ------------------------------------------------------------------------------------


def result_rows(
    result: ExtractionResult, *, include_errors: bool = True, include_empty: bool = False
) -> Iterator[Row]:
    """The rows of one result: one per event, one per claim, or one error row when the
    article failed (unless ``include_errors`` is false); with ``include_empty``, one row of
    kind ``empty`` for an article extracted with no records, so every article has a row.
    Values are Python objects: lists stay lists, dates stay dates; nested values are JSON
    text."""
    article = _article_fields(result)
    if result.error is not None:
        if include_errors:
            yield _row(
                article,
                record_kind="error",
                error_category=result.error.category.value,
                error_message=result.error.message,
            )
        return
    records = result.extraction.records() if result.extraction is not None else []
    for record in records:
        fields = _claim_fields(record) if isinstance(record, Claim) else _event_fields(record)
        yield _row(article, **fields, roles=_roles_json(record))
    if not records and include_empty:
        yield _row(article, record_kind="empty")


def _row(article: Row, **fields: Any) -> Row:
    row: Row = dict.fromkeys(COLUMN_NAMES)
    row.update(article)
    row.update(fields)
    return row


def _article_fields(result: ExtractionResult) -> Row:
    return {
        "article_id": result.article_id,
        "title": result.title,
        "url": result.url,
        "language": result.language,
        "published_at": result.published_at,
        "source": result.source,
        "encoding": result.encoding,
        "model": result.model,
        "prompt_hash": result.prompt_hash,
        "eventx_version": result.eventx_version,
        "schema_version": result.schema_version,
    }


def _event_fields(event: Event) -> Row:
    fields: Row = {
        "record_kind": "event",
        "record_id": event.id,
        "type": event.type,
        "status": event.status.value,
        "summary": event.summary,
        "evidence": _evidence_json(event.evidence),
        "confidence": event.confidence,
        "plover_event": event.plover.event if event.plover else None,
        "plover_mode": event.plover.mode if event.plover else None,
        "cameo": event.cameo,
    }
    if event.date is not None:
        fields |= {
            "date_text": event.date.text,
            "date_value": event.date.value,
            "date_precision": event.date.precision.value,
            "date_rule": event.date.rule.value if event.date.rule else None,
        }
    if event.location is not None:
        fields["location"] = event.location.canonical_name or event.location.name
        fields["location_country"] = event.location.country
    codes = {actor.country for actor in event.actors()}
    codes.add(event.location.country if event.location else None)
    fields["countries"] = sorted(code for code in codes if code)
    return fields | TYPE_COLUMNS.get(event.TYPE, _no_columns)(event)


def _meeting_fields(event: MeetingEvent) -> Row:
    return {
        "participants": [_name(actor) for actor in event.participants],
        "participant_countries": _codes(event.participants),
        "meeting_format": event.format.value if event.format else None,
        "forum": event.forum,
        "host": _name(event.host),
        "topics": event.topics,
        "outcomes": event.outcomes,
    }


def _aid_fields(event: AidDelivery) -> Row:
    return {
        **_party("donor", event.donor),
        **_party("recipient", event.recipient),
        "aid_kind": event.aid_kind.value,
        "item_descriptions": [item.description for item in event.items],
        "item_quantities": [item.quantity for item in event.items],
        "items": json.dumps(
            [item.model_dump(mode="json") for item in event.items], ensure_ascii=False
        ),
    }


def _protest_fields(event: DiplomaticProtest) -> Row:
    return {
        **_party("protester", event.protester),
        **_party("target", event.target),
        "protest_form": event.form.value,
        "summoned_official": _name(event.summoned_official),
        "grievance": event.grievance,
        "trigger": event.trigger,
    }


def _no_columns(event: Event) -> Row:
    return {}


TYPE_COLUMNS: dict[str, Callable[[Any], Row]] = {
    "meeting": _meeting_fields,
    "aid_delivery": _aid_fields,
    "diplomatic_protest": _protest_fields,
}
"""The columns only one event type fills, by type; other types fill the generic ones."""


def _claim_fields(claim: Claim) -> Row:
    quote = claim.quote
    return {
        "record_kind": "claim",
        "record_id": claim.id,
        "type": "claim",
        "summary": claim.text,
        **_party("speaker", claim.speaker),
        "speaker_title": claim.speaker.title,
        "countries": sorted({a.country for a in claim.actors() if a.country}),
        "reported_via": claim.reported_via,
        "quote": quote.quote if quote else None,
        "quote_start": quote.start if quote else None,
        "quote_end": quote.end if quote else None,
        "quote_type": claim.quote_type.value,
        "claim_type": claim.claim_type.value,
        "stance": claim.stance.value if claim.stance else None,
        "about": claim.about,
        "evidence": _evidence_json(claim.evidence),
        "confidence": claim.confidence,
        "cameo": claim.cameo,
    }


def _roles_json(record: Record) -> str:
    """The record's roles as JSON: role name → actor object, or array of them."""
    roles = {
        name: [a.model_dump(mode="json") for a in value]
        if isinstance(value, list)
        else value.model_dump(mode="json")
        for name, value in record.roles().items()
    }
    return json.dumps(roles, ensure_ascii=False)


def _name(actor: Actor | None) -> str | None:
    """The English canonical name when known, else the name as written."""
    return (actor.canonical_name or actor.name) if actor is not None else None


def _party(role: str, actor: Actor) -> Row:
    return {role: _name(actor), f"{role}_country": actor.country}


def _codes(actors: Iterable[Actor]) -> list[str]:
    return list(dict.fromkeys(actor.country for actor in actors if actor.country))


def _evidence_json(evidence: list[Evidence]) -> str:
    return json.dumps([item.model_dump(mode="json") for item in evidence], ensure_ascii=False)


# -- reading results -------------------------------------------------------------------------


def read_results(path: Path | str) -> Iterator[ExtractionResult | InputError]:
    """The results in an ``eventx extract`` output file, read line by line; a line that is
    not a valid result yields an :class:`InputError` naming the line."""
    path = Path(path)
    try:
        stream = path.open("rb")
    except OSError as error:
        raise InputError(f"cannot read {path}: {error.strerror}", article_id=path.stem) from None
    with stream:
        for number, line in enumerate(stream, start=1):
            if line.strip():
                yield _parsed_result(line, f"{path}:{number}")


def load_results(path: Path | str) -> list[ExtractionResult]:
    """Every result in an ``eventx extract`` output file.

    Raises:
        InputError: naming the file and line of the first line that is not a result.
    """
    results = []
    for item in read_results(path):
        if isinstance(item, InputError):
            raise item
        results.append(item)
    return results


def _parsed_result(line: bytes, where: str) -> ExtractionResult | InputError:
    try:
        return ExtractionResult.model_validate_json(line)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(map(str, first["loc"]))
        detail = f"{location}: {first['msg']}" if location else first["msg"]
        return InputError(f"{where}: not an extraction result ({detail})", article_id=where)


# -- writers ---------------------------------------------------------------------------------


class ResultWriter(ABC):
    """Writes the rows of extraction results to a table file, one result at a time."""

    def __init__(self, path: Path | str, *, include_errors: bool = True) -> None:
        self.path = Path(path)
        self.include_errors = include_errors
        self.results = 0
        self.rows = 0

    def write(self, result: ExtractionResult) -> int:
        """Write the rows of one result; returns how many rows it gave."""
        rows = list(result_rows(result, include_errors=self.include_errors))
        for row in rows:
            self._write_row(row)
        self.results += 1
        self.rows += len(rows)
        return len(rows)

    @abstractmethod
    def _write_row(self, row: Row) -> None: ...

    @abstractmethod
    def close(self) -> None:
        """Flush everything and close the file."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class CsvResultWriter(ResultWriter):
    """CSV, UTF-8, header first; lists and nested values as JSON text, empty for null."""

    def __init__(self, path: Path | str, *, include_errors: bool = True) -> None:
        super().__init__(path, include_errors=include_errors)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file)
        self._csv.writerow(COLUMN_NAMES)

    def write(self, result: ExtractionResult) -> int:
        """Write the rows of one result and flush them to the file."""
        written = super().write(result)
        self._file.flush()
        return written

    def _write_row(self, row: Row) -> None:
        self._csv.writerow(_csv_value(row[name]) for name in COLUMN_NAMES)

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()


def _csv_value(value: Any) -> Any:
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    return value


class ParquetResultWriter(ResultWriter):
    """Parquet with the fixed schema of :data:`COLUMNS`, written in row groups.

    The file is readable once closed (Parquet keeps its index in a footer); after a
    crash, rebuild it from the JSONL output with ``eventx convert``."""

    def __init__(
        self,
        path: Path | str,
        *,
        include_errors: bool = True,
        row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
    ) -> None:
        pq = _pyarrow("pyarrow.parquet")  # imported here: only Parquet output needs it
        super().__init__(path, include_errors=include_errors)
        self.row_group_size = row_group_size
        self.schema = parquet_schema()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._parquet = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._buffer: dict[str, list[Any]] = {name: [] for name in COLUMN_NAMES}
        self._buffered = 0

    @property
    def pending_rows(self) -> int:
        """Rows held in memory for the next row group."""
        return self._buffered

    def _write_row(self, row: Row) -> None:
        for name in COLUMN_NAMES:
            self._buffer[name].append(row[name])
        self._buffered += 1
        if self._buffered >= self.row_group_size:
            self._flush()

    def _flush(self) -> None:
        pa = _pyarrow("pyarrow")
        if self._buffered:
            self._parquet.write_table(pa.Table.from_pydict(self._buffer, schema=self.schema))
        self._buffer = {name: [] for name in COLUMN_NAMES}
        self._buffered = 0

    def close(self) -> None:
        """Write the last row group and the file footer."""
        try:
            self._flush()
        finally:
            self._parquet.close()


def require_parquet() -> None:
    """Raise :class:`ConfigurationError` with the install hint when pyarrow is missing."""
    _pyarrow("pyarrow")


def _pyarrow(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(PARQUET_HINT) from None


def parquet_schema() -> Any:
    """The pyarrow schema of the Parquet table, column descriptions in field metadata."""
    pa = _pyarrow("pyarrow")

    types = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "date": pa.date32(),
        "strings": pa.list_(pa.string()),
        "floats": pa.list_(pa.float64()),
        "json": pa.string(),
    }
    fields = [
        pa.field(column.name, types[column.kind], metadata={"description": column.description})
        for column in COLUMNS
    ]
    metadata = {"eventx_version": __version__, "schema_version": SCHEMA_VERSION}
    return pa.schema(fields, metadata=metadata)


def table_format(path: Path | str, format: str | None = None) -> TableFormat:
    """The table format asked for, or the one ``path``'s suffix implies."""
    if format is not None:
        if format not in FORMATS.values():
            raise ConfigurationError(f"unknown table format {format!r}; use csv or parquet")
        return "csv" if format == "csv" else "parquet"
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ConfigurationError(
            f"cannot tell the table format from {str(path)!r}; name it .csv or .parquet "
            "or give the format"
        )
    return FORMATS[suffix]


def open_writer(
    path: Path | str,
    format: str | None = None,
    *,
    include_errors: bool = True,
    row_group_size: int = DEFAULT_ROW_GROUP_SIZE,
) -> ResultWriter:
    """A writer for ``path`` in ``format`` (``csv`` or ``parquet``; default: from the suffix).

    Use it as a context manager and call :meth:`ResultWriter.write` once per result.
    """
    if table_format(path, format) == "csv":
        return CsvResultWriter(path, include_errors=include_errors)
    return ParquetResultWriter(path, include_errors=include_errors, row_group_size=row_group_size)


def write_rows(
    results: Iterable[ExtractionResult],
    path: Path | str,
    format: str | None = None,
    *,
    include_errors: bool = True,
) -> int:
    """Write the rows of every result to ``path``; returns the number of rows written."""
    with open_writer(path, format, include_errors=include_errors) as writer:
        for result in results:
            writer.write(result)
    return writer.rows
