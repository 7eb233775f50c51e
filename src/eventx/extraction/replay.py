"""Recording and replaying HTTP exchanges with the model endpoint (vcrpy cassettes).

One cassette per article, ``<dir>/<article id>.yaml``, plus ``<dir>/recording.json``
with the model, mode and prompt hash the cassettes were recorded with. Requests
are matched on method, path and body, so a replay answers exactly the requests
that were recorded and fails loudly on any other. Credentials never reach a
cassette: authorization, api-key and cookie headers and ``api-key``/``key`` query
parameters are removed before anything is written, and cassettes are read with
YAML's safe loader.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import yaml

ReplayMode = Literal["replay", "record"]

METADATA_FILE = "recording.json"
SECRET_HEADERS = (
    "authorization",
    "api-key",
    "x-api-key",
    "openai-organization",
    "openai-project",
    "cookie",
    "set-cookie",
)
SECRET_QUERY_PARAMETERS = ("api-key", "key", "api_key")
MATCH_ON = ("method", "path", "body")
MAX_NAME_LENGTH = 150


@dataclass(frozen=True)
class RecordingInfo:
    """What a cassette directory was recorded with."""

    model: str
    mode: str
    prompt_hash: str
    eventx_version: str
    endpoint_path: str = "/v1"
    """URL path of the endpoint recorded against (no host: replays match on path)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The settings that shape the requests (:data:`REQUEST_SETTINGS`), as recorded: a
    replay uses them unless told otherwise, so it sends the requests that were recorded."""


REQUEST_SETTINGS = (
    "server",
    "schema_profile",
    "examples",
    "per_type",
    "claims_apart",
    "sweep_claims",
    "passes",
    "verify",
    "max_reasks",
    "max_output_tokens",
    "temperature",
    "clean",
    "max_chunk_tokens",
    "chunk_overlap_tokens",
)
"""Settings whose value changes what is sent: recorded with the cassettes."""


def cassette_name(article_id: str) -> str:
    """A file name for an article's cassette that cannot leave the cassette directory.

    An id that is not already a safe, short file name gets a hash of itself appended,
    so that ids differing only in the characters replaced (``..`` and ``.``, ``a/b``
    and ``a_b``) never share a cassette.
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", article_id).strip("._") or "article"
    if name != article_id or len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(article_id.encode("utf-8", "surrogatepass")).hexdigest()
        name = f"{name[:MAX_NAME_LENGTH]}-{digest[:12]}"
    return f"{name}.yaml"


class _SafeYamlSerializer(ModuleType):
    """vcrpy serializer that writes plain YAML and reads it with the safe loader."""

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:
        return yaml.safe_dump(cassette_dict, allow_unicode=True, sort_keys=False, width=120)

    @staticmethod
    def deserialize(cassette_string: str) -> dict[str, Any]:
        data = yaml.safe_load(cassette_string)
        return data if isinstance(data, dict) else {"interactions": [], "version": 1}


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    headers = response.get("headers", {})
    for name in list(headers):
        if name.lower() in SECRET_HEADERS:
            del headers[name]
    return response


class CassetteDeck:
    """The cassettes of one directory, for replaying or recording article by article."""

    def __init__(self, directory: Path | str, mode: ReplayMode) -> None:
        import vcr

        self.directory = Path(directory)
        self.mode = mode
        self._vcr = vcr.VCR(
            cassette_library_dir=str(self.directory),
            record_mode="none" if mode == "replay" else "all",
            match_on=MATCH_ON,
            filter_headers=SECRET_HEADERS,
            filter_query_parameters=SECRET_QUERY_PARAMETERS,
            before_record_response=_scrub_response,
            decode_compressed_response=True,
            serializer="safe_yaml",
        )
        self._vcr.register_serializer("safe_yaml", _SafeYamlSerializer("safe_yaml"))

    @contextmanager
    def cassette(self, article_id: str) -> Iterator[None]:
        """Replay or record the HTTP exchanges made inside the block for one article."""
        path = self.directory / cassette_name(article_id)
        if self.mode == "record":
            self.directory.mkdir(parents=True, exist_ok=True)
            path.unlink(missing_ok=True)
        with self._vcr.use_cassette(path.name, allow_playback_repeats=False):
            yield

    def has_cassette(self, article_id: str) -> bool:
        """True when a cassette exists for ``article_id``."""
        return (self.directory / cassette_name(article_id)).is_file()

    def write_info(self, info: RecordingInfo) -> None:
        """Write ``recording.json`` beside the cassettes."""
        self.directory.mkdir(parents=True, exist_ok=True)
        text = json.dumps(asdict(info), indent=2) + "\n"
        (self.directory / METADATA_FILE).write_text(text, encoding="utf-8")

    def read_info(self) -> RecordingInfo | None:
        """The recording's metadata, or None when the directory has none."""
        path = self.directory / METADATA_FILE
        if not path.is_file():
            return None
        return RecordingInfo(**json.loads(path.read_text(encoding="utf-8")))


def is_replay_miss(exception: BaseException | None) -> bool:
    """True when ``exception`` (or its cause) is a replay finding no recorded response."""
    if "vcr" not in sys.modules:
        return False
    from vcr.errors import CannotOverwriteExistingCassetteException

    seen: set[int] = set()
    while exception is not None and id(exception) not in seen:
        if isinstance(exception, CannotOverwriteExistingCassetteException):
            return True
        seen.add(id(exception))
        exception = exception.__cause__ or exception.__context__
    return False
