"""The local backend: a llama.cpp server on loopback, started for a run and stopped after it.

``Extractor(local="model.gguf")`` (``--local``, ``EVENTX_LOCAL_MODEL``) starts
llama-cpp-python's OpenAI-compatible server (``python -m llama_cpp.server``, from the
``eventx[local]`` extra) on a free loopback port, waits until it answers, and points the
extractor at it: every request then goes through the same client stack as any endpoint,
so cassettes, usage, the run store, budgets and rate limits apply unchanged.

* The model is a ``.gguf`` path, or a known name (:data:`KNOWN_MODELS`) downloaded from
  the Hugging Face hub with ``huggingface_hub`` into its cache on first use.
* Context size is what the prompt, the article and the answers of every re-ask need
  (:func:`context_size`); threads are the CPU cores this process may use.
* The server is stopped when the extractor closes, on Ctrl-C, on an exception and on
  SIGTERM (the command line turns it into Ctrl-C); on Linux it is also told to end if
  this process dies without stopping it, so no server outlives a run.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from eventx.errors import ConfigurationError

KNOWN_MODELS: dict[str, tuple[str, str]] = {
    "qwen2.5-0.5b": ("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf"),
    "qwen2.5-1.5b": ("Qwen/Qwen2.5-1.5B-Instruct-GGUF", "qwen2.5-1.5b-instruct-q4_k_m.gguf"),
    "qwen2.5-3b": ("Qwen/Qwen2.5-3B-Instruct-GGUF", "qwen2.5-3b-instruct-q4_k_m.gguf"),
    "qwen2.5-coder-0.5b": (
        "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    ),
    "qwen2.5-coder-1.5b": (
        "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    ),
}
"""Names ``--local`` accepts besides a path: (Hugging Face repository, GGUF file)."""

INSTALL_HINT = 'the local backend needs llama-cpp-python: pip install "eventx[local]"'
START_TIMEOUT = 300.0
"""Seconds to wait for the server to load the model and answer."""
CONTEXT_STEP = 512
MAX_CONTEXT = 32_768
"""The largest context eventx asks for; small models are trained for about this much."""
_PR_SET_PDEATHSIG = 1


def model_alias(model: str) -> str:
    """The name the local server answers to: the known name, or the file's stem."""
    return model if model in KNOWN_MODELS else Path(model).stem


def resolve_model(model: str) -> Path:
    """The GGUF file for ``model``: a path as given, or a known name from the hub cache.

    Raises:
        ConfigurationError: the file does not exist, the name is unknown, or the hub
            cannot be reached to download it.
    """
    if model in KNOWN_MODELS:
        return _download(model)
    path = Path(model).expanduser()
    if path.suffix.lower() != ".gguf" and not path.exists():
        known = ", ".join(sorted(KNOWN_MODELS))
        raise ConfigurationError(
            f"unknown local model {model!r}: pass a .gguf file or one of {known}"
        )
    if not path.is_file():
        raise ConfigurationError(f"no model file at {path}")
    return path


def _download(name: str) -> Path:
    """The cached file of a known model, downloaded first when it is not in the cache."""
    repository, filename = KNOWN_MODELS[name]
    try:
        from huggingface_hub import constants, hf_hub_download
    except ImportError:
        raise ConfigurationError(f"{INSTALL_HINT} (huggingface_hub downloads {name})") from None
    with contextlib.suppress(Exception):  # not in the cache yet
        return Path(hf_hub_download(repo_id=repository, filename=filename, local_files_only=True))
    where = f"{repository}/{filename}"
    if not _reachable(constants.ENDPOINT):
        raise ConfigurationError(_unreachable(name, where, "no connection"))
    try:
        return Path(hf_hub_download(repo_id=repository, filename=filename))
    except Exception as error:  # the hub raises many kinds: offline, DNS, HTTP, timeouts
        raise ConfigurationError(_unreachable(name, where, type(error).__name__)) from None


def _unreachable(name: str, where: str, reason: str) -> str:
    return (
        f"cannot reach the Hugging Face hub to download {name} ({where}: {reason}); "
        "pass a .gguf path with --local instead"
    )


def _reachable(endpoint: str, timeout: float = 3.0) -> bool:
    """True when a TCP connection to the hub's host opens within ``timeout`` seconds."""
    parts = urllib.parse.urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def context_size(prompt_tokens: int, output_tokens: int, answers: int) -> int:
    """A context that holds the prompt and ``answers`` answers with their re-ask messages,
    rounded up to a multiple of 512 and capped at :data:`MAX_CONTEXT`."""
    needed = prompt_tokens + answers * (output_tokens + 256)
    rounded = -(-needed // CONTEXT_STEP) * CONTEXT_STEP
    return max(CONTEXT_STEP * 4, min(rounded, MAX_CONTEXT))


def cpu_threads() -> int:
    """The CPU cores this process may run on."""
    with contextlib.suppress(AttributeError):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _end_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Ask Linux to send the server SIGTERM when the process that started it dies."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class LocalServer:
    """llama-cpp-python's OpenAI-compatible server for one model, on a loopback port.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    model: str
    context: int
    threads: int
    alias: str = ""
    extra_args: Sequence[str] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    port: int = field(default=0, init=False)
    _log: IO[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def base_url(self) -> str:
        """The server's OpenAI-compatible endpoint."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> str:
        """Start the server and wait until it answers; return its base URL.

        Raises:
            ConfigurationError: llama-cpp-python is not installed, the model cannot be
                found, or the server stopped or did not answer while loading.
        """
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigurationError(INSTALL_HINT)
        path = resolve_model(self.model)
        self.port = _free_port()
        self._log = tempfile.TemporaryFile(prefix="eventx-llama-")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self._command(path),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches eventx, which stops the server itself
            preexec_fn=_end_with_parent if sys.platform == "linux" else None,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def _command(self, path: Path) -> list[str]:
        return [
            sys.executable, "-m", "llama_cpp.server",
            "--model", str(path),
            "--model_alias", self.alias or model_alias(self.model),
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--n_ctx", str(self.context),
            "--n_threads", str(self.threads),
            *self.extra_args,
        ]  # fmt: skip

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ConfigurationError(
                    f"the local model server stopped while starting: {self._log_tail()}"
                )
            if self._answers():
                return
            time.sleep(0.2)
        raise ConfigurationError(
            f"the local model server did not answer within {START_TIMEOUT:.0f} s: "
            f"{self._log_tail()}"
        )

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.base_url + "/models", timeout=2) as response:
                return int(response.status) == 200
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self, lines: int = 5) -> str:
        if self._log is None:
            return "no output"
        self._log.seek(0)
        text = self._log.read().decode("utf-8", errors="replace").strip().splitlines()
        return " | ".join(text[-lines:]) or "no output"

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and wait for it to end."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self.process.pid if self.process is not None else None

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
