"""Pieces every adapter needs: building an Article, parsing dates, listing files."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterator
from pathlib import Path

from dateutil import parser as date_parser

from pipeline.records import Article, Reject, make_doc_id, sha256_text

_CN_DATE = re.compile(
    r"(\d{4})\s*[年/.-]\s*(\d{1,2})\s*[月/.-]\s*(\d{1,2})\s*日?(?:\s*(\d{1,2})[:：时](\d{1,2}))?"
)


def parse_date(value: object, default_tz: str = "+08:00") -> str | None:
    """ISO-8601 with an explicit offset, or None when the value is not a date.

    Naive times get `default_tz` (Chinese news is almost always UTC+8) so that periods in the
    aggregation never shift by a day depending on the machine's zone.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    else:
        text = str(value).strip()
        if not text:
            return None
        parsed = None
        try:
            parsed = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
        if parsed is None:
            m = _CN_DATE.search(text)
            if m and not re.match(r"^\d{4}-\d{2}-\d{2}T", text):
                y, mo, d, hh, mm = m.groups()
                try:
                    parsed = dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0))
                except ValueError:
                    return None
        if parsed is None:
            try:
                parsed = date_parser.isoparse(text)
            except (ValueError, OverflowError):
                try:
                    parsed = date_parser.parse(text)
                except (ValueError, OverflowError):
                    return None
    if parsed.tzinfo is None:
        sign = -1 if default_tz.startswith("-") else 1
        hours, minutes = default_tz.lstrip("+-").split(":")
        offset = dt.timedelta(hours=int(hours), minutes=int(minutes)) * sign
        parsed = parsed.replace(tzinfo=dt.timezone(offset))
    return parsed.isoformat(timespec="seconds")


def make_article(
    *,
    source: str,
    native_id: str | None,
    text: str,
    origin: str,
    title: str | None = None,
    url: str | None = None,
    published_at: str | None = None,
    encoding: str | None = None,
) -> Article:
    return Article(
        doc_id=make_doc_id(source, native_id, text),
        source=source,
        native_id=native_id,
        url=url or None,
        title=title.strip() if title and title.strip() else None,
        published_at=published_at,
        text=text,
        encoding=encoding,
        content_sha256=sha256_text(text),
        origin=origin,
    )


def check_text(source: str, origin: str, text: object, native_id: str | None) -> Reject | None:
    """Reject a record whose text is missing, not a string, or blank."""
    if text is None:
        return Reject(source, "ingest", origin, "missing_text", "no text field or null", doc_id=native_id)
    if not isinstance(text, str):
        return Reject(
            source, "ingest", origin, "missing_text", f"text is {type(text).__name__}, not a string",
            doc_id=native_id,
        )
    if not text.strip():
        return Reject(source, "ingest", origin, "empty_text", "text is blank", doc_id=native_id)
    return None


def list_files(root: Path, pattern: str) -> Iterator[Path]:
    """Regular files under `root` matching `pattern`, sorted, hidden files skipped.

    Sorted so that the output order (and so the artefact bytes) never depend on the file system.
    """
    for path in sorted(root.glob(pattern)):
        if path.name.startswith(".") or not path.is_file():
            continue
        yield path
