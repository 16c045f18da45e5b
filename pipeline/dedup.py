"""Syndicated copies: near-duplicate articles within and across sources, as clusters.

Content farms and wire services republish the same story with another breadcrumb, title and a few
edited sentences, often in the other script. Articles are compared on their normalised (Simplified,
cleaned) text, as sets of character shingles, with MinHash signatures and LSH (datasketch) to find
candidate pairs without comparing every pair; a pair whose estimated Jaccard similarity reaches
`threshold` joins one cluster (union-find). The canonical copy of a cluster is the earliest
published one (then the smallest doc_id), and the aggregation counts only it, with `reach` = copies.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from datasketch import LeanMinHash, MinHash, MinHashLSH

_PUNCT = set("，。！？、；：,.!?;:“”‘’「」『』（）()《》【】—…·- \n\t")


@dataclass(frozen=True)
class DocInfo:
    doc_id: str
    published_at: str | None
    text: str


def shingles(text: str, k: int) -> set[bytes]:
    chars = "".join(ch for ch in text if ch not in _PUNCT)
    if len(chars) <= k:
        return {chars.encode("utf-8")} if chars else set()
    return {chars[i : i + k].encode("utf-8") for i in range(len(chars) - k + 1)}


@functools.cache
def _permutations(num_perm: int) -> tuple[Any, str]:
    """The seed-1 permutations and their scheme, drawn once: MinHash draws (and keeps) its own per
    object otherwise, which costs a random draw and 2 KB for every article of the corpus."""
    mh = MinHash(num_perm=num_perm, seed=1)
    return mh.permutations, mh.scheme


def signature(text: str, k: int, num_perm: int) -> LeanMinHash:
    """The text's MinHash, as a LeanMinHash: hash values and seed only (1 KB at 128 permutations)."""
    permutations, scheme = _permutations(num_perm)
    mh = MinHash(num_perm=num_perm, seed=1, permutations=permutations, scheme=scheme)
    sh = shingles(text, k)
    if sh:
        mh.update_batch(sorted(sh))
    return LeanMinHash(mh)


def cluster(docs: Iterable[DocInfo], threshold: float = 0.5, k: int = 5, num_perm: int = 128
            ) -> dict[str, tuple[str, float]]:
    """doc_id -> (canonical doc_id, estimated similarity to the canonical copy), for every doc."""
    # Keep signatures, not texts: memory stays at ~1 KB per article.
    sigs: dict[str, LeanMinHash] = {}
    dates: dict[str, str | None] = {}
    for d in docs:
        sigs[d.doc_id] = signature(d.text, k, num_perm)
        dates[d.doc_id] = d.published_at if isinstance(d.published_at, str) else None
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    parent = {doc_id: doc_id for doc_id in sigs}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for doc_id in sorted(sigs):
        sig = sigs[doc_id]
        for other in sorted(lsh.query(sig)):
            if sig.jaccard(sigs[other]) >= threshold:
                a, b = find(doc_id), find(other)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        lsh.insert(doc_id, sig)
    members: dict[str, list[str]] = {}
    for doc_id in sigs:
        members.setdefault(find(doc_id), []).append(doc_id)
    out: dict[str, tuple[str, float]] = {}
    for group in members.values():
        canon = min(group, key=lambda x: (dates[x] is None, dates[x] or "", x))
        for doc_id in group:
            sim = 1.0 if doc_id == canon else round(sigs[doc_id].jaccard(sigs[canon]), 4)
            out[doc_id] = (canon, sim)
    return out
