"""Pieces every adapter needs: building an Article, parsing dates, listing files."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Iterator
from pathlib import Path

from dateutil import parser as date_parser

from pipeline.records import Article, Reject, make_doc_id, sha256_text

# Lone surrogates: from JSON escapes (\\ud800), numeric character references, or file names that are
# not UTF-8 (Python spells their bytes as U+DC80..U+DCFF). No UTF-8 file can hold them.
_SURROGATE = re.compile("[\ud800-\udfff]")

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


def valid_str(value: str) -> str:
    """`value` with any lone surrogate spelled as an escape (a file-name byte as \\xNN, anything else
    as \\uNNNN), so that it can be written as UTF-8. Used for ids, titles, URLs and origins; two
    different undecodable names stay different (a GBK file name unpacked from a zip, for example)."""
    if not _SURROGATE.search(value):
        return value

    def spell(m: re.Match[str]) -> str:
        c = ord(m.group(0))
        return f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"\\u{c:04x}"

    return _SURROGATE.sub(spell, value)


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
    native_id = valid_str(native_id) if native_id else native_id
    title = valid_str(title) if title else title
    url = valid_str(url) if url else url
    origin = valid_str(origin)
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
    """Reject a record whose text is missing, not a string, blank, or not valid Unicode."""
    if text is None:
        return Reject(source, "ingest", origin, "missing_text", "no text field or null", doc_id=native_id)
    if not isinstance(text, str):
        return Reject(
            source, "ingest", origin, "missing_text", f"text is {type(text).__name__}, not a string",
            doc_id=native_id,
        )
    if not text.strip():
        return Reject(source, "ingest", origin, "empty_text", "text is blank", doc_id=native_id)
    bad = _SURROGATE.search(text)
    if bad:
        return Reject(source, "ingest", origin, "undecodable",
                      f"lone surrogate U+{ord(bad.group(0)):04X} at character {bad.start()}: not valid Unicode text",
                      doc_id=native_id)
    return None


def _unsafe_path(path: Path, root: Path) -> str | None:
    """Why `path` (found under `root`) may not be read without `allow_outside`, or None."""
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        return f"resolves to {resolved}, outside the source path {root}"
    p = path
    while p != root and p != p.parent:
        if p.is_symlink():
            return f"{p} is a symlink (to {p.resolve()})"
        p = p.parent
    return None


def list_files(root: Path, pattern: str, source: str = "", allow_outside: bool = False) -> Iterator[Path | Reject]:
    """Regular files under `root` matching `pattern`, sorted, hidden files skipped.

    Sorted so that the output order (and so the artefact bytes) never depend on the file system.
    A file reached through a symlink, or lying outside `root` (a `..` in the glob), is yielded as a
    Reject (`unsafe_path`) unless the source sets `allow_outside`: the same rule as for the source
    path itself, applied to what is inside it (an unpacked archive can hold a symlink to a secret).
    """
    for path in sorted(root.glob(pattern)):
        if path.name.startswith(".") or not path.is_file():
            continue
        why = None if allow_outside else _unsafe_path(path, root)
        if why:
            yield Reject(source, "ingest", valid_str(str(path)), "unsafe_path",
                         valid_str(f"{why}; set allow_outside: true on the source to read it"),
                         doc_id=valid_str(path.stem))
            continue
        yield path
