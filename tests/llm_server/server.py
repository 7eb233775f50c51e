"""A scripted OpenAI-compatible chat-completions server for recording cassettes and tests.

It is not a model. For each of the five seed articles it answers with the
hand-written extraction in ``answers/<article id>.json`` (what a strong model
returns, including a few of the small quoting deviations real models make). It
knows a seed by its text as stored or as eventx sends it after cleaning (every
line a piece of the seed, in order: :func:`is_cleaned_from`). Tests
and the recorder can also queue *steps* that make it misbehave: HTTP errors with
or without ``Retry-After``, malformed JSON, truncated output, refusals, connection
resets, slow answers, or any payload they choose.

The answer is shaped like the request asks: a forced tool call when ``tools`` are
sent, JSON content for ``response_format``, and a fenced JSON block otherwise
(MD_JSON). Token usage is counted with the o200k tokenizer (bpe-openai, a development
dependency), as a provider would. It listens on loopback only.

It also emulates the Batch API: ``POST /v1/files`` (multipart, purpose ``batch``),
``POST /v1/batches``, ``GET /v1/batches/{id}`` (``validating`` when created,
``in_progress`` on the first poll, ``completed`` on the next) and
``GET /v1/files/{id}/content``; steps in ``batch.faults`` make those endpoints fail
first (HTTP errors, resets). When a batch completes, each request line is answered
with the same logic as chat completions, consuming the steps queued with
:meth:`ScriptedLLM.script_batch`: an HTTP-error step or :func:`expired` puts the
line in the batch's error file instead of its output file.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
import socket
import sys
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
ANSWERS = HERE / "answers"
SEEDS = HERE.parent.parent / "seeds"
ARTICLE_MARKER = "\n\nArticle text:\n"
DRIP_BYTES = 512


@dataclass
class Step:
    """One scripted reaction to one request."""

    kind: str = (
        "answer"  # answer | status | malformed | truncated | refusal | reset | slow | expired
    )
    payload: dict[str, Any] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


def answer(payload: dict[str, Any] | None = None) -> Step:
    """Answer with ``payload``, or with the stored answer for the article."""
    return Step("answer", payload)


def records(events: Sequence[dict[str, Any]] = (), claims: Sequence[dict[str, Any]] = ()) -> Step:
    """Answer with these events and claims (copies: a test may change its own afterwards)."""
    return answer({"events": copy.deepcopy(list(events)), "claims": copy.deepcopy(list(claims))})


def http_error(status: int, retry_after: str | None = None) -> Step:
    """Fail with an HTTP status (and a ``Retry-After`` header when given)."""
    headers = {"retry-after": retry_after} if retry_after is not None else {}
    return Step("status", status=status, headers=headers)


def malformed(payload: dict[str, Any] | None = None) -> Step:
    """Answer with JSON that does not parse (the first half of ``payload``)."""
    return Step("malformed", payload)


def truncated(payload: dict[str, Any] | None = None) -> Step:
    """Answer cut off at the token limit (``finish_reason=length``)."""
    return Step("truncated", payload)


def refusal() -> Step:
    """Refuse to answer."""
    return Step("refusal")


def reset() -> Step:
    """Close the connection without answering."""
    return Step("reset")


def slow(delay: float) -> Step:
    """Answer normally after ``delay`` seconds (to provoke client timeouts)."""
    return Step("slow", delay=delay)


def cut() -> Step:
    """Send the headers and half of the body, then close the connection (reset mid-body)."""
    return Step("cut")


def drip(pause: float) -> Step:
    """Send the answer a few bytes at a time, ``pause`` seconds apart (a slow stream)."""
    return Step("drip", delay=pause)


def expired() -> Step:
    """Batch API only: the request was not run before the batch's window expired."""
    return Step("expired")


def seed_answers() -> dict[str, dict[str, Any]]:
    """Article text → the stored answer, for every seed that has one."""
    answers = {}
    for path in sorted(ANSWERS.glob("*.json")):
        text = (SEEDS / f"{path.stem}.txt").read_bytes().decode("utf-8")
        answers[text] = json.loads(path.read_text(encoding="utf-8"))
    return answers


def first_sentence_meeting(article: str) -> dict[str, Any]:
    """A grounded answer for any article: one meeting, its evidence the first sentence.

    For synthetic feeds (batch tests, benchmarks), where storing one answer per
    article would cost more memory than the run being measured.
    """
    sentence = re.split(r"(?<=[.!?])\s", article.strip(), maxsplit=1)[0]
    event = {
        "type": "meeting",
        "id": "e1",
        "summary": sentence[:200],
        "status": "occurred",
        "participants": [{"name": "Andrii Sybiha", "kind": "person", "country": "UKR"}],
        "evidence": [{"quote": sentence}],
    }
    return {"events": [event], "claims": []}


class RateWindow:
    """Provider-style limits enforced per second: RPM/60 requests and TPM/60 tokens.

    Tokens are counted as OpenAI counts them at admission: the prompt plus the
    request's ``max_tokens`` (or ``default_output`` when it sends none).
    """

    def __init__(self, rpm: int, tpm: int, default_output: int = 2_000) -> None:
        self.rpm, self.tpm, self.default_output = rpm, tpm, default_output
        self._second = -1
        self._requests = 0
        self._tokens = 0
        self._lock = threading.Lock()
        self.admitted = 0
        self.admitted_tokens = 0
        self.refused = 0

    def admit(self, body: dict[str, Any], arrived: float) -> float | None:
        """None when the request fits the budget of the second it ``arrived`` in (a
        ``time.monotonic()`` reading), else seconds to retry after."""
        tokens = _prompt_tokens(body) + (body.get("max_tokens") or self.default_output)
        with self._lock:
            now = arrived
            if int(now) != self._second:
                self._second, self._requests, self._tokens = int(now), 0, 0
            fits_requests = self._requests + 1 <= self.rpm / 60
            fits_tokens = self._tokens + tokens <= self.tpm / 60
            if fits_requests and fits_tokens:
                self._requests += 1
                self._tokens += tokens
                self.admitted += 1
                self.admitted_tokens += tokens
                return None
            self.refused += 1
            return max(0.001, 1 - (time.monotonic() - int(now)))

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit-requests": str(self.rpm),
            "x-ratelimit-limit-tokens": str(self.tpm),
        }


class _QuietServer(ThreadingHTTPServer):
    """Clients that give up (timeouts, resets) are part of the script, not errors."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ScriptedLLM:
    """The server: start with :meth:`start`, queue steps with :meth:`script`.

    Args:
        answers: article text → answer; the seeds' answers by default.
        fallback: builds the answer for an article not in ``answers``; an empty
            extraction by default.
        latency: seconds every normal answer takes.
        limits: provider-style rate limits answered with 429 and ``Retry-After``.
        record_requests: keep every request body (tests); off for long benchmarks.
    """

    def __init__(
        self,
        answers: dict[str, dict[str, Any]] | None = None,
        *,
        fallback: Any = None,
        latency: float = 0.0,
        limits: RateWindow | None = None,
        record_requests: bool = True,
        faults: Callable[[dict[str, Any]], Step | None] | None = None,
    ) -> None:
        self.answers = seed_answers() if answers is None else answers
        self.fallback = fallback
        self.latency = latency
        self.limits = limits
        self.record_requests = record_requests
        self.faults = faults
        self.served = 0
        self.first_request: float | None = None
        self.last_answer: float | None = None
        self.answered_at: list[float] = []
        """When each answer was sent (``time.time()``), for steady-state rates."""
        self.steps: deque[Step] = deque()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self.batch = BatchEmulation(self)

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def start(self) -> ScriptedLLM:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def script(self, *steps: Step) -> None:
        """Queue steps; once they are used up every request gets a normal answer."""
        with self._lock:
            self.steps.extend(steps)

    def script_batch(self, *steps: Step) -> None:
        """Queue steps for Batch API request lines, consumed in the order batches complete."""
        with self._lock:
            self.batch.steps.extend(steps)

    def next_step(self, body: dict[str, Any], arrived: float | None = None) -> Step:
        arrived = time.monotonic() if arrived is None else arrived
        with self._lock:
            self.served += 1
            self.first_request = self.first_request or time.time()
            if self.record_requests:
                self.requests.append(body)
            if self.steps:
                return self.steps.popleft()
        if self.faults is not None and (fault := self.faults(body)) is not None:
            return fault
        if self.limits is not None and (wait := self.limits.admit(body, arrived)) is not None:
            return Step("status", status=429, headers={"retry-after": f"{wait:.3f}"})
        return Step("answer", delay=self.latency)

    def stats(self) -> dict[str, Any]:
        """Requests served, and what the rate limits admitted and refused."""
        limits = self.limits
        return {
            "served": self.served,
            "admitted": limits.admitted if limits else self.served,
            "refused": limits.refused if limits else 0,
            "admitted_tokens": limits.admitted_tokens if limits else None,
            "first_request": self.first_request,
            "last_answer": self.last_answer,
            "answered_at": self.answered_at,
        }

    def answer_for(self, body: dict[str, Any]) -> dict[str, Any]:
        """The stored answer for the article sent (its text as stored, or cleaned from
        it), else the fallback's answer, else an empty extraction."""
        article = article_of(body)
        if article in self.answers:
            return self.answers[article]
        for text, stored in self.answers.items():
            if is_cleaned_from(article, text):
                return stored
        if self.fallback is not None:
            return dict(self.fallback(article))
        return {"events": [], "claims": []}


def article_of(body: dict[str, Any]) -> str:
    """The article text a chat-completions request carries."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return str(user).split(ARTICLE_MARKER, 1)[-1]


def _prompt_tokens(body: dict[str, Any]) -> int:
    messages = sum(
        _counted(json.dumps(message, ensure_ascii=False)) for message in body["messages"]
    )
    return messages + _counted(json.dumps(body.get("tools", "")))


@functools.lru_cache(maxsize=1024)
def _counted(text: str) -> int:
    """Token counts, cached: every request repeats the instructions and the schema."""
    return count_tokens(text)


SLICE_CHARS = 40_000
"""Longer texts are counted in slices of about this many characters: the tokenizer refuses
inputs of a million characters or 200,000 tokens (a character is at most 4 tokens)."""


@functools.cache
def _encoding() -> Any:
    with warnings.catch_warnings():  # its data loader uses a deprecated importlib API
        warnings.simplefilter("ignore", DeprecationWarning)
        import bpe_openai

        return bpe_openai.get_encoding("o200k_base")


def count_tokens(text: str) -> int:
    """Tokens of ``text`` in the o200k_base encoding, as a provider reports usage.

    A text longer than :data:`SLICE_CHARS` is counted slice by slice, each cut after a
    whitespace where there is one.
    """
    encoding = _encoding()
    return sum(len(encoding.encode(piece)) for piece in _slices(text))


def _slices(text: str) -> Iterator[str]:
    start = 0
    while len(text) - start > SLICE_CHARS:
        middle, end = start + SLICE_CHARS // 2, start + SLICE_CHARS
        cut = max(text.rfind(" ", middle, end), text.rfind("\n", middle, end))
        end = cut + 1 if cut >= middle else end
        yield text[start:end]
        start = end
    if start < len(text):
        yield text[start:]


def is_cleaned_from(sent: str, original: str) -> bool:
    """True when every line of ``sent`` is a piece of ``original``, in order, and the
    pieces cover at least a quarter of it: ``sent`` is ``original`` with junk taken out."""
    position, covered = 0, 0
    for line in filter(None, sent.split("\n")):
        found = original.find(line, position)
        if found < 0:
            return False
        position, covered = found + len(line), covered + len(line)
    return covered * 4 >= len(original.replace("\n", ""))


def _handler_for(server: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once, as real servers do

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet."""

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            data = self.rfile.read(length)
            if self.path.endswith(("/files", "/batches")):
                if fault := server.batch.fault():
                    self._react(fault, {})
                    return
                self._send(*server.batch.post(self.path, self.headers["content-type"], data))
                return
            if not self.path.endswith("/chat/completions"):
                self._send(404, {"error": {"message": f"no route {self.path}"}})
                return
            arrived = time.monotonic()
            body = json.loads(data)
            self._react(server.next_step(body, arrived), body)

        def do_GET(self) -> None:
            if self.path.endswith("/stats"):
                self._send(200, server.stats())
                return
            if fault := server.batch.fault():
                self._react(fault, {})
                return
            status, payload = server.batch.get(self.path)
            if isinstance(payload, bytes):
                self.send_response(status)
                self.send_header("content-type", "application/octet-stream")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                return
            self._send(status, payload)

        def _react(self, step: Step, body: dict[str, Any]) -> None:
            if step.kind == "reset":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if step.kind == "status":
                error = {"message": f"scripted HTTP {step.status}", "type": "scripted_error"}
                self._send(step.status, {"error": error}, step.headers)
                return
            if step.kind in ("cut", "drip"):
                self._send_badly(step, completion(step, body, server))
                return
            time.sleep(step.delay)
            headers = server.limits.headers() if server.limits else None
            self._send(200, completion(step, body, server), headers)
            server.last_answer = time.time()
            server.answered_at.append(server.last_answer)

        def _send_badly(self, step: Step, payload: dict[str, Any]) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            if step.kind == "cut":
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            for start in range(0, len(data), DRIP_BYTES):
                self.wfile.write(data[start : start + DRIP_BYTES])
                self.wfile.flush()
                time.sleep(step.delay)

        def _send(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def completion(step: Step, body: dict[str, Any], server: ScriptedLLM) -> dict[str, Any]:
    """A chat.completion object for ``step``, shaped for the request's mode."""
    payload = step.payload if step.payload is not None else server.answer_for(body)
    text = json.dumps(payload, ensure_ascii=False)
    finish = "stop"
    if step.kind == "malformed":
        text = text[: len(text) // 2] + ' "unterminated'
    elif step.kind == "truncated":
        text, finish = text[: len(text) // 2], "length"
    message = _message(step, body, text)
    prompt_tokens, completion_tokens = _prompt_tokens(body), count_tokens(text)
    return {
        "id": f"chatcmpl-scripted-{len(server.requests)}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": body.get("model", "scripted"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _message(step: Step, body: dict[str, Any], text: str) -> dict[str, Any]:
    if step.kind == "refusal":
        return {"role": "assistant", "content": None, "refusal": "I can't help with that."}
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        call = {
            "id": "call_scripted",
            "type": "function",
            "function": {"name": name, "arguments": text},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    if body.get("response_format"):
        return {"role": "assistant", "content": text}
    return {"role": "assistant", "content": f"```json\n{text}\n```"}


class BatchEmulation:
    """The files and batches endpoints, answering each request line when a batch completes."""

    def __init__(self, server: ScriptedLLM) -> None:
        self.server = server
        self.steps: deque[Step] = deque()
        self.files: dict[str, bytes] = {}
        self.uploads: list[bytes] = []
        self.batches: dict[str, dict[str, Any]] = {}
        self.faults: deque[Step] = deque()
        """HTTP-error or reset steps played on the next files/batches requests."""
        self._ids = itertools.count(1)

    def fault(self) -> Step | None:
        """The next scripted fault for a files/batches request, if any."""
        with self.server._lock:
            return self.faults.popleft() if self.faults else None

    def post(self, path: str, content_type: str, data: bytes) -> tuple[int, dict[str, Any]]:
        with self.server._lock:
            if path.endswith("/files"):
                return self._upload(content_type, data)
            return self._create(json.loads(data))

    def get(self, path: str) -> tuple[int, dict[str, Any] | bytes]:
        with self.server._lock:
            if match := re.search(r"/files/([^/]+)/content$", path):
                content = self.files.get(match[1])
                return (200, content) if content is not None else _not_found(path)
            if match := re.search(r"/batches/([^/]+)$", path):
                batch = self.batches.get(match[1])
                return (200, self._poll(batch)) if batch is not None else _not_found(path)
            return _not_found(path)

    def _upload(self, content_type: str, data: bytes) -> tuple[int, dict[str, Any]]:
        fields = _multipart(content_type, data)
        if fields.get("purpose") != b"batch" or "file" not in fields:
            return 400, {"error": {"message": "expected purpose=batch and a file"}}
        file_id = f"file-scripted-{next(self._ids)}"
        self.files[file_id] = fields["file"]
        self.uploads.append(fields["file"])
        info = {"id": file_id, "object": "file", "bytes": len(fields["file"]), "created_at": 0,
                "filename": "input.jsonl", "purpose": "batch", "status": "processed"}  # fmt: skip
        return 200, info

    def _create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        lines = self.files.get(body.get("input_file_id", ""), b"").splitlines()
        requests = [json.loads(line) for line in lines if line.strip()]
        ids = [request["custom_id"] for request in requests]
        if not requests or len(set(ids)) != len(ids):
            return 400, {"error": {"message": "empty file or duplicate custom_id"}}
        if any(request["url"] != body.get("endpoint") for request in requests):
            return 400, {"error": {"message": "a request url differs from the endpoint"}}
        number = next(self._ids)
        batch = {
            "id": f"batch_scripted_{number}", "object": "batch", "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"], "completion_window": "24h",
            "status": "validating", "created_at": 1_700_000_000 + number,
            "output_file_id": None, "error_file_id": None, "metadata": body.get("metadata"),
            "request_counts": {"total": len(requests), "completed": 0, "failed": 0},
        }  # fmt: skip
        self.batches[batch["id"]] = {"object": batch, "requests": requests}
        return 200, batch

    def _poll(self, batch: dict[str, Any]) -> dict[str, Any]:
        state = batch["object"]
        if state["status"] == "validating":
            state["status"] = "in_progress"
        elif state["status"] == "in_progress":
            self._complete(state, batch["requests"])
        return state

    def _complete(self, state: dict[str, Any], requests: list[dict[str, Any]]) -> None:
        output, errors = [], []
        for number, request in enumerate(requests):
            step = self.steps.popleft() if self.steps else answer()
            line = self._answer_line(f"batch_req_{state['id']}_{number}", request, step)
            (
                output if line["response"] and line["response"]["status_code"] == 200 else errors
            ).append(line)
        for kind, lines in (("output_file_id", output), ("error_file_id", errors)):
            if lines:
                file_id = f"file-scripted-{next(self._ids)}"
                self.files[file_id] = b"".join(
                    json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines
                )
                state[kind] = file_id
        state["status"] = "completed"
        state["request_counts"].update(completed=len(output), failed=len(errors))

    def _answer_line(self, line_id: str, request: dict[str, Any], step: Step) -> dict[str, Any]:
        line: dict[str, Any] = {"id": line_id, "custom_id": request["custom_id"], "error": None}
        if step.kind == "expired":
            message = "This request could not be executed before the completion window expired."
            line.update(response=None, error={"code": "batch_expired", "message": message})
        elif step.kind == "status":
            error = {"message": f"scripted HTTP {step.status}", "type": "scripted_error"}
            line["response"] = {"status_code": step.status, "request_id": line_id,
                                "body": {"error": error}}  # fmt: skip
        else:
            body = completion(step, request["body"], self.server)
            line["response"] = {"status_code": 200, "request_id": line_id, "body": body}
        return line


def _not_found(path: str) -> tuple[int, dict[str, Any]]:
    return 404, {"error": {"message": f"no route {path}"}}


def _multipart(content_type: str, data: bytes) -> dict[str, bytes]:
    """The fields of a multipart/form-data body, by name."""
    boundary = content_type.split("boundary=", 1)[1].strip('"').encode()
    fields = {}
    for part in data.split(b"--" + boundary):
        head, separator, value = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if separator and name:
            fields[name[1].decode()] = value.removesuffix(b"\r\n")
    return fields
