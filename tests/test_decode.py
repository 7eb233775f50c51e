"""Decoding bytes: byte-order marks first, then a declared charset, UTF-8, detection."""

from __future__ import annotations

import re

import pytest

from eventx.ingest.decode import UndecodableError, decode_text

UKRAINIAN = "Міністерство оборони Японії передало Збройним Силам України 100 автівок."


def test_a_page_labelled_latin1_is_read_as_windows_1252_like_browsers_do() -> None:
    decoded = decode_text("„Wir liefern“ – sagte er.".encode("cp1252"), declared="ISO-8859-1")
    assert (decoded.text, decoded.encoding) == ("„Wir liefern“ – sagte er.", "cp1252")


def test_a_declared_charset_wins_over_detection_when_the_bytes_fit_it() -> None:
    data = UKRAINIAN.encode("koi8-u")
    assert decode_text(data, declared="koi8-u").text == UKRAINIAN
    assert decode_text(data, declared="koi8-u").encoding == "koi8-u"


@pytest.mark.parametrize("declared", ["utf-8", "no-such-charset", ""])
def test_a_wrong_or_unknown_declaration_falls_back_to_detection(declared: str) -> None:
    decoded = decode_text(UKRAINIAN.encode("cp1251"), declared=declared)
    assert (decoded.text, decoded.encoding) == (UKRAINIAN, "cp1251")


def test_a_byte_order_mark_wins_over_a_declaration() -> None:
    decoded = decode_text(UKRAINIAN.encode("utf-16"), declared="cp1251")
    assert (decoded.text, decoded.encoding) == (UKRAINIAN, "utf-16")


def test_utf16_without_a_byte_order_mark_is_refused_with_a_hint() -> None:
    with pytest.raises(UndecodableError, match="UTF-16/UTF-32 without a byte-order mark"):
        decode_text(UKRAINIAN.encode("utf-16-le"))


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a ZIP archive such as .docx, .xlsx, .odt"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "PNG image"),
        (b"\x1f\x8b\x08\x00", "gzip"),
    ],
)
def test_binary_formats_are_refused_by_name_not_decoded(data: bytes, kind: str) -> None:
    with pytest.raises(UndecodableError, match=re.escape(f"binary data ({kind})")):
        decode_text(data + UKRAINIAN.encode("cp1250", errors="replace"))
    without_nul = data.replace(b"\x00", b"\x01") + UKRAINIAN.encode("cp1250", errors="replace")
    with pytest.raises(UndecodableError, match=re.escape(f"is binary data ({kind}), not text")):
        decode_text(without_nul)  # a legacy code page would decode these bytes


def test_a_text_that_merely_mentions_a_signature_is_text() -> None:
    text = "The file header %PDF-1.7 starts every PDF."
    assert decode_text(text.encode()).text == text
