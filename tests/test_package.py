"""The public surface and the layering of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import eventx
from eventx.extraction.prompt import build_messages, model_facing_schema, prompt_hash
from eventx.models import ArticleExtraction

SRC = Path(eventx.__file__).parent


def _isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions: the order ruff's RUF022 keeps."""
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_all_is_sorted_and_importable() -> None:
    assert eventx.__all__ == sorted(eventx.__all__, key=_isort_key)
    for name in eventx.__all__:
        assert getattr(eventx, name) is not None


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_extraction_talks_to_the_llm_sdks_and_nothing_imports_the_cli() -> None:
    for path in SRC.rglob("*.py"):
        package = path.relative_to(SRC).parts[0]
        imported = {name.split(".")[0] for name in _imports(path)}
        if package == "batchapi":  # the files and batches endpoints, not chat completions
            assert "instructor" not in imported
        elif package != "extraction":
            assert not imported & {"openai", "instructor"}, path
        if package not in ("cli", "__main__.py"):
            assert not any(name.startswith("eventx.cli") for name in _imports(path)), path


def test_models_and_errors_import_no_pipeline_stage() -> None:
    for name in ("models.py", "errors.py"):
        stages = {n for n in _imports(SRC / name) if n.startswith("eventx.")}
        assert stages <= {"eventx._version", "eventx.models"}, name


def test_the_model_never_sees_fields_eventx_fills() -> None:
    schema = model_facing_schema(ArticleExtraction)
    text = str(schema)
    for filled in ("'start'", "'end'", "'match'", "'score'", "'plover'", "'cameo'", "readOnly"):
        assert filled not in text
    evidence = schema["$defs"]["Evidence"]
    assert list(evidence["properties"]) == ["quote"]
    published = ArticleExtraction.model_json_schema()["$defs"]["Evidence"]["properties"]
    assert published["start"]["readOnly"] is True  # but the published contract documents them


def test_the_prompt_hash_changes_with_the_schema_and_not_with_the_article() -> None:
    first = build_messages(eventx.Article(id="a", text="one"))
    second = build_messages(eventx.Article(id="b", text="two {{ x }}"))
    assert first[0] == second[0]
    assert second[1]["content"].endswith("two {{ x }}")
    assert prompt_hash(ArticleExtraction) != prompt_hash(eventx.Claim)
    assert prompt_hash(ArticleExtraction) == prompt_hash(ArticleExtraction)
