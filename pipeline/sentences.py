"""Chinese sentence boundaries, set by the tokenizer when it builds each Doc.

Rules: 。！？ (and ! ? …… ；-free) end a sentence; closing quotes and brackets that follow stay with
it (他说：“好。” is one sentence); a line break ends a sentence (news paragraphs are lines); and a run
longer than `max_chars` without an ending is split, preferably after a comma, so that one run-on
scraped paragraph cannot become a 5,000-character "sentence" that swallows every company's scope.
An ASCII "." ends a sentence only before whitespace or the end of the text, never inside JD.COM or 2.65.
"""

from __future__ import annotations

# Working on the word and space lists the tokenizer already holds, before the Doc exists, costs a
# fraction of a pass over Token objects (which was a fifth of segmentation time when measured).

ENDER_CHARS = frozenset("。！？!?…")
CLOSERS = frozenset("”’」』）)】》〉]〗〕\"'")
SOFT_BREAKS = frozenset("，,；;：:、")


def _is_ender(text: str) -> bool:
    """。！？… alone or in runs (……, ？！); "..." as the ASCII ellipsis."""
    return (text[-1] in ENDER_CHARS and all(ch in ENDER_CHARS for ch in text)) or text == "..."


def sentence_starts(words: list[str], spaces: list[bool], max_chars: int = 200) -> list[bool]:
    """Sentence-start flags for a token sequence; plain lists so it is cheap and testable."""
    n = len(words)
    starts = [False] * n
    if n == 0:
        return starts
    starts[0] = True
    i = 0
    while i < n:
        text = words[i]
        end_here = False
        last = text[-1]
        if last not in ENDER_CHARS and last != "." and last != "\n":
            i += 1
            continue
        if _is_ender(text) or (text == "." and (spaces[i] or i + 1 == n)):
            end_here = True
            while i + 1 < n and words[i + 1] in CLOSERS:
                i += 1
        elif "\n" in text and not text.strip():
            end_here = True
        if end_here and i + 1 < n:
            starts[i + 1] = True
        i += 1
    # Split over-long runs, preferably after a comma-like break.
    length = 0
    last_soft = -1
    sent_begin = 0
    for i in range(n):
        if starts[i]:
            sent_begin, length, last_soft = i, 0, -1
        length += len(words[i]) + (1 if spaces[i] else 0)
        if words[i] in SOFT_BREAKS:
            last_soft = i
        if length > max_chars and i + 1 < n and not starts[i + 1]:
            cut = last_soft + 1 if sent_begin <= last_soft < i else i + 1
            starts[cut] = True
            sent_begin, last_soft = cut, -1
            length = sum(len(words[j]) + (1 if spaces[j] else 0) for j in range(cut, i + 1))
    return starts
