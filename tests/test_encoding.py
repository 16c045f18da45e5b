"""Encodings a Chinese news file arrives in, detected without any declaration."""

from __future__ import annotations

import codecs

import pytest

from pipeline.encoding import DecodeError, decode_bytes
from tests.conftest import SIMPLIFIED, TRADITIONAL


@pytest.mark.parametrize(
    ("text", "codec", "expected"),
    [
        (SIMPLIFIED, "utf-8", "utf-8"),
        (TRADITIONAL, "utf-8", "utf-8"),
        (SIMPLIFIED, "gb18030", "gb18030"),
        (SIMPLIFIED, "gbk", "gb18030"),
        (TRADITIONAL, "big5", "big5hkscs"),
        (TRADITIONAL, "cp950", "big5hkscs"),
        (SIMPLIFIED, "utf-16-le", "utf-16-le"),
        (TRADITIONAL, "utf-16-be", "utf-16-be"),
    ],
    ids=["utf8-simp", "utf8-trad", "gb18030", "gbk", "big5", "cp950", "utf16le", "utf16be"],
)
def test_undeclared_encodings_are_detected(text: str, codec: str, expected: str) -> None:
    decoded = decode_bytes(text.encode(codec))
    assert decoded.text == text
    assert decoded.encoding == expected


@pytest.mark.parametrize(
    ("bom", "codec", "expected"),
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-bom"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-bom"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-bom"),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom"],
)
def test_bom_is_trusted_and_stripped(bom: bytes, codec: str, expected: str) -> None:
    decoded = decode_bytes(bom + SIMPLIFIED.encode(codec))
    assert decoded.text == SIMPLIFIED
    assert decoded.encoding == expected


def test_declared_encoding_is_used_when_it_decodes() -> None:
    data = TRADITIONAL.encode("big5")
    assert decode_bytes(data, declared="big5").text == TRADITIONAL


def test_empty_file_is_rejected_with_reason() -> None:
    with pytest.raises(DecodeError) as info:
        decode_bytes(b"")
    assert info.value.reason == "empty_file"


def test_png_is_binary_not_text() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    with pytest.raises(DecodeError) as info:
        decode_bytes(png)
    assert info.value.reason == "binary_content"


def test_random_bytes_are_undecodable() -> None:
    junk = bytes((i * 97 + 13) % 256 for i in range(3000)).replace(b"\x00", b"\x01")
    with pytest.raises(DecodeError) as info:
        decode_bytes(junk)
    assert info.value.reason in {"undecodable", "binary_content"}
