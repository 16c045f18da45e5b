"""`jsonl` and `csv` formats: one article per record, field names mapped in params.

`fields` maps the pipeline's names (id, title, text, url, published_at) to the names the file uses,
so a feed export with `headline`/`body` needs no code. `path` may be one file or a folder (then
`glob` picks the files, default *.jsonl / *.csv).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipeline.encoding import DecodeError, decode_bytes
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


def _jsonl_lines(data: bytes, declared: str | None) -> tuple[list[str | None], str]:
    """Decode a JSONL file line by line as UTF-8 (the JSON Lines encoding), so one corrupt line
    costs one record; a file that is not UTF-8 at all is decoded whole with detection."""
    raw_lines = data.split(b"\n")
    lines: list[str | None] = []
    bad = 0
    for i, raw in enumerate(raw_lines):
        try:
            chunk = raw.decode("utf-8-sig" if i == 0 else "utf-8")
        except UnicodeDecodeError:
            chunk = None
            bad += 1
        lines.append(chunk)
    if bad and bad > len(raw_lines) // 2:
        decoded = decode_bytes(data, declared)
        return list(decoded.text.split("\n")), decoded.encoding
    encoding = "utf-8-bom" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    return lines, encoding


@register("jsonl")
def read_jsonl(source: str, path: Path, options: dict[str, Any]) -> Iterator[Article | Reject]:
    fields = _field_map(options)
    tz = options.get("timezone", "+08:00")
    for file in _files(source, path, options.get("glob", "*.jsonl"), options):
        if isinstance(file, Reject):
            yield file
            continue
        data = file.read_bytes()
        if not data.strip():
            yield Reject(source, "ingest", str(file), "empty_file", f"{len(data)} bytes, no records")
            continue
        try:
            lines, encoding = _jsonl_lines(data, options.get("encoding"))
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
    for file in _files(source, path, options.get("glob", "*.csv"), options):
        if isinstance(file, Reject):
            yield file
            continue
        try:
            decoded = decode_bytes(file.read_bytes(), options.get("encoding"))
        except DecodeError as exc:
            yield Reject(source, "ingest", str(file), exc.reason, exc.detail)
            continue
        reader = csv.reader(io.StringIO(decoded.text, newline=""), delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            yield Reject(source, "ingest", str(file), "empty_file", "no header row")
            continue
        header = [h.strip() for h in header]
        missing = [fields["text"]] if fields["text"] not in header else []
        if missing:
            yield Reject(source, "ingest", str(file), "missing_column", f"no column named {missing[0]!r}")
            continue
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
                source, origin, dict(zip(header, row, strict=True)), fields, decoded.encoding, tz
            )
