"""Near-duplicate fingerprints and the streaming aggregate's tallies."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline.aggregate import _Tally
from pipeline.dedup import band_layout, cluster_signatures, from_bytes, signature, to_bytes
from pipeline.fingerprint import fingerprint_source

TEXT = "京东物流第三季度亏损扩大，而拼多多营收大增。阿里巴巴与腾讯宣布互联互通，用户可在微信打开淘宝链接。"


def test_fingerprint_stage_keeps_every_article_in_order(tmp_path: Path) -> None:
    src = tmp_path / "normalised.parquet"
    pd.DataFrame({"doc_id": ["a:1", "a:2", "a:3"], "source": ["a"] * 3, "title": ["t", None, "t3"],
                  "published_at": ["2026-11-01T08:00:00+08:00", None, None],
                  "text": [TEXT, "", TEXT + "另有补充。"]}).to_parquet(src)
    out = tmp_path / "fp.parquet"
    assert fingerprint_source(src, out, 5) == 3
    table = pq.read_table(out).to_pylist()
    assert [r["doc_id"] for r in table] == ["a:1", "a:2", "a:3"]
    assert table[1]["title"] is None and table[1]["published_at"] is None
    sigs = from_bytes([r["minhash"] for r in table])
    assert sigs.shape == (3, 128) and np.array_equal(sigs[0], signature(TEXT, 5))
    clusters = cluster_signatures([r["doc_id"] for r in table], [r["published_at"] for r in table], sigs)
    assert clusters["a:3"][0] == "a:1" and clusters["a:3"][1] > 0.7  # the dated copy is canonical
    assert clusters["a:2"] == ("a:2", 1.0)  # an empty text clusters with nothing


def test_signature_bytes_round_trip_and_wrong_width_is_an_error() -> None:
    sig = signature(TEXT, 5)
    assert np.array_equal(from_bytes([to_bytes(sig)])[0], sig)
    with pytest.raises(ValueError, match="128 uint32"):
        from_bytes([to_bytes(sig)[:-4]])
    with pytest.raises(ValueError, match="not a datasketch MinHash"):
        to_bytes(sig + np.uint64(2**32))


@pytest.mark.parametrize("num_perm", [32, 128, 256])
def test_band_layout_is_the_one_datasketch_chooses(num_perm: int) -> None:
    # aggregate computes the layout without datasketch (whose LSH imports SciPy); the candidate
    # pairs, and so the clusters, must be the ones datasketch's MinHashLSH would give.
    from datasketch import MinHashLSH

    for t in [x / 100 for x in range(2, 99, 3)]:
        try:
            lsh = MinHashLSH(threshold=t, num_perm=num_perm)
        except ValueError:  # datasketch refuses a single band; so does the pipeline
            with pytest.raises(ValueError, match="fewer than 2 LSH bands"):
                band_layout(t, num_perm)
            continue
        assert band_layout(t, num_perm) == (lsh.b, lsh.r), t


def test_similar_pairs_join_through_a_chain() -> None:
    # a ~ b and b ~ c but a !~ c: one cluster all the same (union-find over candidate pairs).
    words = [f"词{i:03d}" for i in range(200)]
    a, b, c = "".join(words[:120]), "".join(words[40:160]), "".join(words[80:200])
    sigs = np.vstack([signature(t, 5) for t in (a, b, c)])
    clusters = cluster_signatures(["x:a", "x:b", "x:c"], [None, None, None], sigs, threshold=0.4)
    assert {v[0] for v in clusters.values()} == {"x:a"}


def test_tally_matches_a_pandas_group_by() -> None:
    # The running tallies replace per-article group-bys: the figures must be the group-by's, bit for bit.
    rng = random.Random(3)
    rows = [{"g": rng.choice("abc"), "source": rng.choice(["s1", "s2"]), "period": rng.choice(["w1", "w2"]),
             "mentions": rng.randrange(1, 9), "label": rng.choice(["positive", "neutral", "negative"]),
             "score": rng.uniform(-1, 1) / 3, "reach": rng.randrange(1, 3)} for _ in range(3000)]
    tally = _Tally()
    for r in rows:
        tally.add((r["g"],), r["source"], r["period"], r["mentions"], r["label"], r["score"], r["reach"])
    table = tally.table(["g"]).set_index(["g", "source", "period"])
    frame = pd.DataFrame(rows)
    expected = frame.groupby(["g", "source", "period"]).agg(
        articles=("score", "size"), mentions=("mentions", "sum"), mean_score=("score", "mean"),
        reach=("reach", "sum"))
    for key, want in expected.iterrows():
        got = table.loc[key]
        assert got["articles"] == want["articles"] and got["mentions"] == want["mentions"]
        assert got["reach"] == want["reach"] and got["mean_score"] == round(want["mean_score"], 4)
    everything = table.loc[("a", "*", "*")]
    assert everything["articles"] == sum(r["g"] == "a" for r in rows)
    assert everything["positive"] == sum(r["g"] == "a" and r["label"] == "positive" for r in rows)
