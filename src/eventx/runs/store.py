"""The run store: an embedded SQLite database that makes batch runs resumable.

One row per article (pending / done / failed, attempts, failure category and
message, usage, the result itself) and a response cache keyed by a hash of what
was sent (model, mode, prompt, schema version, article), so that a re-run never
pays twice for the same answer. Every finished article gets a ``finished_seq``,
the order in which results were committed: the JSONL output holds exactly the
finished results in that order, which is how a resumed run knows what the output
already has (see :mod:`eventx.runs.runner`).

Schema changes are named, append-only migrations (:data:`MIGRATIONS`): a database
records the ones applied, and new ones run on open. Never edit a migration that
has shipped; append a new one.

The database runs in WAL mode with ``synchronous=NORMAL``: a commit survives the
process being killed at any moment (SIGKILL included); only a power cut can lose
the last commits.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from eventx.errors import ConfigurationError
from eventx.models import Article, ExtractionResult

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_articles",
        """
        CREATE TABLE articles (
            id TEXT PRIMARY KEY,
            content_hash TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            category TEXT,
            message TEXT,
            requests INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cost_usd REAL,
            result TEXT,
            finished_seq INTEGER UNIQUE,
            seen_pass INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX articles_status ON articles (status);
        """,
    ),
    (
        "0002_responses",
        """
        CREATE TABLE responses (
            key TEXT PRIMARY KEY,
            result TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        "0003_run_settings",
        """
        CREATE TABLE run_settings (
            name TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    ),
    (
        "0004_batches",
        """
        CREATE TABLE batches (
            id TEXT PRIMARY KEY,
            input_file_id TEXT NOT NULL,
            request_count INTEGER NOT NULL,
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            collected_at TEXT
        );
        CREATE TABLE batch_requests (
            custom_id TEXT PRIMARY KEY,
            article_id TEXT NOT NULL,
            batch_id TEXT,
            article TEXT NOT NULL
        );
        CREATE INDEX batch_requests_batch ON batch_requests (batch_id);
        """,
    ),
    (
        "0005_batch_progress",
        """
        ALTER TABLE batches ADD COLUMN completed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE batches ADD COLUMN failed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE batch_requests ADD COLUMN collected_at TEXT;
        """,
    ),
]


class Status(StrEnum):
    """Where an article stands in a run."""

    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


class Admission(StrEnum):
    """What to do with an article met in the inputs."""

    WORK = "work"
    """New, still pending from an interrupted run, or its text changed: extract it."""
    FINISHED = "finished"
    """Done or failed in an earlier pass: its result is already in the store."""
    DUPLICATE = "duplicate"
    """Its id was already met in this pass: a second article with the same id."""


@dataclass(frozen=True)
class StoreCounts:
    """Articles per status."""

    pending: int = 0
    done: int = 0
    failed: int = 0

    @property
    def finished(self) -> int:
        """Done plus failed."""
        return self.done + self.failed


def content_hash(article: Article) -> str:
    """A hash of everything about an article that reaches the model."""
    parts = [article.text, article.title, str(article.published_at)]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def cache_key(fingerprint: dict[str, str], article: Article) -> str:
    """The response-cache key: the run's model, mode, prompt and schema, and the article."""
    parts = [fingerprint, content_hash(article)]
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def default_db_path(output: Path | str) -> Path:
    """The run store kept beside an output file: ``events.jsonl`` → ``events.jsonl.eventx.db``."""
    return Path(str(output) + ".eventx.db")


def utc_now() -> str:
    """The current UTC time as ISO 8601, to the second: the store's timestamps."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunStore:
    """A run's SQLite database. ``path=None`` keeps it in memory (nothing to resume)."""

    def __init__(self, path: Path | str | None) -> None:
        self.path = Path(path) if path is not None else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(str(self.path) if self.path else ":memory:")
        except sqlite3.Error as error:
            raise ConfigurationError(f"cannot open the run store {self.path}: {error}") from None
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._pass = 0
        self._migrate()

    # -- lifecycle ------------------------------------------------------------------

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def applied_migrations(self) -> list[str]:
        """Names of the migrations this database has, in order."""
        rows = self._db.execute("SELECT name FROM migrations ORDER BY rowid")
        return [name for (name,) in rows]

    def _migrate(self) -> None:
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
            )
        applied = set(self.applied_migrations())
        for name, sql in MIGRATIONS:
            if name not in applied:  # the migration and its record commit together
                record = f"INSERT INTO migrations VALUES ('{name}', '{utc_now()}');"
                self._db.executescript(f"BEGIN; {sql}; {record} COMMIT;")

    # -- run settings -----------------------------------------------------------------

    def bind(self, fingerprint: dict[str, str]) -> None:
        """Tie the store to one model, mode, prompt and schema; refuse a different one.

        Raises:
            ConfigurationError: when the store holds results made with other settings.
        """
        stored = self._setting("fingerprint")
        if stored is None:
            self._set_setting("fingerprint", json.dumps(fingerprint, sort_keys=True))
            return
        previous = json.loads(stored)
        if previous != fingerprint:
            changed = ", ".join(
                f"{key} {previous.get(key)!r} → {fingerprint.get(key)!r}"
                for key in sorted(set(previous) | set(fingerprint))
                if previous.get(key) != fingerprint.get(key)
            )
            raise ConfigurationError(
                f"the run store {self.path} holds results made with other settings "
                f"({changed}); choose another output or --db, or pass --restart to start over"
            )

    def fingerprint(self) -> dict[str, str] | None:
        """The model, mode, prompt and schema the store is bound to; None before the first run."""
        stored = self._setting("fingerprint")
        return None if stored is None else dict(json.loads(stored))

    def restart(self) -> None:
        """Forget every article and the run's settings (the response cache stays)."""
        with self._db:
            self._db.execute("DELETE FROM articles")
            self._db.execute("DELETE FROM run_settings")

    def _setting(self, name: str) -> str | None:
        row = self._db.execute("SELECT value FROM run_settings WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def _set_setting(self, name: str, value: str) -> None:
        with self._db:
            self._db.execute("INSERT OR REPLACE INTO run_settings VALUES (?, ?)", (name, value))

    # -- articles ---------------------------------------------------------------------

    def begin_pass(self) -> None:
        """Start a pass over the inputs: each article id may be met once per pass."""
        row = self._db.execute("SELECT COALESCE(MAX(seen_pass), 0) FROM articles").fetchone()
        self._pass = int(row[0]) + 1

    def admit(self, article_id: str, digest: str) -> Admission:
        """Record that the inputs hold ``article_id`` with content ``digest``; say what to do."""
        row = self._db.execute(
            "SELECT status, content_hash, seen_pass FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        with self._db:
            if row is None:
                self._db.execute(
                    "INSERT INTO articles (id, content_hash, status, seen_pass, updated_at) "
                    "VALUES (?, ?, 'pending', ?, ?)",
                    (article_id, digest, self._pass, utc_now()),
                )
                return Admission.WORK
            status, stored_digest, seen_pass = row
            if seen_pass == self._pass:
                return Admission.DUPLICATE
            self._db.execute(
                "UPDATE articles SET seen_pass = ? WHERE id = ?", (self._pass, article_id)
            )
        if status == Status.PENDING:
            return Admission.WORK
        if stored_digest != digest:
            self._unfinish("id = ?", (article_id,), digest)
            return Admission.WORK
        return Admission.FINISHED

    def retry_failed(self) -> int:
        """Put every failed article back to pending; return how many."""
        return self._unfinish("status = 'failed'", ())

    def _unfinish(self, where: str, params: tuple[Any, ...], digest: str | None = None) -> int:
        with self._db:
            cursor = self._db.execute(
                "UPDATE articles SET status = 'pending', finished_seq = NULL, result = NULL, "
                f"content_hash = COALESCE(?, content_hash), updated_at = ? WHERE {where}",
                (digest, utc_now(), *params),
            )
        return cursor.rowcount

    def finish(self, result: ExtractionResult, digest: str, cache_key: str | None = None) -> int:
        """Commit one article's result (and cache it when it succeeded); return its sequence."""
        usage = result.usage
        error = result.error
        line = result.model_dump_json()
        with self._db:
            (seq,) = self._db.execute(
                "SELECT COALESCE(MAX(finished_seq), 0) + 1 FROM articles"
            ).fetchone()
            self._db.execute(
                "INSERT INTO articles (id, content_hash, status, attempts, category, message, "
                "requests, prompt_tokens, completion_tokens, cost_usd, result, finished_seq, "
                "seen_pass, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET content_hash = excluded.content_hash, "
                "status = excluded.status, attempts = excluded.attempts, "
                "category = excluded.category, message = excluded.message, "
                "requests = excluded.requests, prompt_tokens = excluded.prompt_tokens, "
                "completion_tokens = excluded.completion_tokens, cost_usd = excluded.cost_usd, "
                "result = excluded.result, finished_seq = excluded.finished_seq, "
                "updated_at = excluded.updated_at",
                (
                    result.article_id,
                    digest,
                    Status.FAILED if error else Status.DONE,
                    result.attempts,
                    error.category.value if error else None,
                    error.message if error else None,
                    usage.requests,
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.cost_usd,
                    line,
                    seq,
                    self._pass,
                    utc_now(),
                ),
            )
            if cache_key is not None and error is None:
                self._db.execute(
                    "INSERT OR REPLACE INTO responses VALUES (?, ?, ?)",
                    (cache_key, line, utc_now()),
                )
        return int(seq)

    def cached(self, key: str) -> ExtractionResult | None:
        """The cached successful result for ``key``, if any."""
        row = self._db.execute("SELECT result FROM responses WHERE key = ?", (key,)).fetchone()
        return None if row is None else ExtractionResult.model_validate_json(row[0])

    def finished_results(self, skip: int = 0) -> Iterator[ExtractionResult]:
        """Finished results in commit order, after the first ``skip`` (read lazily)."""
        for line in self.finished_lines(skip):
            yield ExtractionResult.model_validate_json(line)

    def finished_lines(self, skip: int = 0) -> Iterator[str]:
        """Finished results as the JSON written for them, in commit order, after ``skip``."""
        cursor = self._db.execute(
            "SELECT result FROM articles WHERE finished_seq IS NOT NULL "
            "ORDER BY finished_seq LIMIT -1 OFFSET ?",
            (skip,),
        )
        for (line,) in cursor:
            yield str(line)

    def finished_line(self, position: int) -> str | None:
        """The JSON of the ``position``-th finished result (1-based), if any."""
        return next(self.finished_lines(position - 1), None) if position > 0 else None

    def is_pending(self, article_id: str, digest: str) -> bool:
        """True when ``article_id`` waits for a result and its text still hashes to ``digest``."""
        row = self._db.execute(
            "SELECT status, content_hash FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return row is not None and tuple(row) == (Status.PENDING.value, digest)

    def counts(self) -> StoreCounts:
        """How many articles are pending, done and failed."""
        rows = self._db.execute("SELECT status, COUNT(*) FROM articles GROUP BY status")
        return StoreCounts(**dict(rows))

    def status(self, article_id: str) -> tuple[Status, int] | None:
        """(status, attempts) of one article, or None when the store has not met it."""
        row = self._db.execute(
            "SELECT status, attempts FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        return None if row is None else (Status(row[0]), int(row[1]))

    @property
    def connection(self) -> sqlite3.Connection:
        """The SQLite connection, for modules that keep their own tables in the store (the
        Batch API ledger); the ``articles``, ``responses`` and ``run_settings`` tables are
        read and written through this class only."""
        return self._db
