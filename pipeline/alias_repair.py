"""Keep dictionary names whole where the segmenter cut through them, without creating false names.

pkuseg's post-processor only joins whole tokens, so a name whose edge the model put inside a token
stays broken (中国人/保股价 for 中国人保 + 股价; P&/G今天 for P&G + 今天). This pass re-cuts such
places, but only when every token it would have to split is *not a word itself*: 保股价 and G今天
are not words, so the name wins; 方面 in 京东/方面 and 其中 in 其中/通过 are words, so 京东方 and
中通 are never forced out of them. Scanning is limited to characters that begin a name.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable


class AliasRepair:
    def __init__(self, names: Iterable[str], known_words: Iterable[str] = ()) -> None:
        self.names = {n for n in names if len(n) >= 2 and not any(ch.isspace() for ch in n)}
        self.known = set(known_words) | self.names
        lengths: dict[str, set[int]] = defaultdict(set)
        for name in self.names:
            lengths[name[0]].add(len(name))
        self.lengths = {ch: sorted(ls, reverse=True) for ch, ls in lengths.items()}

    def __call__(self, words: list[str]) -> list[str]:
        if len(words) < 2:
            return words
        s = "".join(words)
        bounds = [0]
        for w in words:
            bounds.append(bounds[-1] + len(w))
        boundset = set(bounds)
        changed = False
        p = 0
        n = len(s)
        while p < n:
            lens = self.lengths.get(s[p])
            if lens is None:
                p += 1
                continue
            step = 1
            for length in lens:
                end = p + length
                if end > n or s[p:end] not in self.names:
                    continue
                if p in boundset and end in boundset:
                    step = length
                    break
                if self._may_split(s, bounds, p) and self._may_split(s, bounds, end):
                    boundset = {b for b in boundset if not p < b < end} | {p, end}
                    bounds = sorted(boundset)
                    changed = True
                    step = length
                    break
            p += step
        if not changed:
            return words
        return [s[a:b] for a, b in itertools.pairwise(bounds)]

    def _may_split(self, s: str, bounds: list[int], pos: int) -> bool:
        """Cutting at `pos` is allowed if it is a boundary already or the token it cuts is no word."""
        i = bisect_right(bounds, pos) - 1
        if bounds[i] == pos:
            return True
        token = s[bounds[i] : bounds[i + 1]]
        return token not in self.known
