"""The HTML report: escaping, highlights, summary, and a render in a real headless Chromium."""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eventx.analysis.export import load_results
from eventx.analysis.report import COLOURS, highlight, read_texts, render_report
from eventx.cli import main
from eventx.models import (
    Actor,
    ArticleExtraction,
    Claim,
    ErrorRecord,
    Evidence,
    ExtractionResult,
)
from tests.conftest import SEEDS

HOSTILE_ID = "hostile"
HOSTILE = (
    "Intro </div></section><script>window.pwned = 1</script>\n"
    'Der Minister sagte: "<img src=x onerror="window.pwned=2">" & mehr.\n'
    "Schluss {{ x }} </mark></body>"
)
SAID = 'Der Minister sagte: "<img src=x onerror="window.pwned=2">"'
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def _hostile_result() -> ExtractionResult:
    start = HOSTILE.index(SAID)
    claim = Claim(
        id='c1"><script>window.pwned=3</script>',
        speaker=Actor(name="<b>Minister</b>", kind="person", country="DEU"),
        text="The minister said <img src=x onerror=alert(1)>.",
        quote_type="direct",
        claim_type="assertion",
        evidence=[Evidence(quote=SAID, start=start, end=start + len(SAID))],
    )
    return ExtractionResult(
        article_id=HOSTILE_ID,
        title="<script>window.pwned=4</script>",
        extraction=ArticleExtraction(claims=[claim]),
        model="m",
        mode="tools",
        prompt_hash="0" * 16,
    )


def _failed_result() -> ExtractionResult:
    return ExtractionResult(
        article_id="broken",
        model="m",
        mode="tools",
        prompt_hash="0" * 16,
        error=ErrorRecord(category="api", message="HTTP 401 <bad key>", attempts=1),
    )


@pytest.fixture
def results(seed_predictions: Path) -> list[ExtractionResult]:
    return [*load_results(seed_predictions), _hostile_result(), _failed_result()]


@pytest.fixture
def texts() -> dict[str, str]:
    return {**read_texts([SEEDS]), HOSTILE_ID: HOSTILE}


def test_hostile_text_and_output_are_escaped(
    results: list[ExtractionResult], texts: dict[str, str]
) -> None:
    html = render_report(results, texts)
    assert html.count("<script") == 1  # the report's own script, nothing injected
    assert "<img" not in html
    assert "window.pwned" in html  # shown as text
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in html
    assert "HTTP 401 &lt;bad key&gt;" in html


def test_the_report_is_self_contained(
    results: list[ExtractionResult], texts: dict[str, str]
) -> None:
    html = render_report(results, texts)
    assert "default-src 'none'" in html
    assert not re.search(r"<(link|img|iframe)\b", html)
    assert not re.search(r"""\b(src|href)=["'](?!#)""", html)  # only in-page anchors


def test_overlapping_spans_are_cut_and_keep_every_record() -> None:
    text = "abcdefghij"
    html = highlight(text, [(1, 5, "e1", "meeting"), (3, 8, "c1", "claim")])
    marks = re.findall(r'data-start="(\d+)" data-end="(\d+)" data-records="([^"]*)"', html)
    assert marks == [("1", "3", "e1"), ("3", "5", "e1 c1"), ("5", "8", "c1")]
    assert re.sub(r"<[^>]+>", "", html) == text
    assert 'class="hl hl-meeting"' in html
    assert 'class="hl hl-claim"' in html


def test_summary_counts_and_timeline(
    results: list[ExtractionResult], texts: dict[str, str]
) -> None:
    html = render_report(results, texts)
    summary = html[html.index('id="summary"') : html.index('id="timeline"')]
    assert "<td>ok</td><td>6</td>" in summary
    assert "<td>failed</td><td>1</td>" in summary
    assert "<td>aid_delivery</td><td>3</td>" in summary
    assert "<td>RUS</td><td>1</td>" in summary
    timeline = html[html.index('id="timeline"') : html.index('id="failures"')]
    assert timeline.index("2025-04-09") < timeline.index("--09-12")


def test_cli_writes_the_report_and_warns_without_texts(
    seed_predictions: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r" / "report.html"
    runner = CliRunner()
    with_texts = runner.invoke(
        main, ["report", str(seed_predictions), "-o", str(out), "--articles", str(SEEDS)]
    )
    assert with_texts.exit_code == 0, with_texts.output
    assert out.read_text(encoding="utf-8").count('class="hl hl-') > 20
    from_sources = runner.invoke(main, ["report", str(seed_predictions), "-o", str(out)])
    assert from_sources.exit_code == 0
    assert out.read_text(encoding="utf-8").count('class="hl hl-') > 20
    moved = tmp_path / "moved.jsonl"
    moved.write_text(
        seed_predictions.read_text(encoding="utf-8").replace(str(SEEDS), "gone"), "utf-8"
    )
    without = runner.invoke(main, ["report", str(moved), "-o", str(out)])
    assert without.exit_code == 0
    assert "no article text for 000_6d0568a9ee7619e7" in without.output
    assert "article text not available" in out.read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium through chromedriver; fails under CI when missing."""
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are required in CI (apt-get install)")
        pytest.skip("chromium / chromedriver not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1300,1800",
        "--force-device-scale-factor=1",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _colour_pixels(png: bytes, hex_colour: str) -> int:
    from PIL import Image

    wanted = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    with Image.open(io.BytesIO(png)) as image:
        rgb = image.convert("RGB")
        return sum(count for count, colour in rgb.getcolors(1 << 24) or [] if colour == wanted)


def test_highlights_render_in_chromium(
    browser: Any, results: list[ExtractionResult], texts: dict[str, str], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    page = tmp_path / "report.html"
    page.write_text(render_report(results, texts, title="seeds"), encoding="utf-8")
    browser.get(page.as_uri())
    assert browser.title == "seeds"
    assert browser.execute_script("return window.pwned === undefined")

    marks = browser.execute_script(
        "return Array.from(document.querySelectorAll('mark.hl')).map(m => ["
        "m.closest('.article').dataset.article, +m.dataset.start, +m.dataset.end,"
        "m.textContent, getComputedStyle(m).backgroundColor])"
    )
    assert len(marks) > 40
    for article_id, start, end, shown, _ in marks:
        assert shown == texts[article_id][start:end]
    located = {
        (r.article_id, e.start)
        for r in results
        if r.extraction
        for record in [*r.extraction.events, *r.extraction.claims]
        for e in [*record.evidence, getattr(record, "quote", None)]
        if e is not None and e.start is not None
    }
    starts = {(article_id, start) for article_id, start, *_ in marks}
    assert located <= starts  # every located evidence quote begins a highlight
    hostile = [m for m in marks if m[0] == HOSTILE_ID]
    assert [m[3] for m in hostile] == [SAID]
    assert hostile[0][4] == "rgb(184, 242, 176)"  # the claim colour

    first_text = browser.find_element(By.CSS_SELECTOR, ".article .text")
    browser.execute_script("arguments[0].scrollIntoView()", first_text)
    png = first_text.screenshot_as_png
    assert _colour_pixels(png, COLOURS["meeting"]) > 2000
    assert _colour_pixels(png, COLOURS["claim"]) > 2000
    assert _colour_pixels(png, COLOURS["diplomatic_protest"]) > 500

    failed = browser.find_element(By.ID, "failures").text
    assert "broken" in failed
    assert "HTTP 401 <bad key>" in failed
