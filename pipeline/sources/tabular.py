"""`jsonl` and `csv` formats: one article per record, field names mapped in params.

`fields` maps the pipeline's names (id, title, text, url, published_at) to the names the file uses,
so a feed export with `headline`/`body` needs no code. `path` may be one file or a folder (then
`glob` picks the files, default *.jsonl / *.csv).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from pipeline.encoding import DecodeError, decode_bytes, open_text
from pipeline.records import Article, Reject
from pipeline.sources import register
from pipeline.sources.common import check_text, list_files, make_article, parse_date

DEFAULT_FIELDS = {"id": "id", "title": "title", "text": "text", "url": "url", "published_at": "published_at"}


def _files(source: str, path: Path, pattern: str, options: dict[str, Any]) -> list[Path | Reject]:
    if path.is_file():
        return [path]
    return list(list_files(path, pattern, source, bool(options.get("allow_outside", False))))


def _field_map(options: dict[str, Any]) -> dict[str, str]:
    fields = dict(DEFAULT_FIELDS)
    fields.update(options.get("fields") or {})
    return fields


def _as_str(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).strip() or None


def record_to_article(
    source: str, origin: str, record: dict[str, Any], fields: dict[str, str], encoding: str, tz: str
) -> Article | Reject:
    native_id = _as_str(record.get(fields["id"]))
    text = record.get(fields["text"])
    bad = check_text(source, origin, text, native_id)
    if bad:
        return bad
    return make_article(
        source=source,
        native_id=native_id,
        text=text,
        title=_as_str(record.get(fields["title"])),
        url=_as_str(record.get(fields["url"])),
        published_at=parse_date(record.get(fields["published_at"]), tz),
        origin=origin,
        encoding=encoding,
    )


def _scan_jsonl(path: Path) -> tuple[int, int, bool, bool]:
    """(lines, lines that are not UTF-8, has a non-blank byte, starts with a BOM), read line by line."""
    lines = bad = 0
    content = False
    with path.open("rb") as f:
        head = f.read(3)
        f.seek(0)
        for i, raw in enumerate(f):
            lines += 1
            content = content or bool(raw.strip())
            try:
                raw.decode("utf-8-sig" if i == 0 else "utf-8")
            except UnicodeDecodeError:
                bad += 1
    return lines, bad, content, head == b"\xef\xbb\xbf"


def _jsonl_lines(path: Path, declared: str | None) -> tuple[Iterator[str | None], str]:
    """The file's lines as text (None for a line that is not UTF-8), and the encoding.

    JSON Lines is UTF-8, decoded line by line so that one corrupt line costs one record and a file of
    any size streams; a file that is mostly not UTF-8 (a GB18030 export) is decoded whole with
    detection instead.
    """
    lines, bad, _, bom = _scan_jsonl(path)
    if bad and bad > lines // 2:
        decoded = decode_bytes(path.read_bytes(), declared)
        return iter(decoded.text.split("\n")), decoded.encoding

    def read() -> Iterator[str | None]:
        with path.open("rb") as f:
            for i, raw in enumerate(f):
                try:
                    yield raw.decode("utf-8-sig" if i == 0 else "utf-8").removesuffix("\n")
                except UnicodeDecodeError:
                    yield None

    return read(), "utf-8-bom" if bom else "utf-8"


@register("jsonl")
def read_jsonl(source: str, path: Path, options: dict[str, Any]) -> Iterator[Article | Reject]:
    fields = _field_map(options)
    tz = options.get("timezone", "+08:00")
    for file in _files(source, path, options.get("glob", "*.jsonl"), options):
        if isinstance(file, Reject):
            yield file
            continue
        if not _scan_jsonl(file)[2]:
            yield Reject(source, "ingest", str(file), "empty_file", f"{file.stat().st_size} bytes, no records")
            continue
        try:
            lines, encoding = _jsonl_lines(file, options.get("encoding"))
        except DecodeError as exc:
            yield Reject(source, "ingest", str(file), exc.reason, exc.detail)
            continue
        for lineno, line in enumerate(lines, start=1):
            origin = f"{file}:{lineno}"
            if line is None:
                yield Reject(source, "ingest", origin, "undecodable", "line is not valid UTF-8")
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Reject(source, "ingest", origin, "invalid_json", f"{exc.msg} at column {exc.colno}")
                continue
            except (ValueError, RecursionError) as exc:  # an integer over 4300 digits; nesting too deep
                yield Reject(source, "ingest", origin, "invalid_json", f"{type(exc).__name__}: {str(exc)[:200]}")
                continue
            if not isinstance(record, dict):
                yield Reject(source, "ingest", origin, "invalid_json", "line is not a JSON object")
                continue
            yield record_to_article(source, origin, record, fields, encoding, tz)


@register("csv")
def read_csv(source: str, path: Path, options: dict[str, Any]) -> Iterator[Article | Reject]:
    fields = _field_map(options)
    tz = options.get("timezone", "+08:00")
    delimiter = options.get("delimiter", ",")
    max_chars = int(options.get("max_chars", 200_000))
    for file in _files(source, path, options.get("glob", "*.csv"), options):
        if isinstance(file, Reject):
            yield file
            continue
        try:
            stream, encoding = open_text(file, options.get("encoding"))
        except DecodeError as exc:
            yield Reject(source, "ingest", str(file), exc.reason, exc.detail)
            continue
        with stream:
            yield from _csv_records(source, file, stream, encoding, fields, delimiter, tz, max_chars)


def _csv_records(source: str, file: Path, stream: TextIO, encoding: str, fields: dict[str, str],
                 delimiter: str, tz: str, max_chars: int) -> Iterator[Article | Reject]:
    # The csv module refuses fields over 128 KiB; an article up to ingest.max_chars must get
    # through so that the ingest stage rejects anything longer as too_long, not as malformed.
    csv.field_size_limit(max(csv.field_size_limit(), 2 * max_chars))
    reader = csv.reader(stream, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        yield Reject(source, "ingest", str(file), "empty_file", "no header row")
        return
    header = [h.strip() for h in header]
    missing = [fields["text"]] if fields["text"] not in header else []
    if missing:
        yield Reject(source, "ingest", str(file), "missing_column", f"no column named {missing[0]!r}")
        return
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            yield Reject(source, "ingest", f"{file}:{reader.line_num}", "malformed_row", str(exc))
            continue
        origin = f"{file}:{reader.line_num}"
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield Reject(
                source, "ingest", origin, "malformed_row",
                f"{len(row)} cells where the header has {len(header)}",
            )
            continue
        yield record_to_article(
            source, origin, dict(zip(header, row, strict=True)), fields, encoding, tz
        )
