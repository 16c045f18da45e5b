"""Benchmark corpora, read by path from ../shared/data (never copied into the repository)."""

from __future__ import annotations

import json
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def short_news(min_bytes: int = 1_000_000, data_dir: Path = SHARED) -> list[str]:
    """Short financial news flashes (bbt-fincuge finnl + finna) until at least `min_bytes` of UTF-8."""
    texts: list[str] = []
    size = 0
    # finnl items are [text, labels]; finna items are [summary, text] (see each folder's README).
    for folder, name, field in [("bbt-fincuge-finnl", "train_list.json", 0), ("bbt-fincuge-finnl", "eval_list.json", 0),
                                ("bbt-fincuge-finna", "eval_list.json", 1)]:
        path = data_dir / folder / name
        if not path.exists():
            continue
        for item in json.loads(path.read_text(encoding="utf-8")):
            text = str(item[field]).strip()
            if not text:
                continue
            texts.append(text)
            size += len(text.encode("utf-8"))
            if size >= min_bytes:
                return texts
    if size < min_bytes:
        raise FileNotFoundError(f"only {size} bytes of benchmark text under {data_dir}")
    return texts
