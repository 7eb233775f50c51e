"""``eventx eval``, ``report``, ``fuse``, ``convert`` and ``schema``: thin layers over the
analysis functions of the public API.

A line of a results file that is not an extraction result is skipped by ``report``,
``fuse`` and ``convert`` with a message naming the file and line; they do their work
with the rest and exit with status 1. ``eval`` refuses such a file (status 2), since a
score over part of the predictions would mislead. A file that cannot be read is status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

import eventx
from eventx.cli.common import EXIT_FAILED_ARTICLES, InputProblem, configuration_errors

EXIT_BELOW_MIN_F1 = 1


class _Results:
    """The results read from files; lines that are not results are reported and counted."""

    def __init__(self) -> None:
        self.skipped = 0

    def read(self, path: Path) -> list[eventx.ExtractionResult]:
        results = []
        with configuration_errors():
            for item in eventx.read_results(path):
                if isinstance(item, eventx.InputError):
                    click.echo(f"skipped {item}", err=True)
                    self.skipped += 1
                else:
                    results.append(item)
        return results

    def exit_if_skipped(self) -> None:
        if self.skipped:
            sys.exit(EXIT_FAILED_ARTICLES)


@click.command(name="eval")
@click.option(
    "--gold",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="Gold annotations (.yaml or .jsonl; format in docs/evaluation.md).",
)
@click.option(
    "--pred",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    required=True,
    help="Predictions: the JSONL written by `eventx extract`.",
)
@click.option(
    "--articles",
    type=click.Path(path_type=Path, exists=True),
    multiple=True,
    help="Article files or directories.  [default: each gold entry's source]",
)
@click.option("--json", "as_json", is_flag=True, help="Print the measurements as JSON.")
@click.option(
    "--min-f1",
    type=click.FloatRange(0, 1),
    default=None,
    help="Exit with status 1 when the overall F1 (events and claims) is below this.",
)
def eval_command(
    gold: Path, pred: Path, articles: tuple[Path, ...], as_json: bool, min_f1: float | None
) -> None:
    """Measure predictions against gold annotations: P/R/F1, field accuracy, grounding, junk.

    Exits 2 when the predictions hold no result for any gold article (nothing to measure).
    """
    with configuration_errors():
        gold_articles = eventx.load_gold(gold)
        predictions = eventx.load_results(pred)
        texts = eventx.read_texts(articles) if articles else None
    covered = {result.article_id for result in predictions} & {a.id for a in gold_articles}
    if not covered:
        raise InputProblem(
            f"{pred} holds {len(predictions)} results and none for the {len(gold_articles)} "
            f"articles of {gold}; nothing to measure"
        )
    evaluation = eventx.evaluate(gold_articles, predictions, texts)
    if as_json:
        click.echo(json.dumps(evaluation.to_json(), indent=2, ensure_ascii=False))
    else:
        click.echo(eventx.format_evaluation(evaluation))
    if min_f1 is not None and evaluation.overall.f1 < min_f1:
        click.echo(f"overall F1 {evaluation.overall.f1:.3f} is below --min-f1 {min_f1}", err=True)
        sys.exit(EXIT_BELOW_MIN_F1)


@click.command()
@click.argument("results", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("report.html"),
    show_default=True,
    help="HTML file to write.",
)
@click.option(
    "--articles",
    type=click.Path(path_type=Path, exists=True),
    multiple=True,
    help="The inputs given to `eventx extract`.  [default: each result's source file]",
)
@click.option("--title", default="eventx report", show_default=True, help="Report title.")
def report(results: Path, output: Path, articles: tuple[Path, ...], title: str) -> None:
    """Write a self-contained HTML report: highlighted evidence, records, failures, summary."""
    reader = _Results()
    loaded = reader.read(results)
    texts = eventx.read_texts(articles) if articles else eventx.source_texts(loaded)
    missing = [r.article_id for r in loaded if r.error is None and r.article_id not in texts]
    if missing:
        click.echo(f"no article text for {', '.join(missing)}; pass --articles", err=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(eventx.render_report(loaded, texts, title=title), encoding="utf-8")
    click.echo(f"wrote {output} ({len(loaded)} articles)", err=True)
    reader.exit_if_skipped()


@click.command()
@click.argument("results", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Table file to write (.csv or .parquet).",
)
@click.option(
    "--format",
    "table_format",
    type=click.Choice(["csv", "parquet"]),
    default=None,
    help="Table format.  [default: from the output's suffix]",
)
@click.option("--no-errors", is_flag=True, help="Leave out the rows of failed articles.")
def convert(results: Path, output: Path, table_format: str | None, no_errors: bool) -> None:
    """Turn an `extract` output (JSONL) into a table: a row per event, claim, failed article."""
    reader = _Results()
    loaded = reader.read(results)
    with (
        configuration_errors(),
        eventx.open_writer(output, table_format, include_errors=not no_errors) as writer,
    ):
        for result in loaded:
            writer.write(result)
    click.echo(f"{writer.results} results, {writer.rows} rows: {output}", err=True)
    reader.exit_if_skipped()


@click.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="JSONL file to write, one fused event per line.  [default: stdout]",
)
def fuse(inputs: tuple[Path, ...], output: Path | None) -> None:
    """Merge the event records of `eventx extract` outputs into one record per real-world
    event, listing every article that reports it."""
    reader = _Results()
    results = [result for path in inputs for result in reader.read(path)]
    fused = eventx.fuse(results)
    lines = "".join(event.model_dump_json() + "\n" for event in fused)
    if output is None:
        sys.stdout.write(lines)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(lines, encoding="utf-8")
    records = sum(len(event.sources) for event in fused)
    shared = sum(1 for event in fused if len({s.article_id for s in event.sources}) > 1)
    click.echo(
        f"records:   {records} from {len(results)} results\n"
        f"fused:     {len(fused)} events ({shared} reported by several articles)",
        err=True,
    )
    reader.exit_if_skipped()


@click.command()
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("schemas"),
    show_default=True,
    help="Directory to write into.",
)
@click.option("--check", is_flag=True, help="Only check that the files are up to date.")
def schema(out: Path, check: bool) -> None:
    """Write one JSON Schema file per public model (the data contract)."""
    if check:
        stale = eventx.stale_schemas(out)
        if stale:
            raise click.ClickException(
                f"out of date in {out}: {', '.join(stale)}; run `eventx schema --out {out}`"
            )
        click.echo(f"{out}: up to date")
        return
    for path in eventx.write_schemas(out):
        click.echo(f"wrote {path}")
