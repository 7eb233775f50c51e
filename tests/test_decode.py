"""Decoding bytes: byte-order marks first, then a declared charset, UTF-8, detection."""

from __future__ import annotations

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
