"""Configuration: arguments, then EVENTX_*, then OPENAI_* variables; clear errors."""

from __future__ import annotations

import pytest

from eventx import ConfigurationError, Extractor, Settings
from eventx.settings import (
    DEFAULT_MODEL,
    LOCAL_SERVER_API_KEY,
    GroundingPolicy,
    Mode,
    SettingOverrides,
)


def test_defaults_need_only_a_key() -> None:
    settings = Settings.resolve(env={"OPENAI_API_KEY": "sk-x"})
    assert (settings.model, settings.mode, settings.base_url) == (DEFAULT_MODEL, Mode.TOOLS, None)
    assert settings.grounding is GroundingPolicy.DROP
    assert settings.max_attempts == 3


def test_arguments_beat_eventx_variables_which_beat_openai_variables() -> None:
    env = {
        "EVENTX_MODEL": "from-eventx",
        "OPENAI_MODEL": "from-openai",
        "OPENAI_BASE_URL": "http://o/v1",
    }
    assert Settings.resolve(env=env).model == "from-eventx"
    assert Settings.resolve(env=env, model="from-argument").model == "from-argument"
    assert Settings.resolve(env={"OPENAI_MODEL": "from-openai"}).model == "from-openai"
    assert Settings.resolve(env=env).base_url == "http://o/v1"


def test_values_from_the_environment_are_converted_and_checked() -> None:
    env = {"EVENTX_MODE": "md_json", "EVENTX_MAX_REASKS": "4", "EVENTX_GROUNDING": "keep"}
    settings = Settings.resolve(env=env)
    assert (settings.mode, settings.max_reasks, settings.grounding) == (
        Mode.MD_JSON,
        4,
        GroundingPolicy.KEEP,
    )
    with pytest.raises(
        ConfigurationError, match="mode must be one of: tools, json_schema, json, md_json"
    ):
        Settings.resolve(env={"EVENTX_MODE": "xml"})
    with pytest.raises(ConfigurationError, match="max_reasks must be between 0 and 10"):
        Settings.resolve(env={"EVENTX_MAX_REASKS": "50"})
    with pytest.raises(ConfigurationError, match="unknown setting"):
        Settings.resolve(env={}, modle="typo")


def test_nothing_configured_explains_every_provider() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Extractor()
    message = str(caught.value)
    assert "\n" not in message  # one paragraph
    for hint in ("OPENAI_API_KEY", "Azure", "EVENTX_BASE_URL", "vLLM", "Ollama", "llama.cpp"):
        assert hint in message


def test_a_local_server_needs_no_key() -> None:
    settings = Settings.resolve(env={"EVENTX_BASE_URL": "http://localhost:11434/v1"})
    settings.require_endpoint()
    assert settings.client_api_key() == LOCAL_SERVER_API_KEY


def test_the_key_never_shows_in_repr() -> None:
    settings = Settings.resolve(env={"OPENAI_API_KEY": "sk-very-secret"})
    assert "sk-very-secret" not in repr(settings)
    assert "sk-very-secret" not in repr(Extractor(api_key="sk-very-secret").settings)


def test_the_typed_overrides_name_every_setting() -> None:
    assert list(SettingOverrides.__annotations__) == list(Settings.model_fields)


def test_command_line_options_are_generated_from_the_settings() -> None:
    from click.testing import CliRunner

    from eventx.cli import main

    help_text = CliRunner().invoke(main, ["extract", "--help"], terminal_width=200).output
    for name in Settings.model_fields:
        flag = "--" + name.replace("_", "-")
        if Settings.option_of(name) is None:
            assert f"{flag} " not in help_text, name
            continue
        assert flag in help_text, name
        for variable in Settings.env_names(name):
            assert variable in help_text, (name, variable)
    assert "--clean / --no-clean" in help_text
    assert "[env: EVENTX_MAX_REASKS; default: 2]" in " ".join(help_text.split())


def test_an_unknown_setting_is_refused_by_every_entry_point() -> None:
    with pytest.raises(ConfigurationError, match="unknown setting"):
        Extractor(api_key="k", max_reask=3)  # type: ignore[call-arg]
