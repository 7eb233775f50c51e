"""Secrets: a planted API key never reaches cassettes, logs, outputs, run stores or reports;
cassettes are read with the safe YAML loader; ids from inputs cannot steer where files go."""

from __future__ import annotations

import json
import logging
import secrets
import threading
import traceback
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from eventx import ApiError, Extractor
from eventx.cli import main
from eventx.extraction.redact import REDACTED, redact
from eventx.extraction.replay import CassetteDeck
from eventx.models import Article
from tests.llm_server.server import ScriptedLLM, first_sentence_meeting

ARTICLE = (
    "Kyiv, 14 May. Foreign Minister Andrii Sybiha met Mihai Popșoi in Kyiv on energy talks.\n"
    "The talks were about gas transit and the grid.\n"
)


@pytest.fixture
def canary() -> str:
    return f"sk-eventx-canary-{secrets.token_hex(12)}"


@pytest.fixture
def any_article_server() -> Iterator[ScriptedLLM]:
    with ScriptedLLM({}, fallback=first_sentence_meeting) as server:
        yield server


class EchoingProxy:
    """Refuses every request with 401, echoing the Authorization header in the error body
    the way some proxies and gateways do."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet."""

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                self._refuse()

            def do_GET(self) -> None:
                self._refuse()

            def _refuse(self) -> None:
                credentials = self.headers.get("authorization", "")
                proxy.seen.append(credentials)
                error = {
                    "message": f"Incorrect API key provided: {credentials}. Key {credentials[7:]}",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
                data = json.dumps({"error": error}).encode()
                self.send_response(401)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def __enter__(self) -> EchoingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def proxy() -> Iterator[EchoingProxy]:
    with EchoingProxy() as proxy:
        yield proxy


def _invoke(arguments: list[str], **env: str) -> Result:
    return CliRunner().invoke(main, arguments, env=env, catch_exceptions=False)


def _leaks(texts: dict[str, str], canary: str) -> list[str]:
    """Where the key, or any bearer credential, shows up."""
    return [where for where, text in texts.items() if canary in text or "bearer " in text.lower()]


def _written(root: Path) -> dict[str, str]:
    """Every file under ``root`` as text: Parquet decoded, everything else read raw."""
    texts = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            texts[str(path)] = json.dumps(pq.read_table(path).to_pylist(), default=str)
        else:
            texts[str(path)] = path.read_bytes().decode("utf-8", errors="replace")
    return texts


def _write_feed(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    feed = directory / "feed.jsonl"
    lines = [{"id": "kyiv", "text": ARTICLE}, {"id": "chisinau", "text": "Chisinau. " + ARTICLE}]
    feed.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return feed


def test_a_planted_key_reaches_no_file_log_or_output(
    any_article_server: ScriptedLLM,
    proxy: EchoingProxy,
    canary: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    feed = _write_feed(tmp_path / "in")
    out = tmp_path / "out"
    captured: dict[str, str] = {}

    def run(name: str, arguments: list[str], **env: str) -> Result:
        outcome = _invoke(arguments, **env)
        captured[f"{name}: stdout"] = outcome.stdout
        captured[f"{name}: stderr"] = outcome.stderr
        return outcome

    good = any_article_server.base_url
    recorded = run(
        "record",
        [
            "-v",
            "extract",
            str(feed),
            "-o",
            str(out / "recorded.jsonl"),
            "--base-url",
            good,
            "--record",
            str(out / "cassettes"),
        ],
        EVENTX_API_KEY=canary,
    )
    assert recorded.exit_code == 0, recorded.output
    refused = run(
        "401",
        [
            "-v",
            "extract",
            str(feed),
            "-o",
            str(out / "refused.jsonl"),
            "--base-url",
            proxy.base_url,
        ],
        OPENAI_API_KEY=canary,
    )
    assert refused.exit_code == 1, refused.output
    assert proxy.seen  # the key was sent, and echoed back
    assert all(canary in seen for seen in proxy.seen)
    for name in ("refused.csv", "refused.parquet"):
        outcome = run(name, ["convert", str(out / "refused.jsonl"), "-o", str(out / name)])
        assert outcome.exit_code == 0, outcome.output
    report = run("report", ["report", str(out / "refused.jsonl"), "-o", str(out / "r.html")])
    assert report.exit_code == 0, report.output
    for name in ("direct.csv", "direct.parquet"):
        table = run(
            name,
            ["extract", str(feed), "-o", str(out / name), "--base-url", proxy.base_url],
            EVENTX_API_KEY=canary,
        )
        assert table.exit_code == 1, table.output
        assert (out / name).is_file()
    submit = run(
        "batch submit",
        [
            "batch",
            "submit",
            str(feed),
            "-o",
            str(out / "batch.jsonl"),
            "--base-url",
            proxy.base_url,
        ],
        EVENTX_API_KEY=canary,
    )
    assert submit.exit_code != 0
    assert "HTTP 401" in submit.output
    assert "could not upload the request file" in submit.output

    rows = [json.loads(line) for line in (out / "refused.jsonl").read_text().splitlines()]
    assert [row["error"]["category"] for row in rows] == ["api", "api"]
    assert all(REDACTED in row["error"]["message"] for row in rows)
    assert {"recorded.jsonl.eventx.db", "refused.jsonl.eventx.db"} <= {
        path.name for path in out.iterdir()
    }
    assert (out / "cassettes" / "kyiv.yaml").is_file()
    logs = {f"log: {record.name}": record.getMessage() for record in caplog.records}
    assert logs  # -v logged the requests
    everything = {**_written(tmp_path), **captured, **logs}
    assert _leaks(everything, canary) == []


def test_the_key_passed_as_an_argument_stays_out_of_error_records(
    proxy: EchoingProxy, canary: str
) -> None:
    with Extractor(base_url=proxy.base_url, api_key=canary) as extractor:
        result = extractor.extract(Article(id="kyiv", text=ARTICLE), on_error="record")
    assert result.error is not None
    assert "HTTP 401" in result.error.message
    assert "Incorrect API key provided: [redacted] Key [redacted]" in result.error.message
    assert _leaks({"result": result.model_dump_json()}, canary) == []
    assert canary not in repr(extractor.settings)


def test_a_raised_api_error_and_its_traceback_carry_no_key(
    proxy: EchoingProxy, canary: str
) -> None:
    with (
        Extractor(base_url=proxy.base_url, api_key=canary) as extractor,
        pytest.raises(ApiError) as raised,
    ):
        extractor.extract(Article(id="kyiv", text=ARTICLE))
    printed = "".join(traceback.format_exception(raised.value))
    assert "Incorrect API key provided" in printed  # the cause is kept, scrubbed
    assert _leaks({"traceback": printed}, canary) == []


def test_redact_removes_configured_keys_bearer_credentials_and_secret_keys() -> None:
    text = (
        "bad key sk-proj-ABCDEF123456 (Authorization: Bearer eyJhbGciOi.J9-x_y) for token "
        "s3cr3t-t0ken; bearer tokens only"
    )
    cleaned = redact(text, ["s3cr3t-t0ken", None, "replay"])
    assert cleaned == (
        "bad key [redacted] (Authorization: [redacted]) for token [redacted]; bearer tokens only"
    )
    assert redact("replay the cassette", ["replay"]) == "replay the cassette"


# -- cassettes are data, never code -------------------------------------------------------------

EVIL = """\
interactions:
- request: !!python/object/apply:os.system ["touch {marker}"]
  response: {{}}
version: 1
"""


def test_a_cassette_with_python_tags_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    marker = tmp_path / "pwned"
    (cassettes / "kyiv.yaml").write_text(EVIL.format(marker=marker), encoding="utf-8")
    info = {"model": "gpt-4o-mini", "mode": "tools", "prompt_hash": "", "eventx_version": "0"}
    deck = CassetteDeck(cassettes, "replay")
    prompt_hash = Extractor(base_url="http://replay.invalid/v1").prompt_hash
    (cassettes / "recording.json").write_text(json.dumps({**info, "prompt_hash": prompt_hash}))
    feed = _write_feed(tmp_path / "in")
    outcome = _invoke(
        ["extract", str(feed), "-o", str(tmp_path / "out.jsonl"), "--replay", str(cassettes)]
    )
    assert not marker.exists()
    assert outcome.exit_code == 1, outcome.output
    rows = {
        row["article_id"]: row
        for row in map(json.loads, (tmp_path / "out.jsonl").read_text().splitlines())
    }
    assert "python/object/apply" in rows["kyiv"]["error"]["message"]
    assert rows["chisinau"]["error"]["category"] == "replay"  # no cassette: its own error
    with pytest.raises(Exception, match="python/object/apply"), deck.cassette("kyiv"):
        pass
    assert not marker.exists()


# -- ids from inputs cannot choose where files go --------------------------------------------

HOSTILE_IDS = [
    "../../escaped",
    "/tmp/absolute-eventx-escape",
    "nul\u0000id",
    "..",
    ".",
    "a/../../b",
]


def test_ids_from_a_feed_never_place_a_file_outside_the_output_location(
    any_article_server: ScriptedLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "deep" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    lines = [{"id": key, "text": f"{ARTICLE}Round {n}."} for n, key in enumerate(HOSTILE_IDS)]
    Path("feed.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    before = {p for p in Path("/tmp").iterdir() if "eventx-escape" in p.name}
    outcome = _invoke(
        [
            "extract",
            "feed.jsonl",
            "-o",
            "out/events.jsonl",
            "--base-url",
            any_article_server.base_url,
            "--record",
            "cassettes",
        ]
    )
    assert outcome.exit_code == 0, outcome.output
    report = _invoke(["report", "out/events.jsonl", "-o", "out/report.html"])
    assert report.exit_code == 0, report.output
    table = _invoke(["convert", "out/events.jsonl", "-o", "out/events.parquet"])
    assert table.exit_code == 0, table.output
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    inside = {name for name in written if name.startswith("deep/work/")}
    assert written == inside
    cassettes = sorted(p.name for p in (work / "cassettes").iterdir())
    assert len(cassettes) == len(HOSTILE_IDS) + 1  # one per article, plus recording.json
    assert all("/" not in name and "\x00" not in name for name in cassettes)
    assert {p for p in Path("/tmp").iterdir() if "eventx-escape" in p.name} == before
    lines = Path("out/events.jsonl").read_text(encoding="utf-8").splitlines()
    ids = [json.loads(line)["article_id"] for line in lines]
    assert sorted(ids) == sorted(HOSTILE_IDS)
