"""The run store's record of Batch API jobs: which batches exist, which articles they hold.

Tables ``batches`` and ``batch_requests`` (see :data:`eventx.runs.store.MIGRATIONS`). A
request is *open* until its answer has been committed as the article's result;
a batch is *collected* once every one of its requests has been settled. Both
marks make ``eventx batch collect`` idempotent: a collected batch is never
fetched again, and a request settled before an interruption is not run again.


"""

from __future__ import annotations

from dataclasses import dataclass

from eventx.models import Article
from eventx.runs.store import RunStore, content_hash, utc_now


@dataclass(frozen=True)
class BatchInfo:
    """One Batch API job as the run store knows it."""

    id: str
    status: str
    """The provider's status: validating, in_progress, finalizing, completed, failed,
    expired, cancelling or cancelled."""
    completed: int
    failed: int
    total: int
    created_at: str
    collected_at: str | None = None

    @property
    def collected(self) -> bool:
        """True once every answer of the batch is in the store."""
        return self.collected_at is not None


@dataclass(frozen=True)
class OpenRequest:
    """A request of a batch whose answer is not yet committed."""

    custom_id: str
    article: Article


class BatchLedger:
    """Reads and writes the batch tables of one :class:`~eventx.runs.store.RunStore`."""

    def __init__(self, store: RunStore) -> None:
        self._store = store
        self._db = store.connection

    def pending_custom_ids(self) -> set[str]:
        """Custom ids of requests waiting in a batch that is not collected yet."""
        rows = self._db.execute(
            "SELECT r.custom_id FROM batch_requests r JOIN batches b ON r.batch_id = b.id "
            "WHERE r.collected_at IS NULL AND b.collected_at IS NULL"
        )
        return {custom_id for (custom_id,) in rows}

    def record_batch(
        self, batch: BatchInfo, input_file_id: str, requests: list[OpenRequest]
    ) -> None:
        """Remember a batch just created and the article behind each of its requests."""
        with self._db:
            self._db.execute(
                "INSERT INTO batches (id, input_file_id, request_count, status, created_at, "
                "completed, failed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    batch.id,
                    input_file_id,
                    len(requests),
                    batch.status,
                    batch.created_at,
                    batch.completed,
                    batch.failed,
                ),
            )
            self._db.executemany(
                "INSERT OR REPLACE INTO batch_requests "
                "(custom_id, article_id, batch_id, article, collected_at) "
                "VALUES (?, ?, ?, ?, NULL)",
                [
                    (r.custom_id, r.article.id, batch.id, r.article.model_dump_json())
                    for r in requests
                ],
            )

    def update(self, batch: BatchInfo) -> None:
        """Store the status and counts last reported by the provider."""
        with self._db:
            self._db.execute(
                "UPDATE batches SET status = ?, completed = ?, failed = ? WHERE id = ?",
                (batch.status, batch.completed, batch.failed, batch.id),
            )

    def batches(self, *, uncollected_only: bool = False) -> list[BatchInfo]:
        """Every batch of the run (or the uncollected ones), oldest first."""
        where = " WHERE collected_at IS NULL" if uncollected_only else ""
        rows = self._db.execute(
            "SELECT id, status, completed, failed, request_count, created_at, collected_at "
            f"FROM batches{where} ORDER BY created_at, rowid"
        )
        return [BatchInfo(*row) for row in rows]

    def open_custom_ids(self, batch_id: str) -> list[str]:
        """Custom ids of ``batch_id``'s requests whose answers are not committed."""
        rows = self._db.execute(
            "SELECT custom_id FROM batch_requests "
            "WHERE batch_id = ? AND collected_at IS NULL ORDER BY rowid",
            (batch_id,),
        )
        return [custom_id for (custom_id,) in rows]

    def request(self, custom_id: str) -> OpenRequest:
        """The request with ``custom_id`` and the article it was made for."""
        row = self._db.execute(
            "SELECT article FROM batch_requests WHERE custom_id = ?", (custom_id,)
        ).fetchone()
        return OpenRequest(custom_id, Article.model_validate_json(row[0]))

    def still_wanted(self, request: OpenRequest) -> bool:
        """True when the article still waits for this answer: pending, with the same text.

        False when it was finished meanwhile (by an interrupted collect, or a live run
        on the same store), or its text changed since it was submitted.
        """
        return self._store.is_pending(request.article.id, content_hash(request.article))

    def settle(self, custom_id: str) -> None:
        """Mark one request as settled: its answer (or failure) is committed."""
        with self._db:
            self._db.execute(
                "UPDATE batch_requests SET collected_at = ? WHERE custom_id = ?",
                (utc_now(), custom_id),
            )

    def mark_collected(self, batch_id: str) -> None:
        """Mark a batch as fully collected: it is never fetched again."""
        with self._db:
            self._db.execute(
                "UPDATE batches SET collected_at = ? WHERE id = ?", (utc_now(), batch_id)
            )
