"""Spans of text that are corrupted and must be flagged, not guessed.

Content farms pass numbers through a broken converter that turns digits into the string "65438"
(2021年 → 65438年, 10亿 → 654.38+0亿). The original number cannot be recovered reliably, so the span
is flagged with its offsets and left as is; an analyst quoting the figure sees the flag.
"""

from __future__ import annotations

import re
from typing import Any

_NUMBER = re.compile(r"\d[\d.,]*(?:\+[\d.]*)?")
_MASKED = re.compile(r"(?:\*\s*){3,}")
_CORRUPT_MARK = "5438"


def find_flags(text: str) -> list[dict[str, Any]]:
    flags: list[dict[str, Any]] = []
    for m in _NUMBER.finditer(text):
        token = m.group(0).rstrip(".,")
        if _CORRUPT_MARK in token.replace(".", "").replace(",", ""):
            flags.append({"kind": "corrupted_number", "start": m.start(), "end": m.start() + len(token),
                          "text": token})
    for m in _MASKED.finditer(text):
        token = m.group(0).rstrip()
        flags.append({"kind": "masked_text", "start": m.start(), "end": m.start() + len(token), "text": token})
    flags.sort(key=lambda f: (f["start"], f["kind"]))
    return flags
