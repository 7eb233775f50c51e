"""Long articles: sentence-aligned overlapping chunks, offsets in the original, merging."""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

import pytest

from eventx import Extractor
from eventx.extraction.merge import merge_parts, number_ids
from eventx.extraction.tokens import count_tokens
from eventx.ingest.chunk import Chunk, sentence_spans, split_into_chunks
from eventx.ingest.prepare import prepare
from eventx.models import Article, ArticleExtraction
from eventx.settings import Settings
from tests.llm_server import server as llm

CITIES = ["Oslo", "Tokyo", "Kyiv", "Berlin", "Hanoi", "Vilnius", "Warsaw", "Seoul", "Ottawa",
          "Canberra", "Lisbon", "Madrid", "Prague", "Vienna"]  # fmt: skip
SENTENCES = [
    f"On day {day}, the foreign minister of Japan met the foreign minister of Norway in {city}."
    for day, city in enumerate(CITIES, start=1)
]
BODY = "\n\n".join(" ".join(SENTENCES[i : i + 2]) for i in range(0, len(SENTENCES), 2))
ARTICLE = Article(
    id="long",
    text="Loading...\n\n" + BODY + "\n\nRecent Posts\n\nA teaser headline\n\n3 min ago\n",
)
SMALL = {"max_chunk_tokens": 100, "chunk_overlap_tokens": 30}


def _assert_covering(chunks: list[Chunk], text: str) -> None:
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)
    for chunk in chunks:
        assert chunk.text == text[chunk.start : chunk.end]
    for before, after in itertools.pairwise(chunks):
        assert before.start < after.start <= before.end  # moves on, leaves no gap


def test_a_normal_article_is_one_chunk() -> None:
    assert split_into_chunks(BODY) == [Chunk(1, 0, len(BODY), BODY)]


def test_long_text_is_split_on_sentence_boundaries_within_the_budget() -> None:
    chunks = split_into_chunks(BODY, max_tokens=100, overlap_tokens=30)
    assert len(chunks) >= 3
    _assert_covering(chunks, BODY)
    for chunk in chunks:
        assert count_tokens(chunk.text) <= 105  # summed per sentence: a close estimate
        assert chunk.text.rstrip().endswith(".")
        assert chunk.text[0].isupper()
    overlaps = [b.end - a.start for a, b in zip(chunks[1:], chunks, strict=False)]
    assert all(overlap > 0 for overlap in overlaps)


def test_chinese_and_japanese_split_without_spaces() -> None:
    text = "".join(f"日本の外相は第{day}日に{city}でノルウェーの外相と会談した。" for day, city
                   in enumerate(CITIES * 2, start=1))  # fmt: skip
    assert " " not in text
    assert len(sentence_spans(text)) == len(CITIES) * 2
    chunks = split_into_chunks(text, max_tokens=100, overlap_tokens=20)
    assert len(chunks) > 2
    _assert_covering(chunks, text)
    assert all(chunk.text.endswith("。") for chunk in chunks)


def test_thai_splits_at_spaces() -> None:
    text = " ".join(f"รัฐมนตรีต่างประเทศญี่ปุ่นพบกับรัฐมนตรีนอร์เวย์ที่{c}" for c in CITIES)
    chunks = split_into_chunks(text, max_tokens=100, overlap_tokens=20)
    assert len(chunks) > 1
    _assert_covering(chunks, text)
    assert all(count_tokens(chunk.text) <= 105 for chunk in chunks)
    assert all(chunk.text.rstrip().endswith(tuple(CITIES)) for chunk in chunks)


def test_text_without_spaces_or_punctuation_is_cut_by_length() -> None:
    text = "あいうえおかきくけこ" * 200
    chunks = split_into_chunks(text, max_tokens=150, overlap_tokens=0)
    _assert_covering(chunks, text)
    assert all(count_tokens(chunk.text) <= 150 for chunk in chunks)


def _meeting(record_id: str, quote: str) -> dict[str, Any]:
    city = re.search(r"in (\w+)\.$", quote)
    return {
        "type": "meeting", "id": record_id, "status": "occurred",
        "summary": f"Japan's and Norway's foreign ministers met in {city and city[1]}.",
        "participants": [{"name": "the foreign minister of Japan", "kind": "person"}],
        "location": {"name": city and city[1]},
        "evidence": [{"quote": quote}],
    }  # fmt: skip


def _answer_for(text: str) -> dict[str, Any]:
    """What a model would say for one chunk: a meeting per sentence, a protest of the first."""
    found = [s for s in SENTENCES if s in text]
    events = [_meeting(f"e{n}", quote) for n, quote in enumerate(found, start=1)]
    protest = {
        "type": "diplomatic_protest", "id": "e99", "status": "occurred", "trigger": "e1",
        "summary": "Someone protested the first meeting of this chunk.",
        "protester": {"name": "Russia", "kind": "state"},
        "target": {"name": "Japan", "kind": "state"},
        "form": "statement", "grievance": "the meeting", "evidence": [{"quote": found[0]}],
    }  # fmt: skip
    return {"events": [*events, protest], "claims": []}


@pytest.fixture
def long_run(server, sleeps):
    """The long article extracted against the scripted server, one answer per chunk."""
    parts = prepare(ARTICLE, Settings(**SMALL)).parts
    server.script(*(llm.answer(_answer_for(part.chunk.text)) for part in parts))
    with Extractor(base_url=server.base_url, api_key="k", sleep=sleeps, **SMALL) as extractor:
        result = extractor.extract(ARTICLE)
    return parts, result, list(server.requests)


def test_each_chunk_is_one_request_with_its_part_number(long_run) -> None:
    parts, result, requests = long_run
    assert len(parts) >= 3
    assert result.ok, result.error
    assert (result.chunks, result.attempts, result.usage.requests) == (len(parts),) * 3
    for number, (part, request) in enumerate(zip(parts, requests, strict=True), start=1):
        user = request["messages"][1]["content"]
        assert f"Part: {number} of {len(parts)}" in user
        assert user.endswith("Article text:\n" + part.chunk.text)
        assert "Loading" not in user
        assert "Recent Posts" not in user


def test_chunk_evidence_is_grounded_in_the_original(long_run) -> None:
    _, result, _ = long_run
    for event in result.extraction.events:
        for evidence in event.evidence:
            assert ARTICLE.text[evidence.start : evidence.end] == evidence.quote
            assert evidence.match == "exact"


def test_records_seen_in_two_chunks_are_merged_and_ids_are_unique(long_run) -> None:
    _, result, _ = long_run
    meetings = [e for e in result.extraction.events if e.type == "meeting"]
    assert sorted(m.evidence[0].quote for m in meetings) == sorted(SENTENCES)
    assert all(len(m.evidence) == 1 for m in meetings)  # the same quote is not added twice
    ids = [e.id for e in result.extraction.events]
    assert ids == [f"e{number}" for number in range(1, len(ids) + 1)]  # numbered after merging
    protests = [e for e in result.extraction.events if e.type == "diplomatic_protest"]
    # every chunk's protest quotes its first sentence; the later chunks' first sentences
    # were also in the previous chunk, so their meetings merged and triggers follow them
    for protest in protests:
        trigger = next(e for e in result.extraction.events if e.id == protest.trigger)
        assert trigger.evidence[0].quote == protest.evidence[0].quote


def test_usage_is_summed_over_chunks(long_run) -> None:
    _, result, requests = long_run
    assert result.usage.prompt_tokens > len(requests) * 1000  # instructions + schema each time


def test_the_async_twin_chunks_the_same_way(server, sleeps) -> None:
    parts = prepare(ARTICLE, Settings(**SMALL)).parts
    server.script(*(llm.answer(_answer_for(part.chunk.text)) for part in parts))

    async def run():
        async with Extractor(
            base_url=server.base_url, api_key="k", async_sleep=sleeps.async_sleep, **SMALL
        ) as extractor:
            return await extractor.aextract(ARTICLE)

    result = asyncio.run(run())
    assert result.ok
    assert result.chunks == len(parts) == result.usage.requests
    meetings = [e for e in result.extraction.events if e.type == "meeting"]
    assert len(meetings) == len(SENTENCES)


def _claim(record_id: str, quote: str, start: int) -> dict[str, Any]:
    return {
        "id": record_id, "text": "Kihara said so.", "claim_type": "assertion",
        "quote_type": "indirect",
        "speaker": {"name": "Kihara", "kind": "person"},
        "evidence": [{"quote": quote, "start": start, "end": start + len(quote),
                      "match": "exact", "score": 100.0}],
    }  # fmt: skip


def _part(*claims: dict[str, Any]) -> ArticleExtraction:
    return ArticleExtraction.model_validate({"events": [], "claims": list(claims)})


def test_merge_rule_overlapping_spans_or_equal_quotes() -> None:
    first = _part(_claim("c1", "Japan will help.", 100), _claim("c2", "It is urgent.", 200))
    second = _part(
        _claim("c1", "Japan will help. Soon.", 100),  # overlaps first c1
        _claim("c2", "it is URGENT.", 900),  # same quote once normalized, elsewhere
        _claim("c3", "Something new.", 300),
    )
    number_ids(first, 1)
    number_ids(second, 2)
    merged = merge_parts([first, second]).extraction
    assert [c.id for c in merged.claims] == ["p1-c1", "p1-c2", "p2-c3"]
    assert [e.quote for e in merged.claims[0].evidence] == [
        "Japan will help.",
        "Japan will help. Soon.",
    ]
    assert len(merged.claims[1].evidence) == 1


def test_records_within_one_chunk_are_never_merged() -> None:
    part = _part(_claim("c1", "Same words.", 10), _claim("c2", "Same words.", 10))
    assert len(merge_parts([part]).extraction.claims) == 2


def test_ungrounded_evidence_kept_is_flagged_with_the_numbered_id(server, sleeps) -> None:
    parts = prepare(ARTICLE, Settings(**SMALL)).parts
    answers = [_answer_for(part.chunk.text) for part in parts]
    answers[1]["events"][0]["evidence"].append({"quote": "A sentence the article lacks."})
    server.script(*(llm.answer(answer) for answer in answers))
    settings = {**SMALL, "max_reasks": 0, "grounding": "keep"}
    with Extractor(base_url=server.base_url, api_key="k", sleep=sleeps, **settings) as extractor:
        result = extractor.extract(ARTICLE)
    [warning] = result.warnings
    assert warning.code == "ungrounded_evidence_kept"
    # chunk 2's first event quotes a sentence chunk 1 also had, so it was merged into
    # chunk 1's last event but one: the warning follows it, under its final number
    assert warning.record_id == "e" + str(len(answers[0]["events"]) - 1)
    flagged = next(e for e in result.extraction.events if e.id == warning.record_id)
    assert [e.start for e in flagged.evidence][-1] is None
