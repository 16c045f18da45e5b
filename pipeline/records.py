"""Record types shared by every stage.

The column names are a data contract (see DESIGN.md): later stages and users' notebooks read them, so
they are extended, never renamed silently. Arrow schemas are spelled out so that an empty source still
writes a well-typed file and so that files are byte-identical across runs.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import pyarrow as pa


@dataclass(slots=True)
class Article:
    """One news article as an adapter produced it, before any normalisation."""

    doc_id: str
    source: str
    native_id: str | None
    url: str | None
    title: str | None
    published_at: str | None
    text: str
    encoding: str | None
    content_sha256: str
    origin: str  # where in the source it came from: file path, or path:line / path#item

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Reject:
    """A record a stage could not use, kept with the reason so nothing is lost silently."""

    source: str
    stage: str
    origin: str
    reason: str
    detail: str = ""
    doc_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        if not row["extra"]:
            del row["extra"]
        return row


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_doc_id(source: str, native_id: str | None, text: str) -> str:
    """Stable id: the source's own id when it has one, else a hash of the content.

    Prefixed by the source name so the same native id in two sources never collides.
    """
    local = native_id if native_id else "sha256-" + sha256_text(text)[:16]
    return f"{source}:{local}"


ARTICLE_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("published_at", pa.string()),
        ("text", pa.string()),
        ("encoding", pa.string()),
        ("content_sha256", pa.string()),
        ("origin", pa.string()),
    ]
)

FLAG_TYPE = pa.struct(
    [("kind", pa.string()), ("start", pa.int32()), ("end", pa.int32()), ("text", pa.string())]
)

NORMALISED_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("native_id", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("title_original", pa.string()),
        ("published_at", pa.string()),
        ("text", pa.string()),
        ("text_original", pa.string()),
        # Flattened (normalised_pos, original_pos) anchors: see pipeline.offsets.
        ("offsets", pa.list_(pa.int32())),
        ("script", pa.string()),
        ("opencc", pa.string()),
        ("flags", pa.list_(FLAG_TYPE)),
        ("removed_lines", pa.int32()),
        ("encoding", pa.string()),
        ("content_sha256", pa.string()),
    ]
)
