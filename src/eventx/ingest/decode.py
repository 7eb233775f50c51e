"""Decoding article bytes to text, and naming the encoding that was used.

The order is fixed so that the common cases never depend on guessing:

1. a byte-order mark: UTF-8, UTF-16 or UTF-32 (the mark is dropped);
2. NUL bytes without a byte-order mark: binary data (or UTF-16/32 without a mark), refused;
3. the signature of a binary format (PDF, ZIP and Office files, images, compressed
   data, executables): refused, naming the format, even without NUL bytes;
4. an encoding the document declares (an HTML ``<meta charset>``), when it decodes cleanly;
5. strict UTF-8;
6. detection with charset-normalizer among the legacy single-byte encodings of
   :data:`LEGACY_ENCODINGS`; bytes that fit none of them are refused.

Several single-byte encodings often decode the same bytes to the same text (German
text in cp1250, cp1252 and latin-1 alike); the encoding recorded is then the first
of :data:`LEGACY_ENCODINGS` that gives exactly the detected text.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

BINARY_SIGNATURES = (
    (b"%PDF-", "PDF"),
    (b"PK\x03\x04", "a ZIP archive such as .docx, .xlsx, .odt"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Microsoft Office (.doc, .xls, .ppt)"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh91AY&SY", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "ELF executable"),
)
"""Leading bytes of binary formats, and their names: such files are never decoded as text."""

LEGACY_ENCODINGS = (
    "latin-1",
    "cp1252",
    "cp1251",
    "cp1250",
    "koi8-r",
    "iso8859-5",
    "iso8859-2",
    "iso8859-15",
)
"""The single-byte encodings detection chooses among, in order of preference."""

# The WHATWG Encoding Standard: pages labelled latin-1 or ASCII are decoded as windows-1252.
_DECLARED_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252"}


class UndecodableError(ValueError):
    """The bytes are not text in any encoding eventx reads."""


@dataclass(frozen=True)
class DecodedText:
    """Text and the name of the encoding it was decoded from (a Python codec name)."""

    text: str
    encoding: str


def decode_text(data: bytes, *, declared: str | None = None) -> DecodedText:
    """Decode ``data``; raises :class:`UndecodableError` saying why it cannot be read."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return _strict(data, encoding)
    kind = binary_format(data)
    if b"\x00" in data:
        raise UndecodableError(
            f"contains NUL bytes: binary data ({kind})"
            if kind
            else "contains NUL bytes: binary data, or UTF-16/UTF-32 without a byte-order mark"
        )
    if kind is not None:
        raise UndecodableError(f"is binary data ({kind}), not text")
    for candidate in (_declared(declared), "utf-8"):
        if candidate is not None:
            try:
                return DecodedText(data.decode(candidate), codecs.lookup(candidate).name)
            except UnicodeDecodeError:
                pass
    return _detected(data)


def binary_format(data: bytes) -> str | None:
    """The name of the binary format ``data`` starts with the signature of, if any."""
    return next((kind for mark, kind in BINARY_SIGNATURES if data.startswith(mark)), None)


def _strict(data: bytes, encoding: str) -> DecodedText:
    try:
        return DecodedText(data.decode(encoding), encoding)
    except UnicodeDecodeError as error:
        raise UndecodableError(
            f"starts with a {encoding} byte-order mark but is not valid {encoding} "
            f"(byte {error.start})"
        ) from None


def _declared(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    return _DECLARED_ALIASES.get(name, name)


def _detected(data: bytes) -> DecodedText:
    import charset_normalizer  # only legacy-encoded text needs it

    best = charset_normalizer.from_bytes(data, cp_isolation=list(LEGACY_ENCODINGS)).best()
    if best is None:
        tried = ", ".join(("utf-8", *LEGACY_ENCODINGS))
        raise UndecodableError(f"is not text in any known encoding (tried {tried})")
    text = str(best)
    for encoding in LEGACY_ENCODINGS:
        if data.decode(encoding, errors="replace") == text:
            return DecodedText(text, codecs.lookup(encoding).name)
    return DecodedText(text, codecs.lookup(best.encoding).name)
