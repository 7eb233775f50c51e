"""The public surface and the layering of the package."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import eventx
from eventx.extraction.prompt import build_messages, model_facing_schema, prompt_hash
from eventx.models import ArticleExtraction

ROOT = Path(__file__).resolve().parents[1]


PUBLIC_API = [
    "SCHEMA_VERSION",
    "Actor",
    "AidDelivery",
    "AidItem",
    "ApiError",
    "Article",
    "ArticleBudget",
    "ArticleExtraction",
    "BatchApiError",
    "BatchInfo",
    "BudgetExceededError",
    "Claim",
    "Cleaning",
    "CollectReport",
    "ConfigurationError",
    "DateRef",
    "DateRule",
    "DiplomaticProtest",
    "ErrorCategory",
    "ErrorRecord",
    "Evaluation",
    "Event",
    "EventBase",
    "EventStatus",
    "EventxError",
    "Evidence",
    "ExtractionError",
    "ExtractionResult",
    "Extractor",
    "FusedEvent",
    "FusedSource",
    "GoldArticle",
    "GroundingPolicy",
    "InputError",
    "InvalidOutputError",
    "LanguageSource",
    "MeetingEvent",
    "Mode",
    "Place",
    "Plover",
    "RefusalError",
    "ReplayError",
    "ResultWarning",
    "RunEstimate",
    "RunInterrupted",
    "RunSummary",
    "Settings",
    "SubmitReport",
    "TransientFaultError",
    "TruncatedOutputError",
    "UngroundedEvidenceError",
    "Usage",
    "__version__",
    "batch_collect",
    "batch_status",
    "batch_submit",
    "detect_language",
    "estimate",
    "evaluate",
    "event_types",
    "extract",
    "format_evaluation",
    "fuse",
    "iter_articles",
    "load_article",
    "load_gold",
    "load_results",
    "normalize_extraction",
    "open_writer",
    "read_results",
    "read_texts",
    "register_event_type",
    "render_report",
    "resolve_country",
    "resolve_date",
    "run",
    "source_texts",
    "stale_schemas",
    "unregister_event_type",
    "write_schemas",
]
"""The public API, pinned: a name added or removed is a decision, made here on purpose."""


def test_the_public_api_is_exactly_what_is_pinned() -> None:
    assert eventx.__all__ == PUBLIC_API
    for name in PUBLIC_API:
        assert getattr(eventx, name) is not None, name
    assert set(PUBLIC_API) <= set(dir(eventx))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Runner'"):
        eventx.Runner  # noqa: B018


def test_import_eventx_loads_no_sdk_or_heavy_library() -> None:
    code = (
        "import sys, eventx; heavy = {'openai', 'instructor', 'pydantic', 'pyarrow', 'scipy', "
        "'trafilatura', 'rich', 'vcr', 'dateparser', 'babel', 'rapidfuzz', 'numpy', 'ray'}; "
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_a_jsonl_run_loads_no_table_or_analysis_library(tmp_path: Path) -> None:
    """pyarrow is for CSV/Parquet outputs and scipy for `eventx eval`: neither is in the
    memory of an extraction that writes JSONL."""
    code = (
        "import sys\n"
        "from eventx.cli import main\n"
        "try:\n"
        "    main(['extract', 'seeds', '--replay', 'tests/cassettes/seeds', '-o', sys.argv[1]])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "heavy = {'pyarrow', 'scipy', 'pandas', 'trafilatura', 'pypdfium2', 'docx', 'ray'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    command = [sys.executable, "-c", code, str(tmp_path / "events.jsonl")]
    done = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_layers_hold() -> None:
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run([str(lint)], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-3000:]


def _python_blocks() -> list[tuple[str, str]]:
    pages = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
    fence = re.compile(r"```python\n(?P<body>.*?)```", re.S)
    return [(page.name, m["body"]) for page in pages for m in fence.finditer(page.read_text())]


PUBLIC_MODULES = {"eventx.ray": ["extract", "output_schema", "results_of", "run"]}
"""Public modules besides ``eventx`` itself (imported on purpose, for an optional extra)."""


def test_the_docs_use_only_the_public_api() -> None:
    for page, body in _python_blocks():
        for node in ast.walk(ast.parse(body)):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module in PUBLIC_MODULES:
                assert all(alias.name in PUBLIC_MODULES[module] for alias in node.names), page
            elif module is not None and module.startswith("eventx."):
                raise AssertionError(f"{page} imports {node.module}")
            if module == "eventx":
                assert all(alias.name in PUBLIC_API for alias in node.names), page
            if isinstance(node, ast.Attribute) and getattr(node.value, "id", None) == "eventx":
                assert node.attr in PUBLIC_API or f"eventx.{node.attr}" in PUBLIC_MODULES, (
                    page,
                    node.attr,
                )


def test_the_public_modules_export_what_is_pinned() -> None:
    import importlib

    for name, exported in PUBLIC_MODULES.items():
        assert importlib.import_module(name).__all__ == exported


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
