"""Click options generated from the settings model, so each setting is declared once.

:func:`setting_options` turns fields of :class:`eventx.Settings` into options: the flag
from the name (``max_reasks`` → ``--max-reasks``; a boolean gets ``--clean/--no-clean``),
the type and bounds from the field, the help from its description, the environment
variables and the default. Options default to None (unset), so the environment and the
model's default still apply when an option is not given.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import click

import eventx

F = TypeVar("F", bound=Callable[..., Any])

ENDPOINT = ("model", "base_url", "base_urls", "server", "mode")
"""Where requests go and how the schema is sent."""
LOCAL = ("local",)
"""A model run on this machine for the run."""
PROMPT = ("schema_profile", "examples", "per_type", "claims_apart", "sweep_claims", "passes")
"""What the model is offered and asked: schema profile, worked examples, asks, passes."""
QUALITY = (
    "grounding",
    "actors_near_evidence",
    "verify",
    "merge_restated",
    "max_reasks",
    "max_output_tokens",
)
"""How answers are checked and re-asked."""
BUDGET = ("max_requests_per_article", "max_tokens_per_article")
"""What one article may spend."""
PACING = ("concurrency", "rpm", "tpm")
"""How fast a batch run sends."""
TEXT = ("clean", "max_chunk_tokens", "chunk_overlap_tokens")
"""What the model reads of each article: cleaned or not, in parts of how many tokens."""


def setting_options(*names: str) -> Callable[[F], F]:
    """A decorator adding one option per named setting, in the order given."""

    def decorate(command: F) -> F:
        for name in reversed(names):
            command = _option(name)(command)
        return command

    return decorate


def settings_help_default(name: str) -> str:
    """What the help shows as a setting's default."""
    option = eventx.Settings.option_of(name)
    if option is not None and option.default_text is not None:
        return option.default_text
    default = eventx.Settings.model_fields[name].default
    if isinstance(default, enum.Enum):
        return str(default.value)
    if isinstance(default, bool):
        return "on" if default else "off"
    return (
        "none"
        if default is None
        else f"{default:g}"
        if isinstance(default, float)
        else str(default)
    )


def _option(name: str) -> Callable[[F], F]:
    info = eventx.Settings.model_fields[name]
    if eventx.Settings.option_of(name) is None:
        raise ValueError(f"setting {name!r} is not a command-line option")
    flag = "--" + name.replace("_", "-")
    kind = _plain(info.annotation)
    env = ", ".join(eventx.Settings.env_names(name))
    where = f"env: {env}; " if env else ""
    help_text = f"{info.description}  [{where}default: {settings_help_default(name)}]"
    if kind is bool:
        return click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=help_text)
    return click.option(flag, name, type=_click_type(kind, info), default=None, help=help_text)


def _plain(annotation: Any) -> Any:
    """``int | None`` → ``int``; other annotations as they are."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        options = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return options[0] if len(options) == 1 else str
    return annotation


class CommaList(click.ParamType[tuple[str, ...]]):
    """A list setting on the command line: comma-separated values (``a,b,c``)."""

    name = "list"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "A,B,..."

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, ...]:
        if isinstance(value, tuple):
            return value
        return tuple(item.strip() for item in str(value).split(",") if item.strip())


def _click_type(kind: Any, info: Any) -> click.ParamType[Any]:
    if typing.get_origin(kind) in (tuple, list):
        return CommaList()
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return click.Choice([member.value for member in kind])
    low = next((m.ge for m in info.metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in info.metadata if getattr(m, "le", None) is not None), None)
    if kind is int:
        return click.IntRange(low, high)
    if kind is float:
        return click.FloatRange(low, high)
    return click.STRING
