"""`python -m pipeline compare REV_A REV_B`: what changed per group between two runs.

Reads plots/mentions.csv (per group, all sources, whole range; a git-tracked plot file of the
aggregate stage) at each revision through `dvc.api`, so a revision can be a git commit, branch or
tag, an experiment name from `dvc exp show`, or `workspace` for the files on disk.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

FILE = "plots/mentions.csv"


def read_at(rev: str, path: str = FILE, repo: str = ".") -> pd.DataFrame:
    if rev == "workspace":
        return pd.read_csv(Path(repo) / path)
    import dvc.api

    return pd.read_csv(io.StringIO(dvc.api.read(path, repo=repo, rev=rev, encoding="utf-8")))


def compare(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    cols = ["group_id", "group_name", "articles", "mentions", "net_sentiment"]
    merged = a[cols].merge(b[cols], on="group_id", how="outer", suffixes=("_a", "_b"))
    merged["group_name"] = merged["group_name_b"].fillna(merged["group_name_a"])
    for col in ("articles", "mentions", "net_sentiment"):
        merged[f"{col}_a"] = merged[f"{col}_a"].fillna(0)
        merged[f"{col}_b"] = merged[f"{col}_b"].fillna(0)
    merged["d_mentions"] = (merged["mentions_b"] - merged["mentions_a"]).astype(int)
    merged["d_net"] = (merged["net_sentiment_b"] - merged["net_sentiment_a"]).round(4)
    merged = merged[(merged["d_mentions"] != 0) | (merged["d_net"] != 0)]
    merged = merged.assign(_k1=-merged["d_net"].abs(), _k2=-merged["d_mentions"].abs())
    merged = merged.sort_values(["_k1", "_k2", "group_id"])
    return merged[["group_id", "group_name", "mentions_a", "mentions_b", "d_mentions", "net_sentiment_a",
                   "net_sentiment_b", "d_net"]].reset_index(drop=True)


def format_comparison(diff: pd.DataFrame, rev_a: str, rev_b: str) -> str:
    if diff.empty:
        return f"no per-group change between {rev_a} and {rev_b}"
    lines = [f"per-group changes, {rev_a} → {rev_b} (largest net-sentiment change first)",
             f"{'group':<22} {'mentions':>15} {'Δ':>5}   {'net sentiment':>15} {'Δ':>7}"]
    for r in diff.itertuples(index=False):
        lines.append(f"{(r.group_id)[:22]:<22} {int(r.mentions_a):>6} → {int(r.mentions_b):<6} {r.d_mentions:>+5}   "
                     f"{r.net_sentiment_a:>+6.2f} → {r.net_sentiment_b:<+6.2f} {r.d_net:>+7.2f}")
    return "\n".join(lines)
