"""Turn the bytes of a news file into text, and say which encoding it was.

Chinese news still arrives in GB18030/GBK and Big5 as well as UTF-8 and UTF-16, usually without any
declaration. BOMs are trusted first (they are unambiguous), then strict UTF-8 (a legacy-encoded
Chinese text almost never decodes as UTF-8 by accident), then charset-normalizer picks among the rest.
Its guess is mapped to the superset codec we actually decode with (GBK/GB2312 -> GB18030,
Big5 -> CP950/Big5-HKSCS) because the narrower codecs reject characters that real pages contain.
"""

from __future__ import annotations

import codecs
import io
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# charset-normalizer names -> the codec that decodes a superset of it.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "hz": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "big5hkscs": "big5hkscs",
    "ascii": "utf-8",
}

# Only encodings a Chinese news file plausibly uses; a guess outside this set is treated as binary.
_PLAUSIBLE = {"utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030", "big5hkscs"}


class DecodeError(ValueError):
    """The bytes are not text in any encoding we accept."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str


_SIGNATURES = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x7fELF", b"\x1f\x8b")


def _plausible_share(text: str) -> float:
    ok = sum(
        1
        for ch in text
        if ch.isspace()
        or " " <= ch <= "~"
        or "\u4e00" <= ch <= "\u9fff"
        or "\u3000" <= ch <= "\u303f"
        or "\uff00" <= ch <= "\uffef"
        or "\u2010" <= ch <= "\u2027"
    )
    return ok / max(len(text), 1)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM. Legacy double-byte text read as UTF-16 turns into characters scattered
    over the whole BMP (and often invalid surrogates), while real UTF-16 Chinese news is almost all
    CJK, ASCII and punctuation, so a 95% share of those decides it."""
    if len(data) < 8 or len(data) % 2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if _plausible_share(text) >= 0.95:
            return codec
    return None


def decode_bytes(data: bytes, declared: str | None = None) -> Decoded:
    """Decode `data`, raising DecodeError with a specific reason when it cannot be text.

    `declared` (from an HTML meta tag, an XML declaration or params) is tried after BOMs and before
    detection, because an explicit declaration beats a statistical guess when it decodes cleanly.
    """
    if not data:
        raise DecodeError("empty_file", "0 bytes")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                return Decoded(data.decode(codec), codec.replace("-sig", "") + "-bom")
            except UnicodeDecodeError as exc:
                raise DecodeError("undecodable", f"{codec} BOM but invalid bytes at {exc.start}") from exc
    if data.startswith(_SIGNATURES):
        raise DecodeError("binary_content", "file starts with the signature of a binary format")
    has_nul = b"\x00" in data
    if not has_nul:
        try:
            return Decoded(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            pass
    utf16 = _utf16_without_bom(data)
    if utf16:
        return Decoded(data.decode(utf16), utf16)
    if has_nul:
        raise DecodeError("binary_content", "NUL bytes in a file that is not UTF-16")
    if declared:
        codec = _SUPERSETS.get(declared.lower().replace("_", "-"), declared.lower())
        try:
            return Decoded(data.decode(codec), codec)
        except (UnicodeDecodeError, LookupError):
            pass
    best = from_bytes(data, cp_isolation=["gb18030", "big5", "cp950", "utf_16", "utf_8"]).best()
    if best is None:
        raise DecodeError("undecodable", "no candidate encoding decodes these bytes")
    codec = _SUPERSETS.get(best.encoding.replace("_", "-"), best.encoding.replace("_", "-"))
    if codec not in _PLAUSIBLE:
        raise DecodeError("undecodable", f"best guess {best.encoding} is not a Chinese text encoding")
    try:
        return Decoded(data.decode(codec), codec)
    except UnicodeDecodeError as exc:
        raise DecodeError("undecodable", f"{codec} guessed but invalid bytes at {exc.start}") from exc


# -- large files -------------------------------------------------------------------------------------

_CHUNK = 1 << 20


def _decodes_in_stream(path: Path, codec: str, skip: int) -> bool:
    """Whether the file, from byte `skip` on, decodes strictly as `codec`, read in chunks (no copy)."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    try:
        with path.open("rb") as f:
            f.seek(skip)
            while chunk := f.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def open_text(path: str | os.PathLike[str], declared: str | None = None,
              sample_bytes: int = 4 * _CHUNK) -> tuple[TextIO, str]:
    """A text stream over a file of any size, and its encoding (as `decode_bytes` names it).

    A 50,000-article CSV export must not be held in memory three times over (bytes, text, rows) just
    to learn its encoding. The encoding is decided on the first `sample_bytes` (cut at a newline
    byte, which no multi-byte GB18030/Big5/UTF-8 sequence contains) with the same rules as
    `decode_bytes`, then the whole file is checked to decode strictly as that encoding, in chunks.
    Small files, UTF-16/32 files (where a newline byte can sit inside a character) and files whose
    tail disagrees with their head are decoded whole, exactly as `decode_bytes` would.
    """
    path = Path(path)
    size = path.stat().st_size
    if size <= sample_bytes:
        decoded = decode_bytes(path.read_bytes(), declared)
        return io.StringIO(decoded.text, newline=""), decoded.encoding
    with path.open("rb") as f:
        head = f.read(sample_bytes)
    cut = head.rfind(b"\n") + 1
    if cut > 0 and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" not in head:
        encoding = decode_bytes(head[:cut], declared).encoding
        codec = {"utf-8-bom": "utf-8-sig"}.get(encoding, encoding)
        if codec in ("utf-8", "utf-8-sig", "gb18030", "big5hkscs") and _decodes_in_stream(path, codec, 0):
            return path.open("r", encoding=codec, newline=""), encoding
    decoded = decode_bytes(path.read_bytes(), declared)
    return io.StringIO(decoded.text, newline=""), decoded.encoding
