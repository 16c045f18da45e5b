"""Character-level cleaning that keeps the offset map: invisible characters, width, spaces,
variant characters, boilerplate lines.

Each step is a small function over MappedText so the order is explicit in `pipeline.normalise` and
each can be tested alone.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

from pipeline.offsets import MappedText

_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# Control (Cc but \t \n), format (Cf: zero-width, bidi, BOM, tags), private-use (Co), noncharacters.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x84\x86-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\ufffe\uffff\ue000-\uf8ff\U000e0000-\U000e007f\U000f0000-\U0010ffff]+"
)
# Full-width forms and compatibility ideographs that NFKC folds. Chinese punctuation is kept as is:
# ，。！？：；（）「」 carry sentence structure; only symbols that live inside numbers, codes and
# URLs are folded with the letters and digits.
_WIDE = re.compile("[\uff01-\uff5e\uf900-\ufaff\u2f00-\u2fdf]")
_KEEP_WIDE = set("！＂＇（），：；？［］｛｝～｟｠")
# ASCII punctuation written inside Chinese text (content farms do this): pkuseg glues it to a
# neighbouring Latin word (如此一来,Tik), so it becomes the Chinese full-width mark when a Chinese
# character stands on either side. Digits on both sides (1,000; 3:2) are left alone.
_HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff"
_ASCII_PUNCT = re.compile(f"(?<=[{_HAN_CLASS}])[,;:?!]|[,;:?!](?=[{_HAN_CLASS}])")
_FULL_PUNCT = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_SPACES = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_LINE_EDGE_SPACES = re.compile(r"^ +| +$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{2,}")
_BULLET = re.compile(r"^[\s•·●▪◆■*\-–—>»]+")


def unify_newlines(t: MappedText) -> MappedText:
    return t.sub(_NEWLINES, "\n")


def drop_invisible(t: MappedText) -> MappedText:
    """Remove control, zero-width, bidi, private-use characters: they break word and name matching
    (阿\u200b里 is not 阿里) and carry nothing a reader sees."""
    return t.sub(_INVISIBLE, "")


def _fold(m: re.Match[str]) -> str:
    ch = m.group(0)
    return ch if ch in _KEEP_WIDE else unicodedata.normalize("NFKC", ch)


def fold_width(t: MappedText) -> MappedText:
    """NFKC for full-width Latin letters, digits and number symbols (ＡＩ → AI, ２０２６ → 2026)."""
    return t.sub(_WIDE, _fold)


def chinese_punctuation(t: MappedText) -> MappedText:
    return t.sub(_ASCII_PUNCT, lambda m: _FULL_PUNCT[m.group(0)])


def clean_spaces(t: MappedText) -> MappedText:
    """One ASCII space for any run of spaces (ideographic and no-break included), none at line
    edges. A space between Chinese characters is kept: in headlines and scraped text it separates
    clauses (台积电良率优于预期 三星再传延宕), which sentiment scope needs."""
    t = t.sub(_SPACES, " ")
    return t.sub(_LINE_EDGE_SPACES, "")


def fold_variants(t: MappedText, variants: Mapping[str, str], amount_chars: str) -> MappedText:
    """Variant characters that OpenCC leaves: 壹 → 一 in running text (第壹, 壹起), but not in a
    financial amount (壹万元, 壹佰), where the capital numeral is deliberate."""
    if not variants:
        return t
    amount = set(amount_chars)
    pattern = re.compile("[" + re.escape("".join(variants)) + "]")
    text = t.text

    def repl(m: re.Match[str]) -> str:
        i = m.start()
        prev = text[i - 1] if i else ""
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if prev in amount or nxt in amount:
            return m.group(0)
        return variants[m.group(0)]

    return t.sub(pattern, repl)


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    compiled = []
    for p in patterns:
        try:
            compiled.append(re.compile(p, re.IGNORECASE))
        except re.error as exc:
            raise ValueError(f"bad boilerplate pattern {p!r}: {exc}") from exc
    return compiled


def drop_boilerplate(
    t: MappedText, patterns: list[re.Pattern[str]], max_line_chars: int
) -> tuple[MappedText, int]:
    """Delete whole lines that match a boilerplate pattern (breadcrumbs, 上一篇/下一篇, copyright,
    share and ad lines), and blank lines. Only short lines qualify, so a news sentence that merely
    mentions 版权所有 is never deleted."""
    edits = []
    removed = 0
    pos = 0
    for line in t.text.split("\n"):
        end = pos + len(line)
        bare = _BULLET.sub("", line).strip()
        if bare and len(bare) <= max_line_chars and any(p.search(bare) for p in patterns):
            edits.append((pos, min(end + 1, len(t.text)), ""))
            removed += 1
        pos = end + 1
    t = t.replace_spans(edits)
    t = t.sub(_BLANK_LINES, "\n")
    if t.text.startswith("\n"):
        t = t.replace_spans([(0, 1, "")])
    if t.text.endswith("\n"):
        t = t.replace_spans([(len(t.text) - 1, len(t.text), "")])
    return t, removed
