"""Preparation: what happens to an article before the model sees it.

Clean the text (unless switched off), settle the language (given with the article,
else detected on the cleaned text), and split the cleaned text into the chunks
that become model requests, each with a map of its characters to the original.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventx.ingest.chunk import Chunk, split_into_chunks
from eventx.ingest.clean import CleanedText, OffsetMap, clean, unchanged
from eventx.ingest.language import detect_language
from eventx.models import Article, Cleaning, LanguageSource
from eventx.settings import Settings


@dataclass(frozen=True)
class Part:
    """One model request's share of an article."""

    chunk: Chunk
    count: int
    offsets: OffsetMap
    """Maps the chunk's characters to the original article text."""

    @property
    def label(self) -> tuple[int, int] | None:
        """``(number, count)`` when the article was split, else None."""
        return (self.chunk.number, self.count) if self.count > 1 else None


@dataclass(frozen=True)
class PreparedArticle:
    """An article ready for extraction."""

    article: Article
    cleaned: CleanedText
    language: str | None
    language_source: LanguageSource | None
    parts: list[Part]
    cleaning: Cleaning | None

    def for_model(self, part: Part) -> Article:
        """The article as the model receives it for ``part``: its text and the language."""
        return self.article.model_copy(update={"text": part.chunk.text, "language": self.language})


def _language(article: Article, cleaned: CleanedText) -> tuple[str | None, LanguageSource | None]:
    if article.language:
        return article.language, LanguageSource.INPUT
    detected = detect_language(cleaned.text)
    return detected, LanguageSource.DETECTED if detected else None


def _cleaning(cleaned: CleanedText) -> Cleaning:
    return Cleaning(
        original_chars=len(cleaned.original),
        cleaned_chars=len(cleaned.text),
        removed_spans=cleaned.removed_spans,
    )


def prepare(article: Article, settings: Settings) -> PreparedArticle:
    """Clean, settle the language of, and split ``article`` as ``settings`` say."""
    cleaned = clean(article.text) if settings.clean else unchanged(article.text)
    language, source = _language(article, cleaned)
    chunks = split_into_chunks(
        cleaned.text, settings.max_chunk_tokens, settings.chunk_overlap_tokens
    )
    parts = [
        Part(chunk, len(chunks), cleaned.offsets.slice(chunk.start, chunk.end)) for chunk in chunks
    ]
    return PreparedArticle(
        article=article,
        cleaned=cleaned,
        language=language,
        language_source=source,
        parts=parts,
        cleaning=_cleaning(cleaned) if settings.clean else None,
    )
