"""Benchmark corpora.

- `short_news`: short financial news flashes, read by path from ../shared/data (never copied into the
  repository);
- `synthetic_articles`: N longer, distinct articles built from the paragraphs of the bundled sources
  (`data/sources/*`, as normalised by the pipeline), each a different random combination of
  paragraphs under a fixed seed, so the aggregate stage's near-duplicate detection keeps them apart.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
REPO = Path(__file__).resolve().parent.parent

SYNTHETIC_SEED = 20260101
_EPOCH = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


# finnl items are [text, labels]; finna items are [summary, text] (see each folder's README).
SHORT_NEWS = {"finnl": [("bbt-fincuge-finnl", "train_list.json", 0), ("bbt-fincuge-finnl", "eval_list.json", 0)],
              "finna": [("bbt-fincuge-finna", "eval_list.json", 1)]}


def short_news(min_bytes: int = 1_000_000, data_dir: Path = SHARED) -> list[str]:
    """Short financial news (bbt-fincuge finnl flashes, then finna articles): an equal share of
    `min_bytes` of UTF-8 from each of the two corpora, in file order."""
    texts: list[str] = []
    quota = min_bytes / len(SHORT_NEWS)
    for corpus, files in SHORT_NEWS.items():
        size = 0
        for folder, name, field in files:
            path = data_dir / folder / name
            if not path.exists() or size >= quota:
                continue
            for item in json.loads(path.read_text(encoding="utf-8")):
                text = str(item[field]).strip()
                if not text:
                    continue
                texts.append(text)
                size += len(text.encode("utf-8"))
                if size >= quota:
                    break
        if size < quota:
            raise FileNotFoundError(f"only {size} bytes of {corpus} benchmark text under {data_dir}")
    return texts


def short_news_articles(min_bytes: int = 1_000_000, data_dir: Path = SHARED) -> list[dict[str, Any]]:
    """`short_news` as jsonl records (id and text only: the flashes have no title or date)."""
    return [{"id": f"n{i:06d}", "text": text} for i, text in enumerate(short_news(min_bytes, data_dir))]


@dataclass(frozen=True)
class Paragraph:
    text: str
    title: str | None


def _normalised_files(repo: Path, workdir: Path) -> list[Path]:
    """The bundled sources' normalised Parquet files: the workspace's, else made here by running the
    ingest and normalise library functions on every source in params.yaml."""
    files = sorted((repo / "data" / "normalised").glob("*.parquet"))
    if files:
        return files
    import yaml

    from pipeline.ingest import ingest_source
    from pipeline.normalise import NormaliseConfig, normalise_source

    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    config = NormaliseConfig.from_params(params.get("normalise") or {})
    for name, options in (params.get("sources") or {}).items():
        ingest_source(name, dict(options), workdir / f"{name}.in.parquet", workdir / f"{name}.r1.jsonl",
                      workdir / f"{name}.m1.json", root=repo)
        normalise_source(name, workdir / f"{name}.in.parquet", workdir / f"{name}.parquet",
                         workdir / f"{name}.r2.jsonl", workdir / f"{name}.m2.json", config)
        files.append(workdir / f"{name}.parquet")
    return files


def bundled_paragraphs(repo: Path = REPO, min_chars: int = 8) -> list[Paragraph]:
    """Every non-empty line (paragraph) of the bundled articles' normalised text, with its article title."""
    import pyarrow.parquet as pq

    paragraphs: list[Paragraph] = []
    with tempfile.TemporaryDirectory(prefix="bench-bundled-") as tmp:
        for path in _normalised_files(repo, Path(tmp)):
            table = pq.read_table(path, columns=["title", "text"]).to_pylist()
            for row in table:
                for line in row["text"].split("\n"):
                    line = line.strip()
                    if len(line) >= min_chars:
                        paragraphs.append(Paragraph(line, row["title"]))
    if not paragraphs:
        raise FileNotFoundError(f"no bundled paragraphs found under {repo / 'data'}")
    return paragraphs


def synthetic_articles(n: int, seed: int = SYNTHETIC_SEED, paragraphs: list[Paragraph] | None = None,
                       min_paragraphs: int = 6, max_paragraphs: int = 14, days: int = 182,
                       id_prefix: str = "syn") -> Iterator[dict[str, Any]]:
    """`n` distinct articles of `min_paragraphs`..`max_paragraphs` paragraphs drawn without replacement.

    Every article is a different ordered combination (checked), titled after its first paragraph's
    article and dated at random within `days` days of 2026-01-01, so that aggregation spreads them
    over many weeks. The same arguments always give the same articles.
    """
    paras = paragraphs if paragraphs is not None else bundled_paragraphs()
    if max_paragraphs > len(paras):
        raise ValueError(f"only {len(paras)} paragraphs to draw {max_paragraphs} from")
    rng = random.Random(seed)
    seen: set[tuple[int, ...]] = set()
    for i in range(n):
        while True:
            picked = tuple(rng.sample(range(len(paras)), rng.randint(min_paragraphs, max_paragraphs)))
            if picked not in seen:
                seen.add(picked)
                break
        when = _EPOCH + dt.timedelta(days=rng.randrange(days), minutes=rng.randrange(24 * 60))
        yield {
            "id": f"{id_prefix}-{i:06d}",
            "title": paras[picked[0]].title,
            "text": "\n".join(paras[j].text for j in picked),
            "url": f"https://bench.example/{id_prefix}/{i:06d}",
            "published_at": when.isoformat(),
        }


def write_jsonl(path: Path, articles: Iterable[dict[str, Any]]) -> tuple[int, int]:
    """Write articles as one JSON object per line; return (articles, characters of text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = chars = 0
    with path.open("w", encoding="utf-8") as fh:
        for article in articles:
            fh.write(json.dumps(article, ensure_ascii=False) + "\n")
            count += 1
            chars += len(article["text"])
    return count, chars
