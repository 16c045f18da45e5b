"""Normalise stage: one Simplified, clean text per article, with a map back to the original.

Order matters: newlines and invisible characters go first (they hide words from every later
pattern), then width, ASCII punctuation inside Chinese text, then spaces; script detection runs
on that cleaned original; OpenCC converts; variant characters the converter leaves are folded;
boilerplate patterns (written once, in Simplified) drop whole lines; corrupted spans are flagged
on the final text.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import pyarrow.parquet as pq

from pipeline import cleaning, script
from pipeline.accounting import Tally
from pipeline.artefacts import ParquetBatchWriter, iter_parquet_rows, write_json, write_jsonl
from pipeline.execution import ExecutionSettings, map_chunks
from pipeline.flags import find_flags
from pipeline.offsets import MappedText
from pipeline.progress import progress
from pipeline.records import NORMALISED_SCHEMA, Reject

DEFAULT_BOILERPLATE = (
    r"^(当前位置|您的位置|你的位置|所在位置|现在位置)\s*[:：]",
    r"^首页\s*[>»›/]",
    r"^(上一篇|下一篇|上一条|下一条|上一页|下一页)",
    r"^(copyright|版权所有|版权声明|©)",
    r"copyright\s*(©\s*)?\d{4}|版权所有",
    r"^(分享到|分享至|责任编辑|责编|广告|推荐阅读|相关阅读|相关新闻|延伸阅读|扫码|扫一扫|点击进入|关注我们|免责声明)",
)


@dataclass(frozen=True)
class NormaliseConfig:
    opencc: str = "t2s"
    boilerplate: tuple[str, ...] = DEFAULT_BOILERPLATE
    boilerplate_max_line_chars: int = 80
    variants: dict[str, str] = field(default_factory=lambda: {"壹": "一"})
    amount_chars: str = "贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整零貳參陸萬億圓"
    script_threshold: float = 0.9

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> NormaliseConfig:
        known = {k: v for k, v in params.items() if k in cls.__dataclass_fields__}
        if "boilerplate" in known:
            known["boilerplate"] = tuple(known["boilerplate"])
        return cls(**known)


@dataclass(slots=True)
class Normalised:
    text: str
    anchors: list[int]
    script: str
    opencc: str
    flags: list[dict[str, Any]]
    removed_lines: int


class Normaliser:
    """Compiled configuration; one instance serves every article of a run."""

    def __init__(self, config: NormaliseConfig) -> None:
        self.config = config
        self.patterns = cleaning.compile_patterns(config.boilerplate)
        script.choose_config(config.opencc, "")  # validate early, with a clear message

    def _clean(self, text: str) -> MappedText:
        t = MappedText.identity(text)
        t = cleaning.unify_newlines(t)
        t = cleaning.drop_invisible(t)
        t = cleaning.fold_width(t)
        t = cleaning.chinese_punctuation(t)
        return cleaning.clean_spaces(t)

    def _convert(self, t: MappedText, config: str) -> MappedText:
        t = t.convert_lines(script.converter(config))
        return cleaning.fold_variants(t, self.config.variants, self.config.amount_chars)

    def normalise(self, text: str, opencc: str | None = None) -> Normalised:
        t = self._clean(text)
        detected = script.detect_script(t.text, self.config.script_threshold)
        config = script.choose_config(opencc or self.config.opencc, t.text)
        t = self._convert(t, config)
        t, removed = cleaning.drop_boilerplate(t, self.patterns, self.config.boilerplate_max_line_chars)
        return Normalised(t.text, t.anchors(), detected, config, find_flags(t.text), removed)

    def normalise_title(self, title: str | None, opencc: str | None = None) -> str | None:
        if not title:
            return title
        t = self._clean(title.replace("\n", " "))
        return self._convert(t, script.choose_config(opencc or self.config.opencc, t.text)).text or None


@dataclass(frozen=True)
class NormaliseSpec:
    """What a worker needs to normalise: the configuration, compiled once per process."""

    config: NormaliseConfig

    def build(self) -> Normaliser:
        return Normaliser(self.config)


Empty = tuple[str, str, str, str]  # origin, doc_id, reason, detail


def _normalise_batch(normaliser: Normaliser, chunk: tuple[list[dict[str, Any]], str | None]) -> tuple[
        int, list[dict[str, Any]], list[Empty]]:
    """(rows read, normalised rows, articles left empty) for one batch of ingested rows."""
    rows, source_opencc = chunk
    out = []
    empty: list[Empty] = []
    for row in rows:
        result = normaliser.normalise(row["text"], source_opencc)
        if not result.text.strip():
            empty.append((row["origin"], row["doc_id"], "empty_after_normalisation",
                          f"{result.removed_lines} boilerplate lines removed, nothing left"))
            continue
        out.append(
            {
                "doc_id": row["doc_id"],
                "source": row["source"],
                "native_id": row["native_id"],
                "url": row["url"],
                "title": normaliser.normalise_title(row["title"], source_opencc),
                "title_original": row["title"],
                "published_at": row["published_at"],
                "text": result.text,
                "text_original": row["text"],
                "offsets": result.anchors,
                "script": result.script,
                "opencc": result.opencc,
                "flags": result.flags,
                "removed_lines": result.removed_lines,
                "encoding": row["encoding"],
                "content_sha256": row["content_sha256"],
            }
        )
    return len(rows), out, empty


def normalise_source(
    name: str,
    in_path: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    rejects_path: str | os.PathLike[str],
    metrics_path: str | os.PathLike[str],
    config: NormaliseConfig,
    source_opencc: str | None = None,
    batch_size: int = 256,
    execution: ExecutionSettings | None = None,
    n_process: int = 1,
) -> Tally:
    """Normalise every article of one source; an article left with no text is rejected.

    Batches are normalised where `execution` says (here, or in `n_process` forked processes, by
    default) and written in input order, so the output is the same for any process count."""
    tally = Tally(name, "normalise")
    rejects: list[dict[str, Any]] = []
    total = pq.ParquetFile(in_path).metadata.num_rows
    batches = ((rows, source_opencc) for rows in iter_parquet_rows(in_path, batch_size))
    results = map_chunks(_normalise_batch, NormaliseSpec(config), batches, execution or ExecutionSettings(),
                         n_process, chunk_len=lambda c: len(c[0]))
    with ParquetBatchWriter(out_path, NORMALISED_SCHEMA) as writer, progress(total, f"normalise@{name}") as bar:
        for n_rows, out, empty in results:
            tally.records_in += n_rows
            for origin, doc_id, reason, detail in empty:
                tally.reject(reason, detail)
                rejects.append(Reject(name, "normalise", origin, reason, detail, doc_id=doc_id).to_row())
            tally.records_out += len(out)
            writer.write_rows(out)
            bar.update(n_rows)
    write_jsonl(rejects_path, rejects)
    write_json(metrics_path, tally.as_metrics())
    tally.check()
    return tally
