"""Worked examples for the prompt: short articles and the records a careful reader takes.

Small models learn the shape of a good answer from an example far better than from a
schema alone (LangExtract's ``ExampleData`` rests on the same observation). An
:class:`Example` is checked when it is made: every quote must occur verbatim in its
text, so an example never teaches the model to paraphrase. Examples go into the system
message, before the article, so a server's prefix cache reuses them across requests.

``examples`` (``--examples``, ``EVENTX_EXAMPLES``) is ``builtin`` (the two examples in
``data/examples.yaml``: German and English, every record type, a planned meeting, a
direct and an indirect claim), ``none``, or the path of a YAML or JSON file holding a
list of ``{text, extraction}`` entries.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from eventx.errors import ConfigurationError
from eventx.extraction.prompt import model_facing_schema
from eventx.models import ArticleExtraction, Evidence
from eventx.settings import SchemaProfile


class Example(BaseModel):
    """A worked example: an article text and the records a careful reader takes from it.

    Raises a validation error when a quote of the extraction is not in the text.
    """

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="The example article, as the model would see it.")
    extraction: ArticleExtraction = Field(description="Its events and claims, quotes verbatim.")

    @model_validator(mode="after")
    def _quotes_are_verbatim(self) -> Self:
        missing = [item.quote for item in _quotes(self.extraction) if item.quote not in self.text]
        if missing:
            listed = "; ".join(repr(quote) for quote in missing)
            raise ValueError(f"these example quotes are not verbatim in the example text: {listed}")
        return self


def _quotes(extraction: ArticleExtraction) -> Iterator[Evidence]:
    for record in extraction.records():
        yield from record.all_evidence()


@functools.cache
def builtin_examples() -> tuple[Example, ...]:
    """The examples eventx ships (``data/examples.yaml``)."""
    text = (
        resources.files("eventx.extraction")
        .joinpath("data", "examples.yaml")
        .read_text(encoding="utf-8")
    )
    return tuple(Example.model_validate(entry) for entry in yaml.safe_load(text))


def load_examples(path: Path | str) -> list[Example]:
    """The examples in a YAML or JSON file (a list of ``{text, extraction}``).

    Raises:
        ConfigurationError: naming the file, the entry and the problem.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"cannot read the examples in {path}: {error}") from None
    if not isinstance(data, list):
        raise ConfigurationError(f"{path} must hold a list of examples ({{text, extraction}})")
    examples = []
    for number, entry in enumerate(data, start=1):
        try:
            examples.append(Example.model_validate(entry))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(map(str, first["loc"])) or "entry"
            message = first["msg"].removeprefix("Value error, ")
            raise ConfigurationError(f"{path} example {number}: {where}: {message}") from None
    return examples


def resolve_examples(setting: str) -> Sequence[Example]:
    """The examples a setting names: ``builtin``, ``none``, or a file."""
    if setting == "builtin":
        return builtin_examples()
    if setting == "none":
        return ()
    return load_examples(setting)


def examples_text(examples: Sequence[Example], profile: SchemaProfile) -> str:
    """The examples as the system message shows them: each article, then its answer in
    the shape the model is asked for (the profile's fields, in the schema's order)."""
    if not examples:
        return ""
    schema = model_facing_schema(ArticleExtraction, profile)
    blocks = []
    for number, example in enumerate(examples, start=1):
        answer = _shaped(example.extraction.model_dump(mode="json", exclude_none=True), schema)
        blocks.append(
            f"Example {number}. Article text:\n{example.text.strip()}\n\n"
            f"Answer:\n{json.dumps(answer, ensure_ascii=False)}"
        )
    return "Worked examples (other articles; never copy their content):\n\n" + "\n\n".join(blocks)


def _shaped(value: Any, schema: dict[str, Any], node: dict[str, Any] | None = None) -> Any:
    """``value`` reduced to the fields ``node`` (of ``schema``) offers, in its order."""
    node = schema if node is None else node
    definitions = schema.get("$defs", {})
    if "$ref" in node:
        return _shaped(value, schema, definitions[str(node["$ref"]).split("/")[-1]])
    options = node.get("oneOf") or node.get("anyOf")
    if options and isinstance(value, dict):
        return _shaped(value, schema, _matching(options, value, definitions))
    if isinstance(value, list):
        return [_shaped(item, schema, node.get("items", {})) for item in value]
    if isinstance(value, dict) and "properties" in node:
        properties = node["properties"]
        return {
            name: _shaped(value[name], schema, properties[name])
            for name in properties
            if name in value and value[name] not in ([], {})
        }
    return value


def _matching(
    options: list[dict[str, Any]], value: dict[str, Any], definitions: dict[str, Any]
) -> dict[str, Any]:
    """The option of a union that ``value`` is: by its ``type`` constant, else the first."""
    targets: list[dict[str, Any]] = [
        definitions.get(str(option.get("$ref", "")).split("/")[-1], option) for option in options
    ]
    for target in targets:
        const = target.get("properties", {}).get("type", {}).get("const")
        if const is not None and const == value.get("type"):
            return target
    return targets[0]
