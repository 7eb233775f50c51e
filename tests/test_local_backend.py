"""The local backend without a model: resolving models, the hub, settings, server data."""

from __future__ import annotations

from pathlib import Path

import pytest

import eventx
from eventx.extraction import local
from eventx.extraction.local import LocalServer, context_size, model_alias, resolve_model
from eventx.servers import SERVERS, Mode, Server, mode_advice, refused_mode, server_of
from eventx.settings import LOCAL_LEVERS, LOCAL_MAX_OUTPUT_TOKENS, Settings


def test_a_known_name_without_the_hub_says_to_pass_a_path(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "1")
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "1")
    with pytest.raises(eventx.ConfigurationError) as caught:
        resolve_model("qwen2.5-1.5b")
    message = str(caught.value)
    assert "cannot reach the Hugging Face hub" in message
    assert "Qwen/Qwen2.5-1.5B-Instruct-GGUF" in message
    assert "pass a .gguf path" in message


def test_a_path_must_exist_and_an_unknown_name_is_named(tmp_path: Path) -> None:
    with pytest.raises(eventx.ConfigurationError, match="no model file at"):
        resolve_model(str(tmp_path / "missing.gguf"))
    with pytest.raises(eventx.ConfigurationError, match="unknown local model 'llama-9000'"):
        resolve_model("llama-9000")
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_model(str(model)) == model
    assert model_alias(str(model)) == "tiny"


def test_without_llama_cpp_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(local.importlib.util, "find_spec", lambda name: None)
    server = LocalServer(str(tmp_path / "m.gguf"), context=2048, threads=1)
    with pytest.raises(eventx.ConfigurationError, match=r'pip install "eventx\[local\]"'):
        server.start()
    assert server.process is None


def test_the_context_holds_the_prompt_and_every_answer() -> None:
    assert context_size(3000, 2048, 3) == 10_240  # 3000 + 3 × (2048 + 256), rounded up to 512
    assert context_size(100, 10, 1) == 2048  # never below 2048
    assert context_size(100_000, 2048, 3) == 32_768  # never above what small models know


def test_a_local_model_sets_sensible_defaults() -> None:
    settings = Settings.resolve(env={}, local="/models/qwen2.5-coder-1.5b.gguf")
    assert settings.model == "qwen2.5-coder-1.5b"
    assert settings.server_kind is Server.LLAMA_CPP_PYTHON
    assert settings.mode is Mode.JSON  # grammar-constrained JSON on llama-cpp-python
    assert settings.max_output_tokens == LOCAL_MAX_OUTPUT_TOKENS
    assert settings.timeout >= 600
    for lever, value in LOCAL_LEVERS.items():  # the small-model levers, unless told otherwise
        assert getattr(settings, lever) == value
    told = Settings.resolve(env={"EVENTX_SCHEMA_PROFILE": "full"}, local="m.gguf")
    assert told.schema_profile == "full"
    settings.require_endpoint()  # a local model is an endpoint: no key needed
    with pytest.raises(eventx.ConfigurationError, match="does not take mode json_schema"):
        Settings.resolve(env={}, local="m.gguf", mode="json_schema")


def test_the_server_table_gives_each_server_a_default_mode() -> None:
    assert server_of(None) is Server.OPENAI
    assert server_of("https://x.openai.azure.com/openai/v1/") is Server.AZURE
    assert server_of("http://localhost:8000/v1") is None
    assert Settings.resolve(env={}, base_url="http://h/v1", server="vllm").mode is Mode.JSON_SCHEMA
    assert Settings.resolve(env={}, base_url="http://h/v1").mode is Mode.TOOLS
    for profile in SERVERS.values():
        assert profile.default_mode in profile.modes


def test_a_refused_request_shape_is_told_apart_from_a_server_fault() -> None:
    body = '{"error": {"message": "1 validation error: response_format.type Input should be..."}}'
    assert refused_mode(500, body, Mode.JSON_SCHEMA)
    assert not refused_mode(500, "internal error", Mode.JSON_SCHEMA)
    assert not refused_mode(503, body, Mode.JSON_SCHEMA)
    assert refused_mode(400, '{"error": "tool_choice is not supported"}', Mode.TOOLS)
    advice = mode_advice(Mode.JSON_SCHEMA, Server.LLAMA_CPP_PYTHON)
    assert "--mode json or tools or md_json" in advice


def test_the_providers_page_shows_the_server_table() -> None:
    page = (Path(__file__).parents[1] / "docs" / "providers.md").read_text(encoding="utf-8")
    for profile in SERVERS.values():
        modes = ", ".join(f"`{mode.value}`" for mode in profile.modes)
        assert f"| {profile.name} | {modes} |" in page, profile.name
