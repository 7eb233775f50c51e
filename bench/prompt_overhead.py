"""Measure the fixed prompt overhead (instructions + schema) in o200k_base tokens.

    python bench/prompt_overhead.py

Prints a Markdown table; docs/prompt.md quotes its output.
"""

from __future__ import annotations

import json
from pathlib import Path

from eventx.extraction.prompt import INSTRUCTIONS, build_messages, model_facing_schema
from eventx.extraction.tokens import count_tokens as tokens
from eventx.ingest.clean import clean
from eventx.models import Article, ArticleExtraction


def main() -> None:
    schema = json.dumps(model_facing_schema(ArticleExtraction), separators=(",", ":"))
    published = json.dumps(ArticleExtraction.model_json_schema(), separators=(",", ":"))
    seeds = sorted(Path(__file__).resolve().parents[1].joinpath("seeds").glob("*.txt"))
    texts = [path.read_text(encoding="utf-8") for path in seeds]
    article_tokens = [tokens(text) for text in texts]
    cleaned_tokens = [tokens(clean(text).text) for text in texts]
    header = build_messages(Article(id="x", text=""))[1]["content"]
    print("| part | tokens (o200k_base) |")
    print("|---|---|")
    print(f"| instructions (system message) | {tokens(INSTRUCTIONS)} |")
    print(f"| schema as the model sees it (compact JSON) | {tokens(schema)} |")
    print(f"| user-message header | {tokens(header)} |")
    print(f"| fixed overhead, total | {tokens(INSTRUCTIONS) + tokens(schema) + tokens(header)} |")
    print(f"| for comparison: full published schema | {tokens(published)} |")
    print(
        f"| seed article text (min / mean / max) | {min(article_tokens)} / "
        f"{sum(article_tokens) // len(article_tokens)} / {max(article_tokens)} |"
    )
    print(
        f"| seed article text after cleaning (min / mean / max) | {min(cleaned_tokens)} / "
        f"{sum(cleaned_tokens) // len(cleaned_tokens)} / {max(cleaned_tokens)} |"
    )


if __name__ == "__main__":
    main()
