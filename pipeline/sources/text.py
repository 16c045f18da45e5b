"""`text` format: a folder of files, one article each; the file stem is the article id.

Options: `glob` (default "*": every file is an article, so stray non-text files are rejected
instead of silently skipped), `title_line` (auto | true | false), `encoding` (a declared encoding,
tried before detection).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.encoding import DecodeError, decode_bytes
from pipeline.records import Article, Reject
from pipeline.sources import register
from pipeline.sources.common import check_text, list_files, make_article

_SENTENCE_END = "。！？!?；;：:"


def split_title(text: str, mode: str | bool) -> tuple[str | None, str]:
    """Take the first line as the title when told to, or when it looks like a headline.

    A headline is short, does not end like a sentence and is followed by a blank line; anything
    else stays in the body so no text is lost to a wrong guess.
    """
    if mode is False or mode == "false":
        return None, text
    lines = text.splitlines()
    idx = next((i for i, line in enumerate(lines) if line.strip()), None)
    if idx is None:
        return None, text
    first = lines[idx].strip()
    rest = "\n".join(lines[idx + 1 :])
    if mode is True or mode == "true":
        return first, rest
    followed_by_blank = idx + 1 < len(lines) and not lines[idx + 1].strip()
    if len(first) <= 60 and first[-1] not in _SENTENCE_END and followed_by_blank:
        return first, rest
    return None, text


@register("text")
def read_text_folder(source: str, path: Path, options: dict[str, Any]) -> Iterator[Article | Reject]:
    for file in list_files(path, options.get("glob", "*"), source, bool(options.get("allow_outside", False))):
        if isinstance(file, Reject):
            yield file
            continue
        origin = str(file)
        try:
            decoded = decode_bytes(file.read_bytes(), options.get("encoding"))
        except DecodeError as exc:
            yield Reject(source, "ingest", origin, exc.reason, exc.detail, doc_id=file.stem)
            continue
        title, body = split_title(decoded.text, options.get("title_line", "auto"))
        bad = check_text(source, origin, body, file.stem)
        if bad:
            yield bad
            continue
        yield make_article(
            source=source, native_id=file.stem, text=body, title=title, origin=origin,
            encoding=decoded.encoding,
        )
