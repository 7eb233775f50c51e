"""The published data contract: one JSON Schema file per public model, under ``schemas/``.

The files are generated from the pydantic models (``eventx schema --out schemas/``)
and checked in; a test fails when they drift from the models.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from eventx.models import (
    SCHEMA_VERSION,
    AidDelivery,
    Article,
    ArticleExtraction,
    Claim,
    DiplomaticProtest,
    ExtractionResult,
    FusedEvent,
    MeetingEvent,
)

PUBLIC_MODELS: tuple[type[BaseModel], ...] = (
    AidDelivery,
    Article,
    ArticleExtraction,
    Claim,
    DiplomaticProtest,
    ExtractionResult,
    FusedEvent,
    MeetingEvent,
)
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    """The published JSON Schema of one model."""
    schema = model.model_json_schema(mode="serialization")
    return {"$schema": JSON_SCHEMA_DIALECT, "x-eventx-schema-version": SCHEMA_VERSION, **schema}


def schema_files() -> dict[str, str]:
    """File name → file content for every public model."""
    return {
        f"{model.__name__}.schema.json": json.dumps(schema_of(model), indent=2, ensure_ascii=False)
        + "\n"
        for model in PUBLIC_MODELS
    }


def write_schemas(directory: Path | str) -> list[Path]:
    """Write every public model's schema into ``directory``; return the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in schema_files().items():
        path = directory / name
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def stale_schemas(directory: Path | str) -> list[str]:
    """Names of schema files in ``directory`` that are missing or differ from the models."""
    directory = Path(directory)
    return [
        name
        for name, content in schema_files().items()
        if not (directory / name).is_file()
        or (directory / name).read_text(encoding="utf-8") != content
    ]
