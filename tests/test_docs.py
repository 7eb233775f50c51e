"""The docs: generated references are current, links resolve, and every example runs.

Examples are executed offline from a scratch copy of the seeds, the gold file and
the seed cassettes: each page's ```python blocks run in order in one namespace, and
each `$ eventx ...` line of a ```console block (`eventx ...` line of a ```bash block)
runs as a command and must exit 0, and each statement of a ```sql block must return
rows in DuckDB. A block preceded by `<!-- docs-test: skip -->`
(examples that need a live endpoint or a key) is not run; an eventx command that
could not run as written (an environment-variable prefix, a pipe) must be in one.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import docgen
from tests.conftest import ROOT

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
SKIP = "<!-- docs-test: skip -->"
FENCE = re.compile(
    r"(?P<marker><!-- docs-test: skip -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S
)
# Pages written together with their features; index.md links to them ahead of time.
RUN = ("python", "console", "bash", "sql")
PLANNED = {"codes.md", "normalization.md", "fusion.md", "benchmarks.md"}


def _blocks(page: Path) -> list[tuple[str, str]]:
    text = page.read_text(encoding="utf-8")
    return [
        (m["lang"], m["body"]) for m in FENCE.finditer(text) if not m["marker"] and m["lang"] in RUN
    ]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch directory laid out like the repository's top level."""
    for part in (
        "seeds",
        "gold",
        "tests/cassettes/seeds",
        "tests/cassettes/seeds-qwen2.5-coder-1.5b",
    ):
        shutil.copytree(ROOT / part, tmp_path / part)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _commands(lang: str, body: str) -> list[str]:
    prompt = "$ " if lang == "console" else ""
    lines = [line for line in body.splitlines() if line.startswith(prompt)]
    commands = [line.removeprefix(prompt) for line in lines]
    for command in commands:
        if "eventx" in command.split("#")[0] and not command.startswith("eventx "):
            raise AssertionError(f"cannot run {command!r} offline: mark its block {SKIP}")
    return [command for command in commands if command.startswith("eventx ")]


def _run_commands(lang: str, body: str, cwd: Path) -> None:
    for line in _commands(lang, body):
        args = shlex.split(line, comments=True)[1:]
        done = subprocess.run(
            [sys.executable, "-m", "eventx", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"


def test_generated_pages_are_current() -> None:
    stale = [str(path.relative_to(ROOT)) for path in docgen.stale_pages()]
    assert not stale, f"out of date: {stale}; run `python -m tests.docgen`"


def test_the_cli_reference_covers_every_command() -> None:
    reference = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in docgen.main.commands:
        assert f"## `eventx {name}`" in reference


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    for target in re.findall(r"\]\((?!https?://|#)([^)#\s]+)", text):
        if Path(target).name in PLANNED:
            continue
        assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if _blocks(p)], ids=lambda p: p.name)
def test_examples_run(page: Path, sandbox: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for lang, body in _blocks(page):
        if lang in ("console", "bash"):
            _run_commands(lang, body, sandbox)
        elif lang == "sql":
            _run_sql(body)
        else:
            # dont_inherit: the example runs as written, without this module's __future__
            exec(compile(body, f"{page.name}", "exec", dont_inherit=True), namespace)


def _run_sql(body: str) -> None:
    """Each statement of a ```sql block, in DuckDB, must return rows."""
    import duckdb

    with duckdb.connect() as database:
        for statement in filter(str.strip, body.split(";")):
            assert database.execute(statement).fetchall(), statement


def test_every_example_page_is_exercised() -> None:
    # A fence with a language this test does not run would go unchecked silently.
    for page in PAGES:
        for match in FENCE.finditer(page.read_text(encoding="utf-8")):
            assert match["lang"] in (*RUN, "text", "yaml", "json"), (
                page.name,
                match["lang"],
            )
