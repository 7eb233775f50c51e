"""A logging reverse proxy for an OpenAI-compatible server: requests, seconds and tokens.

    python bench/usage_proxy.py --upstream http://127.0.0.1:8089 --port 8090 \\
        --log /work/scratch/proxy.jsonl

Point any client at ``http://127.0.0.1:8090/v1`` instead of the server itself. Every
request is forwarded unchanged (method, path, headers, body) and answered with the
server's own status, headers and body; one JSON line per request is appended to the log:

* ``sent``: when the request arrived (Unix seconds) and ``sent_at`` (ISO 8601, UTC);
* ``seconds``: until the whole answer was read from the server;
* ``status``, ``method``, ``path``, ``model`` (from the request body), ``stream``;
  ``error`` when the server could not be reached or dropped the connection (502);
* ``prompt_tokens`` / ``completion_tokens``: the answer's ``usage`` (also read from the
  last event of a streamed answer); null when the server reports none;
* ``tag``: set when the client's base URL carries it, e.g.
  ``http://127.0.0.1:8090/t/<tag>/v1`` is forwarded as ``/v1/...`` and logged with
  ``tag=<tag>``. Without a tag, attribute requests to articles by time window.

With ``--log-bodies`` the line also holds the assistant message the server returned
(``content``), to see what a model actually answered.
"""

from __future__ import annotations

import argparse
import http.client
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
"""Headers that belong to one connection and are never forwarded."""


class UsageLog:
    """Appends one JSON line per request to a file, safely from many threads."""

    def __init__(self, path: Path, *, bodies: bool) -> None:
        self.path = path
        self.bodies = bodies
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        """Append ``record`` as one line and flush it."""
        line = json.dumps(record, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def split_tag(path: str) -> tuple[str | None, str]:
    """``/t/<tag>/v1/...`` → (tag, ``/v1/...``); any other path → (None, path)."""
    if not path.startswith("/t/"):
        return None, path
    tag, _, rest = path[3:].partition("/")
    return unquote(tag) or None, "/" + rest


def request_fields(body: bytes) -> dict[str, Any]:
    """The model and stream flag a JSON request body names (empty when it is not JSON)."""
    try:
        payload = json.loads(body) if body else {}
    except ValueError:
        return {}
    if not isinstance(payload, dict):
        return {}
    return {"model": payload.get("model"), "stream": bool(payload.get("stream"))}


def _usage_of(payload: Any) -> dict[str, Any] | None:
    usage = payload.get("usage") if isinstance(payload, dict) else None
    return usage if isinstance(usage, dict) else None


def _content_of(payload: Any) -> str | None:
    try:
        return payload["choices"][0]["message"]["content"]  # type: ignore[no-any-return]
    except (KeyError, IndexError, TypeError):
        return None


def _stream_events(body: bytes) -> list[Any]:
    events = []
    for line in body.decode("utf-8", "replace").splitlines():
        if line.startswith("data:") and line[5:].strip() not in ("", "[DONE]"):
            try:
                events.append(json.loads(line[5:]))
            except ValueError:
                continue
    return events


def response_fields(body: bytes, *, streamed: bool) -> dict[str, Any]:
    """Token usage (and the assistant message) from a JSON or server-sent-events answer."""
    if streamed:
        events = _stream_events(body)
        usage = next((u for u in map(_usage_of, reversed(events)) if u), None)
        deltas = [e.get("choices", [{}])[0].get("delta", {}) for e in events if e.get("choices")]
        content: str | None = "".join(d.get("content") or "" for d in deltas) or None
    else:
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        usage, content = _usage_of(payload), _content_of(payload)
    return {
        "prompt_tokens": (usage or {}).get("prompt_tokens"),
        "completion_tokens": (usage or {}).get("completion_tokens"),
        "content": content,
    }


class ProxyHandler(BaseHTTPRequestHandler):
    """Forwards one request to the upstream server and logs it."""

    protocol_version = "HTTP/1.1"
    upstream: tuple[str, int] = ("127.0.0.1", 8089)
    timeout_seconds: float = 3600.0
    usage_log: UsageLog

    def do_GET(self) -> None:
        """Forward a GET request."""
        self._forward()

    def do_POST(self) -> None:
        """Forward a POST request."""
        self._forward()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request stderr line (the JSONL log has it)."""

    def _forward(self) -> None:
        sent = time.time()
        tag, path = split_tag(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record: dict[str, Any] = {
            "sent": round(sent, 3),
            "sent_at": datetime.fromtimestamp(sent, UTC).isoformat(timespec="milliseconds"),
            "method": self.command,
            "path": path,
            "tag": tag,
            **request_fields(body),
        }
        try:
            status, headers, answer = self._upstream(path, body)
        except OSError as error:
            status, headers = 502, [("Content-Type", "application/json")]
            record["error"] = f"{type(error).__name__}: {error}"
            answer = json.dumps({"error": {"message": f"upstream: {record['error']}"}}).encode()
        record["seconds"] = round(time.time() - sent, 3)
        record["status"] = status
        self._reply(status, headers, answer)
        streamed = any(k.lower() == "content-type" and "event-stream" in v for k, v in headers)
        fields = response_fields(answer, streamed=streamed)
        if not self.usage_log.bodies:
            fields.pop("content")
        self.usage_log.write({**record, **fields})

    def _upstream(self, path: str, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, port = self.upstream
        connection = http.client.HTTPConnection(host, port, timeout=self.timeout_seconds)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            connection.request(self.command, path, body=body or None, headers=headers)
            response = connection.getresponse()
            answer = response.read()
            kept = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            return response.status, kept, answer
        finally:
            connection.close()

    def _reply(self, status: int, headers: list[tuple[str, str]], answer: bytes) -> None:
        try:
            self.send_response(status)
            for key, value in headers:
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout); the request is still logged


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", default="http://127.0.0.1:8089", help="server URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--log", type=Path, required=True, help="JSONL file to append to")
    parser.add_argument("--log-bodies", action="store_true", help="also log the answers")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds to wait for the server"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted."""
    args = parse_args(argv)
    upstream = urlsplit(args.upstream)
    ProxyHandler.upstream = (upstream.hostname or "127.0.0.1", upstream.port or 80)
    ProxyHandler.timeout_seconds = args.timeout
    ProxyHandler.usage_log = UsageLog(args.log, bodies=args.log_bodies)
    server = ThreadingHTTPServer((args.host, args.port), ProxyHandler)
    print(f"proxy http://{args.host}:{args.port} -> {args.upstream}, log {args.log}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
