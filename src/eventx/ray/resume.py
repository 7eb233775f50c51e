"""Resuming without a database: what an output location already holds, and the anti-join.

Ray writes each block of results to its own file; a job killed mid-write can leave a
file cut short (a Parquet file without its footer, a JSON-lines file ending mid-line) or,
when a write splits an article's rows over files, an article only partly written. So
the scan of an output location (:func:`scan_output`) trusts a file only when it reads
in full and every article in it of this run's fingerprint is complete (its rows number
its ``article_rows``, counted over all trusted files). Files that fail are set aside:
renamed to a hidden ``.NAME.incomplete``, which neither Ray, pyarrow nor this scan reads
again, and their articles are extracted again. What remains holds every article it
holds exactly once.

The finished articles are kept as sorted 16-byte digests of their ids (16 bytes an
article, shared zero-copy by the workers of a node), and :func:`drop_finished` removes
them from a batch of articles by binary search: an anti-join that streams and needs no
shuffle.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from eventx.ray.rows import ARTICLE_ROWS, FINGERPRINT, KEY_COLUMNS

DIGEST = np.dtype("S16")
PARQUET_SUFFIXES = (".parquet",)
JSON_SUFFIXES = (".json", ".jsonl")
SET_ASIDE = ".incomplete"

Digests = npt.NDArray[np.bytes_]
logger = logging.getLogger("eventx.ray")


def digest(article_id: str) -> bytes:
    """The 16-byte key of an article id (BLAKE2b; a collision is beyond practical reach)."""
    return hashlib.blake2b(article_id.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def digests_of(ids: Iterable[object]) -> Digests:
    """The keys of ``ids``, as an array."""
    return np.array([digest(str(article_id)) for article_id in ids], dtype=DIGEST)


@dataclass
class Finished:
    """What an output location holds of one run's fingerprint."""

    digests: Digests = field(default_factory=lambda: np.array([], dtype=DIGEST))
    """Sorted, unique keys of the articles written in full."""
    set_aside: list[str] = field(default_factory=list)
    """Files renamed out of the way: cut short, or holding a partly written article."""
    files: int = 0
    """Files read in full."""

    @property
    def articles(self) -> int:
        """Articles written in full."""
        return len(self.digests)


@dataclass
class _File:
    path: str
    digests: Digests
    expected: npt.NDArray[np.int64]


def scan_output(location: str, fingerprint: str) -> Finished:
    """The articles of ``fingerprint`` written in full under ``location`` (a directory or
    URI: ``out/``, ``s3://bucket/out``); files cut short are set aside first.

    Articles of other fingerprints are left alone and do not count as finished.
    """
    filesystem, root = pafs.FileSystem.from_uri(_as_uri(location))
    finished = Finished()
    files: list[_File] = []
    for path in _result_files(filesystem, root):
        read = _read_keys(filesystem, path, fingerprint)
        if read is None:
            finished.set_aside.append(_set_aside(filesystem, path))
        else:
            files.append(read)
    complete, partial = _complete(files)
    finished.set_aside += [_set_aside(filesystem, item.path) for item in partial]
    finished.files = len(complete)
    if complete:
        finished.digests = np.unique(np.concatenate([item.digests for item in complete]))
    return finished


def is_finished(finished: Digests, article_id: str) -> bool:
    """True when ``article_id`` is among ``finished`` (sorted digests)."""
    key = digests_of([article_id])
    found = int(np.searchsorted(finished, key)[0])
    return found < len(finished) and bool(finished[found] == key[0])


def drop_finished(batch: pa.Table, finished: Digests) -> pa.Table:
    """The rows of a batch of articles whose ``id`` is not among ``finished``."""
    if not len(finished) or not batch.num_rows:
        return batch
    keys = digests_of(batch.column("id").to_pylist())
    found = np.searchsorted(finished, keys)
    hit = finished[np.minimum(found, len(finished) - 1)] == keys
    return batch.filter(pa.array(~hit))


def _as_uri(location: str) -> str:
    if "://" in location:
        return location
    from pathlib import Path

    return Path(location).resolve().as_uri()


def _result_files(filesystem: pafs.FileSystem, root: str) -> list[str]:
    selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
    return sorted(
        info.path
        for info in filesystem.get_file_info(selector)
        if info.type == pafs.FileType.File
        and not info.base_name.startswith((".", "_"))
        and info.base_name.endswith(PARQUET_SUFFIXES + JSON_SUFFIXES)
    )


def _read_keys(filesystem: pafs.FileSystem, path: str, fingerprint: str) -> _File | None:
    """The keys a file holds for ``fingerprint``; None when it cannot be read in full.
    A readable file that is not an eventx output holds none (and is left alone)."""
    try:
        columns = (
            _parquet_keys(filesystem, path)
            if path.endswith(PARQUET_SUFFIXES)
            else _json_keys(filesystem, path)
        )
    except (OSError, ValueError, pa.ArrowException):
        return None
    ids, prints, expected = columns or ([], [], [])
    ours = [index for index, value in enumerate(prints) if value == fingerprint]
    return _File(
        path,
        digests_of(ids[index] for index in ours),
        np.array([expected[index] for index in ours], dtype=np.int64),
    )


Keys = tuple[list[object], list[object], list[int]]


def _parquet_keys(filesystem: pafs.FileSystem, path: str) -> Keys | None:
    with filesystem.open_input_file(path) as stream:
        parquet = pq.ParquetFile(stream)
        if not set(KEY_COLUMNS) <= set(parquet.schema_arrow.names):
            return None
        table = parquet.read(columns=list(KEY_COLUMNS))
    return (
        table.column("article_id").to_pylist(),
        table.column(FINGERPRINT).to_pylist(),
        table.column(ARTICLE_ROWS).to_pylist(),
    )


def _json_keys(filesystem: pafs.FileSystem, path: str) -> Keys | None:
    with filesystem.open_input_stream(path) as stream:
        lines = stream.read().decode("utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    if rows and not all(isinstance(row, dict) and set(KEY_COLUMNS) <= row.keys() for row in rows):
        return None
    return (
        [row["article_id"] for row in rows],
        [row[FINGERPRINT] for row in rows],
        [int(row[ARTICLE_ROWS]) for row in rows],
    )


def _complete(files: list[_File]) -> tuple[list[_File], list[_File]]:
    """Files whose articles are all complete, counted over the files kept, and the rest.

    Setting a file aside can leave an article of another file short of rows, so this
    repeats until every kept file holds complete articles only.
    """
    kept, dropped = list(files), []
    while kept:
        keys = np.concatenate([item.digests for item in kept])
        if not len(keys):
            break
        expected = np.concatenate([item.expected for item in kept])
        owners = np.concatenate([np.full(len(item.digests), i) for i, item in enumerate(kept)])
        _, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
        short = counts[inverse] < expected
        if (counts[inverse] > expected).any():
            logger.warning("an article has more rows than it says: written twice?")
        bad = set(owners[short].tolist())
        if not bad:
            break
        dropped += [item for i, item in enumerate(kept) if i in bad]
        kept = [item for i, item in enumerate(kept) if i not in bad]
    return kept, dropped


def _set_aside(filesystem: pafs.FileSystem, path: str) -> str:
    """Rename a file cut short to a hidden name no reader picks up; the new path."""
    directory, _, name = path.rpartition("/")
    target = f"{directory}/.{name}{SET_ASIDE}"
    filesystem.move(path, target)
    logger.warning("set aside %s: cut short by a killed job; its articles run again", path)
    return target
