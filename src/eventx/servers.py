"""What each OpenAI-compatible server accepts, as data.

Servers differ in how they take a schema: some take ``response_format`` with a JSON
Schema, some only ``json_object``, some constrain a forced tool call with a grammar.
:data:`SERVERS` records, per server, the modes it accepts, the mode eventx uses when
none is set, and whether its ``json_object`` takes a ``schema`` (grammar-constrained
JSON). ``docs/providers.md`` shows the same table (a test keeps them equal).

A request a server refuses because of its mode must not be retried as a transient fault:
:func:`refused_mode` recognizes such an answer, and the extractor turns it into a
configuration error that names the mode to use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit


class Mode(StrEnum):
    """How the schema is given to the model and the answer read back."""

    TOOLS = "tools"
    """A forced function call (OpenAI, Azure, vLLM, Ollama, most servers)."""
    JSON_SCHEMA = "json_schema"
    """``response_format`` with the JSON Schema (OpenAI, vLLM, Ollama, llama.cpp)."""
    JSON = "json"
    """``response_format=json_object`` with the schema in the prompt (and, for servers that
    take it, in ``response_format`` as a grammar)."""
    MD_JSON = "md_json"
    """Schema in the prompt, JSON in a fenced block: for servers without structured output."""


class Server(StrEnum):
    """OpenAI-compatible servers whose behaviour eventx knows."""

    OPENAI = "openai"
    AZURE = "azure"
    VLLM = "vllm"
    OLLAMA = "ollama"
    LLAMA_SERVER = "llama-server"
    LLAMA_CPP_PYTHON = "llama-cpp-python"


@dataclass(frozen=True)
class ServerProfile:
    """What one server accepts."""

    server: Server
    name: str
    modes: tuple[Mode, ...]
    """Modes the server accepts, best first."""
    json_object_schema: bool = False
    """``response_format: {type: json_object, schema: …}`` constrains the answer to the
    schema (a grammar); eventx sends the schema there in ``json`` mode."""
    note: str = ""

    @property
    def default_mode(self) -> Mode:
        """The mode eventx uses with this server when none is set."""
        return self.modes[0]


_ALL = (Mode.TOOLS, Mode.JSON_SCHEMA, Mode.JSON, Mode.MD_JSON)

SERVERS: dict[Server, ServerProfile] = {
    Server.OPENAI: ServerProfile(Server.OPENAI, "OpenAI", _ALL, note="strict schemas"),
    Server.AZURE: ServerProfile(Server.AZURE, "Azure OpenAI", _ALL, note="as OpenAI"),
    Server.VLLM: ServerProfile(
        Server.VLLM,
        "vLLM",
        (Mode.JSON_SCHEMA, Mode.TOOLS, Mode.JSON, Mode.MD_JSON),
        note="json_schema uses guided decoding; tools need a tool parser at start-up",
    ),
    Server.OLLAMA: ServerProfile(
        Server.OLLAMA,
        "Ollama",
        (Mode.JSON_SCHEMA, Mode.TOOLS, Mode.JSON, Mode.MD_JSON),
        note="json_schema becomes Ollama's structured output (format)",
    ),
    Server.LLAMA_SERVER: ServerProfile(
        Server.LLAMA_SERVER,
        "llama.cpp llama-server",
        (Mode.JSON_SCHEMA, Mode.JSON, Mode.TOOLS, Mode.MD_JSON),
        json_object_schema=True,
        note="schemas become grammars; tools need --jinja",
    ),
    Server.LLAMA_CPP_PYTHON: ServerProfile(
        Server.LLAMA_CPP_PYTHON,
        "llama-cpp-python server",
        (Mode.JSON, Mode.TOOLS, Mode.MD_JSON),
        json_object_schema=True,
        note="refuses response_format json_schema (HTTP 500); json_object takes the schema "
        "as a grammar; a forced tool call is grammar-constrained",
    ),
}

AZURE_HOSTS = (".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com")


def server_of(base_url: str | None) -> Server | None:
    """The server a base URL reaches when the host tells (OpenAI, Azure); else None."""
    if base_url is None:
        return Server.OPENAI
    host = urlsplit(base_url).hostname or ""
    if host == "api.openai.com":
        return Server.OPENAI
    if host.endswith(AZURE_HOSTS):
        return Server.AZURE
    return None


_REFUSAL_SIGNS = {
    Mode.JSON_SCHEMA: re.compile(r"response_format|json_schema", re.IGNORECASE),
    Mode.JSON: re.compile(r"response_format|json_object", re.IGNORECASE),
    Mode.TOOLS: re.compile(r"\btools?\b|tool_choice|function", re.IGNORECASE),
}


def refused_mode(status: int, body: str, mode: Mode) -> bool:
    """True when an error answer says the server does not take ``mode``'s request shape.

    llama-cpp-python answers an unsupported ``response_format`` with HTTP 500 and a
    validation message naming ``response_format``; vLLM and others answer 400 or 422.
    A 5xx that does not name the request's shape stays a transient fault.
    """
    sign = _REFUSAL_SIGNS.get(mode)
    if sign is None or status not in (400, 404, 422, 500, 501):
        return False
    return bool(sign.search(body)) and (status != 500 or "validation" in body.lower())


def mode_advice(mode: Mode, server: Server | None) -> str:
    """Which mode to use instead of ``mode``, for a configuration error."""
    if server is not None:
        others = [m.value for m in SERVERS[server].modes if m is not mode]
        return f"{SERVERS[server].name} accepts --mode {' or '.join(others)}"
    fallbacks = [m.value for m in (Mode.JSON, Mode.TOOLS, Mode.MD_JSON) if m is not mode]
    return f"try --mode {', '.join(fallbacks)} (md_json works with any chat server)"
