"""Syndicated copies: near-duplicate articles within and across sources, as clusters.

Content farms and wire services republish the same story with another breadcrumb, title and a few
edited sentences, often in the other script. Articles are compared on their normalised (Simplified,
cleaned) text, as sets of character shingles, with MinHash signatures (datasketch); candidate pairs
come from LSH banding (rows of a band equal ⇒ candidates, in the bands × rows layout datasketch's
MinHashLSH would choose for the threshold), and a pair whose estimated Jaccard similarity reaches
`threshold` joins one cluster (union-find). The canonical copy of a cluster is the earliest
published one (then the smallest doc_id), and the aggregation counts only it, with `reach` = copies.

Signatures are computed once per source by the `fingerprint` stage and stored as bytes, so adding a
source re-hashes only that source's text; clustering works on one uint32 matrix (512 bytes per
article at 128 permutations) instead of a Python object and an LSH index entry per article.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.polynomial.legendre import leggauss

NUM_PERM = 128
_MAX_HASH = 2**32 - 1
SHINGLE_SIZE = 5
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
    from datasketch import MinHash  # here, not at the top: aggregate imports this module without hashing

    mh = MinHash(num_perm=num_perm, seed=1)
    return mh.permutations, mh.scheme


def signature(text: str, k: int = SHINGLE_SIZE, num_perm: int = NUM_PERM) -> np.ndarray:
    """The text's MinHash values (uint64, one per permutation; seed 1 for every text)."""
    from datasketch import MinHash

    permutations, scheme = _permutations(num_perm)
    mh = MinHash(num_perm=num_perm, seed=1, permutations=permutations, scheme=scheme)
    sh = shingles(text, k)
    if sh:
        mh.update_batch(sorted(sh))
    return np.asarray(mh.hashvalues, dtype=np.uint64)


def to_bytes(sig: np.ndarray) -> bytes:
    """A signature as stored in the fingerprint files: little-endian uint32s (datasketch's hash
    values are 32-bit numbers held in uint64, so half the bytes lose nothing)."""
    if len(sig) and int(sig.max()) > _MAX_HASH:
        raise ValueError("MinHash values above 2**32 - 1: not a datasketch MinHash signature")
    return sig.astype("<u4").tobytes()


def from_bytes(blobs: Sequence[bytes], num_perm: int = NUM_PERM) -> np.ndarray:
    """Stored signatures back to an (n, num_perm) uint32 matrix; a wrong length is a clear error
    (a fingerprint file written with another number of permutations)."""
    if not blobs:
        return np.zeros((0, num_perm), dtype=np.uint32)
    buf = b"".join(blobs)
    if len(buf) != len(blobs) * num_perm * 4:
        raise ValueError(f"fingerprint signatures are not {num_perm} uint32 values each")
    return np.frombuffer(buf, dtype="<u4").reshape(len(blobs), num_perm).astype(np.uint32, copy=False)


@functools.cache
def band_layout(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) minimising the equally weighted sum of the false-positive and
    false-negative probability areas below and above `threshold`: the criterion datasketch's
    MinHashLSH uses, and its choice (tests/test_fingerprint.py compares the two over a grid).

    Computed here because datasketch integrates with SciPy, whose import alone took 0.45 s of the
    aggregate stage's 1.1 s start-up. The integrands 1 - (1 - s^r)^b are polynomials of degree
    b*r <= num_perm, which Gauss-Legendre quadrature with num_perm // 2 + 1 nodes integrates exactly."""
    x, w = leggauss(num_perm // 2 + 1)
    low, w_low = threshold / 2 * (x + 1), w * threshold / 2  # nodes and weights on [0, threshold]
    high, w_high = threshold + (1 - threshold) / 2 * (x + 1), w * (1 - threshold) / 2  # on [threshold, 1]
    best, layout = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            false_positive = float(np.dot(w_low, 1 - (1 - low**r) ** b))
            false_negative = float(np.dot(w_high, (1 - high**r) ** b))
            error = 0.5 * false_positive + 0.5 * false_negative
            if error < best:
                best, layout = error, (b, r)
    if layout[0] < 2:  # as MinHashLSH refuses it: one band is an exact match on r columns, not LSH
        raise ValueError(f"a near-duplicate threshold of {threshold} leaves fewer than 2 LSH bands with "
                         f"{num_perm} permutations; lower aggregate.dedup_threshold")
    return layout


def _bands(threshold: float, num_perm: int) -> list[tuple[int, int]]:
    """The column ranges of the LSH bands."""
    b, r = band_layout(threshold, num_perm)
    return [(i * r, (i + 1) * r) for i in range(b)]


def _jaccard(a: np.ndarray, b: np.ndarray) -> np.float64:
    # datasketch's MinHash.jaccard arithmetic (and numpy's rounding after it), so the similarities
    # written to duplicates.csv do not move.
    return np.float64(np.count_nonzero(a == b)) / np.float64(len(a))


def cluster_signatures(doc_ids: Sequence[str], dates: Sequence[str | None], sigs: np.ndarray,
                       threshold: float = 0.5) -> dict[str, tuple[str, float]]:
    """doc_id -> (canonical doc_id, estimated similarity to the canonical copy), for every doc.

    Row i of `sigs` is the signature of doc_ids[i]. A doc_id given twice keeps its last row."""
    index = {doc_id: i for i, doc_id in enumerate(doc_ids)}
    rows = np.fromiter(sorted(index.values()), dtype=np.int64, count=len(index))
    parent = {doc_id: doc_id for doc_id in index}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for start, end in _bands(threshold, sigs.shape[1]) if len(rows) > 1 else []:
        width = sigs.dtype.itemsize * (end - start)
        band = np.ascontiguousarray(sigs[rows, start:end]).view(np.dtype((np.void, width))).ravel()
        order = np.argsort(band, kind="stable")
        ordered = band[order]
        edges = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        for bucket in np.split(order, edges):
            if len(bucket) < 2:
                continue
            members = sorted(rows[bucket].tolist())
            for i, a in enumerate(members):
                for b in members[i + 1:]:
                    ra, rb = find(doc_ids[a]), find(doc_ids[b])
                    if ra != rb and _jaccard(sigs[a], sigs[b]) >= threshold:
                        parent[max(ra, rb)] = min(ra, rb)
    members_of: dict[str, list[str]] = {}
    for doc_id in index:
        members_of.setdefault(find(doc_id), []).append(doc_id)
    when = {d: (dates[i] if isinstance(dates[i], str) else None) for d, i in index.items()}
    out: dict[str, tuple[str, float]] = {}
    for group in members_of.values():
        canon = min(group, key=lambda x: (when[x] is None, when[x] or "", x))
        for doc_id in group:
            sim = 1.0 if doc_id == canon else round(_jaccard(sigs[index[doc_id]], sigs[index[canon]]), 4)
            out[doc_id] = (canon, sim)
    return out


def cluster(docs: Iterable[DocInfo], threshold: float = 0.5, k: int = SHINGLE_SIZE, num_perm: int = NUM_PERM
            ) -> dict[str, tuple[str, float]]:
    """Cluster texts directly (signatures computed here): for notebooks and tests."""
    ids: list[str] = []
    dates: list[str | None] = []
    sigs: list[np.ndarray] = []
    for d in docs:
        ids.append(d.doc_id)
        dates.append(d.published_at)
        sigs.append(signature(d.text, k, num_perm))
    matrix = np.vstack(sigs).astype(np.uint32) if sigs else np.zeros((0, num_perm), dtype=np.uint32)
    return cluster_signatures(ids, dates, matrix, threshold)
