"""Text that remembers where each character came from.

Normalisation deletes boilerplate, folds width, converts script and drops invisible characters, yet
evidence must be quoted in the article's original script. `MappedText` carries, for every character
of the current text, the index of the original character it came from; every edit composes that
map. The map is stored compactly as anchors (positions where it stops advancing one-for-one).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class MappedText:
    text: str
    # src[i] = index in the original text of character i; src[len(text)] = len(original).
    src: np.ndarray

    @classmethod
    def identity(cls, text: str) -> MappedText:
        return cls(text, np.arange(len(text) + 1, dtype=np.int64))

    def replace_spans(self, edits: Sequence[tuple[int, int, str]]) -> MappedText:
        """Apply non-overlapping (start, end, replacement) edits, sorted by start.

        A same-length replacement maps one-for-one; otherwise every new character maps to the start
        of what it replaced, so a quote of it still lands on the right original characters.
        """
        if not edits:
            return self
        parts: list[str] = []
        idx: list[np.ndarray] = []
        pos = 0
        for start, end, repl in edits:
            parts.append(self.text[pos:start])
            idx.append(np.arange(pos, start, dtype=np.int64))
            parts.append(repl)
            if len(repl) == end - start:
                idx.append(np.arange(start, end, dtype=np.int64))
            elif repl:
                idx.append(np.full(len(repl), start, dtype=np.int64))
            pos = end
        parts.append(self.text[pos:])
        idx.append(np.arange(pos, len(self.text) + 1, dtype=np.int64))
        return MappedText("".join(parts), self.src[np.concatenate(idx)])

    def sub(self, pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str]) -> MappedText:
        """`re.sub` that keeps the map."""
        edits = []
        for m in pattern.finditer(self.text):
            new = repl(m) if callable(repl) else m.expand(repl)
            if new != m.group(0):
                edits.append((m.start(), m.end(), new))
        return self.replace_spans(edits)

    def convert_lines(self, convert: Callable[[str], str]) -> MappedText:
        """Apply a per-line converter (OpenCC). Lines whose length is unchanged map one-for-one; the
        rare phrase conversion that changes a line's length maps proportionally within that line."""
        edits = []
        pos = 0
        for line in self.text.split("\n"):
            new = convert(line)
            if new != line:
                if len(new) == len(line):
                    # keep the one-for-one map: edit char by char where they differ
                    edits.extend(
                        (pos + i, pos + i + 1, b) for i, (a, b) in enumerate(zip(line, new, strict=True)) if a != b
                    )
                else:
                    edits.append((pos, pos + len(line), new))
            pos += len(line) + 1
        if not any(len(r) != e - s for s, e, r in edits):
            return self.replace_spans(edits)
        out = self.replace_spans([e for e in edits if len(e[2]) == e[1] - e[0]])
        return out._proportional_fix(edits)

    def _proportional_fix(self, edits: Sequence[tuple[int, int, str]]) -> MappedText:
        # Re-apply the length-changing line edits, spreading each new line over the old one.
        parts: list[str] = []
        idx: list[np.ndarray] = []
        pos = 0
        for start, end, repl in edits:
            if len(repl) == end - start:
                continue
            parts.append(self.text[pos:start])
            idx.append(np.arange(pos, start, dtype=np.int64))
            parts.append(repl)
            if repl:
                scale = (end - start) / len(repl)
                idx.append(start + np.floor(np.arange(len(repl)) * scale).astype(np.int64))
            pos = end
        parts.append(self.text[pos:])
        idx.append(np.arange(pos, len(self.text) + 1, dtype=np.int64))
        return MappedText("".join(parts), self.src[np.concatenate(idx)])

    def anchors(self) -> list[int]:
        return encode_anchors(self.src)


def encode_anchors(src: np.ndarray) -> list[int]:
    """Flattened [pos0, orig0, pos1, orig1, ...] at every place the map does not advance by one."""
    if len(src) == 0:
        return []
    breaks = np.flatnonzero(np.diff(src) != 1) + 1
    positions = np.concatenate(([0], breaks))
    out = np.empty(2 * len(positions), dtype=np.int64)
    out[0::2] = positions
    out[1::2] = src[positions]
    return out.tolist()


def to_original(anchors: Sequence[int], pos: int) -> int:
    """Original index of normalised position `pos` (len(text) maps to len(original))."""
    positions = anchors[0::2]
    lo, hi = 0, len(positions) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if positions[mid] <= pos:
            lo = mid
        else:
            hi = mid - 1
    return anchors[2 * lo + 1] + (pos - positions[lo])


def original_span(anchors: Sequence[int], start: int, end: int) -> tuple[int, int]:
    """Original [start, end) covering normalised [start, end)."""
    if end <= start:
        s = to_original(anchors, start)
        return s, s
    return to_original(anchors, start), to_original(anchors, end - 1) + 1
