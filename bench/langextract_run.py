"""LangExtract over article files, for a side-by-side comparison with eventx.

    python bench/langextract_run.py seeds/*.txt --base-url http://127.0.0.1:8090/v1 \\
        --model qwen2.5-coder-1.5b --out /work/scratch/lx-1.5b \\
        [--max-char-buffer 1000] [--passes 1] [--temperature 0]

Runs in its own environment with ``langextract`` and ``openai`` installed (never eventx).
Each article (id = file stem) is one ``lx.extract`` call through LangExtract's OpenAI
provider, pointed at any OpenAI-compatible server (llama.cpp, vLLM, ...), with the prompt
description and few-shot examples below. Writes ``PREFIX.raw.jsonl``: one line per
article, LangExtract's own annotated document (``lx.io`` format: ``document_id``,
``text``, ``extractions`` with ``char_interval`` and ``alignment_status``) plus a ``run``
object: wall-clock seconds, start and end times, the settings, the prompt hash, chunks
LangExtract dropped because the model's answer did not parse, and any error.
``bench/langextract_convert.py`` turns that file into eventx results (``PREFIX.jsonl``);
``--convert-python`` runs it right after, with the interpreter that has eventx.

LangExtract settings, and why:

* ``use_schema_constraints`` off by default: on, the OpenAI provider sends
  ``response_format={"type": "json_schema", ...}`` built from the examples, which
  servers such as llama-cpp-python reject or ignore; off, it sends
  ``{"type": "json_object"}`` (JSON mode). ``--schema-constraints`` turns it on.
* ``fence_output``: LangExtract's default for the OpenAI provider in JSON mode is no
  fences; ``--fence-output on`` asks for fenced answers (the resolver accepts both).
* ``max_workers`` 1: a local server answers one request at a time, so parallel chunk
  requests only queue (and can outlive the OpenAI SDK's 600 s timeout, which retries).
* ``max_output_tokens`` 2048: a cap on runaway answers (small models under a JSON
  grammar may emit whitespace until the context is full).
* ``--timeout`` / ``--max-retries``: the OpenAI SDK's request timeout (600 s) and retries
  (2), which LangExtract does not expose; set on the provider's client. On a slow CPU a
  request can take longer than 600 s, and a timed-out request that is retried keeps the
  server busy with the abandoned one as well.
* ``temperature``: not sent unless given (the server's default applies).
* ``--base-url`` may contain ``{article}``: with ``bench/usage_proxy.py`` in front of
  the server, ``http://127.0.0.1:8090/t/{article}/v1`` tags each request with its
  article for token accounting.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import langextract as lx
from langextract import data_lib

PROMPT_DESCRIPTION = """\
Extract political events and statements from a news article, in order of appearance.

Classes:
- meeting: a meeting, talks, visit or phone call between named actors.
  Attributes: participants (everyone who met, English names), participant_countries
  (ISO 3166-1 alpha-3 code of each participant's country, same order), status,
  date (as written in the text, only when given).
- aid_delivery: aid (weapons, vehicles, equipment, food, money) handed over or promised
  by a donor to a recipient. Attributes: donor, donor_country, recipient,
  recipient_country, items (each "quantity description" in English), status, date.
- diplomatic_protest: a formal diplomatic protest: an ambassador or diplomat summoned,
  a protest note, a demarche, an expulsion. Attributes: protester, protester_country,
  target, target_country, status, date.
- claim: a statement the article attributes to a named speaker (person, government,
  ministry or media outlet). Attributes: speaker (English name), speaker_country,
  content (what was said, as one standalone English sentence).

status is one of: occurred, planned, pledged, reported, denied.
Country codes are ISO 3166-1 alpha-3 (DEU, POL, UKR); leave them empty for
international organizations.
The extraction text must be copied exactly from the article, in the article's own
language: never translate or paraphrase it. Only extract what the article itself
reports; ignore menus, advertisements and lists of other headlines."""

Span = tuple[str, str, dict[str, str | list[str]]]
"""One example extraction: class, verbatim text, attributes."""

EXAMPLES: list[tuple[str, list[Span]]] = [
    (
        "Bei einem Besuch in Warschau am 3. März traf die deutsche Außenministerin Anna "
        "Berger ihren polnischen Amtskollegen Tomasz Wolski. Deutschland sagte Polen 20 "
        "Transportpanzer zu, die bis zum Sommer geliefert werden sollen. „Eure Grenze ist "
        "auch unsere Grenze“, sagte Berger nach dem Gespräch. Am selben Tag bestellte das "
        "polnische Außenministerium den belarussischen Geschäftsträger ein, nachdem Drohnen "
        "den polnischen Luftraum verletzt hatten.",
        [
            (
                "meeting",
                "traf die deutsche Außenministerin Anna Berger ihren polnischen Amtskollegen "
                "Tomasz Wolski",
                {
                    "participants": ["Anna Berger", "Tomasz Wolski"],
                    "participant_countries": ["DEU", "POL"],
                    "status": "occurred",
                    "date": "3. März",
                },
            ),
            (
                "aid_delivery",
                "Deutschland sagte Polen 20 Transportpanzer zu",
                {
                    "donor": "Germany",
                    "donor_country": "DEU",
                    "recipient": "Poland",
                    "recipient_country": "POL",
                    "items": ["20 armoured personnel carriers"],
                    "status": "pledged",
                },
            ),
            (
                "claim",
                "Eure Grenze ist auch unsere Grenze",
                {
                    "speaker": "Anna Berger",
                    "speaker_country": "DEU",
                    "content": "Poland's border is also Germany's border.",
                },
            ),
            (
                "diplomatic_protest",
                "bestellte das polnische Außenministerium den belarussischen Geschäftsträger ein",
                {
                    "protester": "Polish Ministry of Foreign Affairs",
                    "protester_country": "POL",
                    "target": "Belarus",
                    "target_country": "BLR",
                    "status": "occurred",
                },
            ),
        ],
    ),
    (
        "OTTAWA (Reuters) - Canada has delivered 40 generators and 2,000 medical kits to "
        "Moldova, the foreign ministry said on Tuesday. Prime Minister Claire Dubois spoke "
        "by phone with Moldovan President Ion Rusu, who thanked Ottawa for the support. "
        "Rusu warned that Russia was trying to destabilise his country before the elections.",
        [
            (
                "aid_delivery",
                "Canada has delivered 40 generators and 2,000 medical kits to Moldova",
                {
                    "donor": "Canada",
                    "donor_country": "CAN",
                    "recipient": "Moldova",
                    "recipient_country": "MDA",
                    "items": ["40 generators", "2000 medical kits"],
                    "status": "occurred",
                },
            ),
            (
                "meeting",
                "Prime Minister Claire Dubois spoke by phone with Moldovan President Ion Rusu",
                {
                    "participants": ["Claire Dubois", "Ion Rusu"],
                    "participant_countries": ["CAN", "MDA"],
                    "status": "occurred",
                },
            ),
            (
                "claim",
                "Rusu warned that Russia was trying to destabilise his country before the "
                "elections",
                {
                    "speaker": "Ion Rusu",
                    "speaker_country": "MDA",
                    "content": "Russia is trying to destabilise Moldova before the elections.",
                },
            ),
        ],
    ),
    (
        "Міністерство закордонних справ України викликало посла Угорщини через заяви "
        "угорського уряду щодо Закарпаття. «Такі слова підривають добросусідські "
        "відносини», – заявив речник МЗС Олег Коваль. Тим часом Норвегія передала Україні "
        "15 мобільних котелень. 20 жовтня міністр оборони Норвегії Ерік Лунд планує "
        "зустрітися у Києві з українським колегою Петром Бондаренком.",
        [
            (
                "diplomatic_protest",
                "Міністерство закордонних справ України викликало посла Угорщини",
                {
                    "protester": "Ukrainian Ministry of Foreign Affairs",
                    "protester_country": "UKR",
                    "target": "Hungary",
                    "target_country": "HUN",
                    "status": "occurred",
                },
            ),
            (
                "claim",
                "Такі слова підривають добросусідські відносини",
                {
                    "speaker": "Oleh Koval",
                    "speaker_country": "UKR",
                    "content": (
                        "The Hungarian government's statements undermine good-neighbourly "
                        "relations."
                    ),
                },
            ),
            (
                "aid_delivery",
                "Норвегія передала Україні 15 мобільних котелень",
                {
                    "donor": "Norway",
                    "donor_country": "NOR",
                    "recipient": "Ukraine",
                    "recipient_country": "UKR",
                    "items": ["15 mobile boiler units"],
                    "status": "occurred",
                },
            ),
            (
                "meeting",
                "міністр оборони Норвегії Ерік Лунд планує зустрітися у Києві з українським "
                "колегою Петром Бондаренком",
                {
                    "participants": ["Erik Lund", "Petro Bondarenko"],
                    "participant_countries": ["NOR", "UKR"],
                    "status": "planned",
                    "date": "20 жовтня",
                },
            ),
        ],
    ),
]
"""Invented few-shot examples: German, English, Ukrainian; every class at least twice."""


def build_examples() -> list[lx.data.ExampleData]:
    """The few-shot examples as LangExtract ``ExampleData``."""
    return [
        lx.data.ExampleData(
            text=text,
            extractions=[
                lx.data.Extraction(extraction_class=cls, extraction_text=span, attributes=attrs)
                for cls, span, attrs in spans
            ],
        )
        for text, spans in EXAMPLES
    ]


def prompt_hash() -> str:
    """A short hash of the prompt description and the examples."""
    payload = json.dumps([PROMPT_DESCRIPTION, EXAMPLES], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RunSettings:
    """Everything that shapes one LangExtract run."""

    model: str
    base_url: str
    max_char_buffer: int = 1000
    extraction_passes: int = 1
    fence_output: bool | None = None
    use_schema_constraints: bool = False
    temperature: float | None = None
    max_output_tokens: int | None = 2048
    max_workers: int = 1
    timeout: float = 600.0
    max_retries: int = 2
    api_key: str = "sk-local"

    def public(self) -> dict[str, Any]:
        """The settings to record (without the API key)."""
        return {k: v for k, v in asdict(self).items() if k != "api_key"}


class ParseErrorCounter(logging.Handler):
    """Counts the chunks LangExtract omits because the model's answer did not parse."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep every 'Chunk omitted' warning."""
        message = record.getMessage()
        if "Chunk omitted" in message:
            self.messages.append(message[:500])


def model_config(settings: RunSettings, article_id: str) -> lx.factory.ModelConfig:
    """LangExtract's OpenAI provider, pointed at the server (per-article URL tag filled)."""
    params: dict[str, Any] = {
        "base_url": settings.base_url.replace("{article}", article_id),
        "api_key": settings.api_key,
        "max_workers": settings.max_workers,
    }
    if settings.temperature is not None:
        params["temperature"] = settings.temperature
    if settings.max_output_tokens is not None:
        params["max_output_tokens"] = settings.max_output_tokens
    return lx.factory.ModelConfig(
        model_id=settings.model, provider="OpenAILanguageModel", provider_kwargs=params
    )


def build_model(settings: RunSettings, article_id: str) -> Any:
    """The OpenAI provider as ``lx.extract`` would build it, with the SDK's timeout and
    retries set (LangExtract does not pass them through)."""
    model = lx.factory.create_model(
        config=model_config(settings, article_id),
        examples=build_examples() if settings.use_schema_constraints else None,
        use_schema_constraints=settings.use_schema_constraints,
        fence_output=settings.fence_output,
    )
    model._client = model._client.with_options(
        timeout=settings.timeout, max_retries=settings.max_retries
    )
    return model


def extract_article(text: str, article_id: str, settings: RunSettings) -> lx.data.AnnotatedDocument:
    """One ``lx.extract`` call over one article."""
    documents = lx.extract(
        text_or_documents=[lx.data.Document(text=text, document_id=article_id)],
        prompt_description=PROMPT_DESCRIPTION,
        examples=build_examples(),
        model=build_model(settings, article_id),
        max_char_buffer=settings.max_char_buffer,
        extraction_passes=settings.extraction_passes,
        fence_output=settings.fence_output,
        use_schema_constraints=False,  # already applied to the model, when asked for
        max_workers=settings.max_workers,
        batch_length=max(settings.max_workers, 1),
        show_progress=False,
    )
    return next(iter(documents))


def read_text(path: Path) -> str:
    """The file's text, decoded without newline translation (offsets stay exact)."""
    return path.read_bytes().decode("utf-8-sig")


def run_article(path: Path, settings: RunSettings, counter: ParseErrorCounter) -> dict[str, Any]:
    """Extract one article; its raw JSONL record (annotated document plus ``run``)."""
    article_id, text = path.stem, read_text(path)
    counter.messages.clear()
    started = time.time()
    error = None
    try:
        document = extract_article(text, article_id, settings)
    except Exception as exc:  # one failing article must not end the run
        error = f"{type(exc).__name__}: {exc}"
        traceback.print_exc(file=sys.stderr)
        document = lx.data.AnnotatedDocument(document_id=article_id, extractions=[], text=text)
    ended = time.time()
    record = data_lib.annotated_document_to_dict(document)
    record["run"] = {
        "source": str(path),
        "model": settings.model,
        "mode": "langextract",
        "langextract_version": version("langextract"),
        "prompt_hash": prompt_hash(),
        "settings": settings.public(),
        "started": round(started, 3),
        "ended": round(ended, 3),
        "seconds": round(ended - started, 3),
        "chunks": count_chunks(text, settings.max_char_buffer),
        "parse_errors": list(counter.messages),
        "error": error,
    }
    return record


def count_chunks(text: str, max_char_buffer: int) -> int:
    """How many chunks LangExtract splits ``text`` into (one request each, per pass)."""
    chunks = lx.chunking.ChunkIterator(
        text=text, max_char_buffer=max_char_buffer, tokenizer_impl=lx.tokenizer.RegexTokenizer()
    )
    return sum(1 for _ in chunks)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", nargs="+", type=Path, help="article text files")
    parser.add_argument("--base-url", required=True, help="OpenAI-compatible URL (…/v1)")
    parser.add_argument("--model", required=True, help="model name the server answers to")
    parser.add_argument("--out", required=True, type=Path, help="output prefix")
    parser.add_argument("--max-char-buffer", type=int, default=1000)
    parser.add_argument("--passes", type=int, default=1, help="extraction_passes")
    parser.add_argument("--fence-output", choices=["auto", "on", "off"], default="auto")
    parser.add_argument("--schema-constraints", action="store_true")
    parser.add_argument("--temperature", type=float, default=None)
    parser.add_argument("--max-output-tokens", type=int, default=2048, help="0: no cap")
    parser.add_argument("--max-workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per request")
    parser.add_argument("--max-retries", type=int, default=2, help="OpenAI SDK retries")
    parser.add_argument("--api-key", default="sk-local")
    parser.add_argument(
        "--resume", action="store_true", help="keep PREFIX.raw.jsonl; skip its successful articles"
    )
    parser.add_argument(
        "--convert-python",
        help="interpreter with eventx installed: run langextract_convert.py afterwards",
    )
    parser.add_argument("--proxy-log", type=Path, help="passed on to langextract_convert.py")
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> RunSettings:
    """Run settings from the command line."""
    fence = {"auto": None, "on": True, "off": False}[args.fence_output]
    return RunSettings(
        model=args.model,
        base_url=args.base_url,
        max_char_buffer=args.max_char_buffer,
        extraction_passes=args.passes,
        fence_output=fence,
        use_schema_constraints=args.schema_constraints,
        temperature=args.temperature,
        max_output_tokens=args.max_output_tokens or None,
        max_workers=args.max_workers,
        timeout=args.timeout,
        max_retries=args.max_retries,
        api_key=args.api_key,
    )


def finished_articles(raw: Path) -> set[str]:
    """Ids of the articles ``raw`` holds a successful record for; failed records are
    removed from the file, so those articles run again."""
    if not raw.exists():
        return set()
    with raw.open(encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    kept = [record for record in records if not record["run"].get("error")]
    lines = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in kept)
    raw.write_text(lines, encoding="utf-8")
    return {record["document_id"] for record in kept}


def convert(args: argparse.Namespace, raw: Path) -> None:
    """Run the converter with the eventx interpreter."""
    script = Path(__file__).with_name("langextract_convert.py")
    command = [args.convert_python, str(script), str(raw), "--out", f"{args.out}.jsonl"]
    if args.proxy_log:
        command += ["--proxy-log", str(args.proxy_log)]
    subprocess.run(command, check=True)


def main(argv: list[str] | None = None) -> None:
    """Extract every article, appending each record as soon as it is done."""
    args = parse_args(argv)
    settings = settings_from(args)
    counter = ParseErrorCounter()
    logging.getLogger("absl").addHandler(counter)
    raw = Path(f"{args.out}.raw.jsonl")
    raw.parent.mkdir(parents=True, exist_ok=True)
    done = finished_articles(raw) if args.resume else set()
    if not args.resume:
        raw.write_text("", encoding="utf-8")
    todo = [path for path in args.articles if path.stem not in done]
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"{stamp} langextract {settings.model}: {len(todo)} articles", flush=True)
    for path in todo:
        record = run_article(path, settings, counter)
        with raw.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        run = record["run"]
        print(
            f"{path.stem}: {len(record['extractions'])} extractions, {run['seconds']:.1f}s, "
            f"{len(run['parse_errors'])} chunks unparsed, error={run['error']}",
            flush=True,
        )
    if args.convert_python:
        convert(args, raw)


if __name__ == "__main__":
    main()
