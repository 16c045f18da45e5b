"""`html` format: a folder of saved article pages; main text, title and date by trafilatura.

trafilatura is given the decoded page as a string, so it never fetches anything; scripts are not
executed (lxml only builds a tree). The page's declared charset is honoured when it decodes cleanly,
otherwise the bytes are detected like any other file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lxml.etree
import lxml.html
import trafilatura

from pipeline.encoding import DecodeError, decode_bytes
from pipeline.records import Article, Reject
from pipeline.sources import register
from pipeline.sources.common import check_text, list_files, make_article, parse_date

# A page holding more visible text than this many times ingest.max_chars is a site dump, rejected as
# too_long before trafilatura sees it: trafilatura took ~50 s and ~480 MB on a 20 MB page, lxml alone
# counts its text in a fraction of a second. (The main text of a page is part of its visible text.)
PAGE_TEXT_FACTOR = 2

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def declared_charset(data: bytes) -> str | None:
    m = _META_CHARSET.search(data[:4096])
    return m.group(1).decode("ascii", "replace") if m else None


_HTML_PARSER = lxml.html.HTMLParser(encoding="utf-8", no_network=True)


def visible_chars(html_text: str) -> int:
    """Characters of text in the page outside <script> and <style>."""
    tree = lxml.html.document_fromstring(html_text.encode("utf-8"), parser=_HTML_PARSER)
    for el in tree.xpath("//script|//style"):
        el.drop_tree()
    return len(tree.text_content())


def extract_page(html_text: str, url: str | None = None) -> dict[str, Any] | None:
    """Main text, title, date and URL of one page, or None when the page has no main text."""
    doc = trafilatura.bare_extraction(
        html_text,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        deduplicate=False,
        date_extraction_params={"extensive_search": True, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"},
    )
    if doc is None:
        return None
    fields = doc.as_dict()
    if not (fields.get("text") or "").strip():
        return None
    return fields


def strip_title_line(text: str | None, title: str | None) -> str | None:
    """trafilatura keeps the page's <h1> as the first line of the text; the title is a field of its
    own in every format, so it is not repeated in the body (it would be counted twice)."""
    if not text or not title:
        return text
    first, _, rest = text.partition("\n")
    return rest if first.strip() == title.strip() and rest.strip() else text


@register("html")
def read_html_folder(source: str, path: Path, options: dict[str, Any]) -> Iterator[Article | Reject]:
    tz = options.get("timezone", "+08:00")
    for file in list_files(path, options.get("glob", "*.htm*"), source, bool(options.get("allow_outside", False))):
        if isinstance(file, Reject):
            yield file
            continue
        origin = str(file)
        data = file.read_bytes()
        try:
            decoded = decode_bytes(data, options.get("encoding") or declared_charset(data))
        except DecodeError as exc:
            yield Reject(source, "ingest", origin, exc.reason, exc.detail, doc_id=file.stem)
            continue
        max_chars = options.get("max_chars")
        limit = PAGE_TEXT_FACTOR * int(max_chars) if max_chars else None
        if limit and len(decoded.text) > limit:
            try:
                visible = visible_chars(decoded.text)
            except (ValueError, lxml.etree.ParserError):
                visible = 0  # left to trafilatura, which rejects what it cannot parse
            if visible > limit:
                yield Reject(source, "ingest", origin, "too_long",
                             f"page holds {visible} characters of text > {PAGE_TEXT_FACTOR} × "
                             f"ingest.max_chars={max_chars}; not parsed", doc_id=file.stem)
                continue
        try:
            doc = extract_page(decoded.text)
        except Exception as exc:
            yield Reject(source, "ingest", origin, "html_unparseable", f"{type(exc).__name__}: {exc}",
                         doc_id=file.stem)
            continue
        if doc is None:
            yield Reject(source, "ingest", origin, "no_main_text", "trafilatura found no article text",
                         doc_id=file.stem)
            continue
        text = strip_title_line(doc.get("text"), doc.get("title"))
        bad = check_text(source, origin, text, file.stem)
        if bad:
            yield bad
            continue
        yield make_article(
            source=source,
            native_id=file.stem,
            text=text,
            title=doc.get("title"),
            url=doc.get("url"),
            published_at=parse_date(doc.get("date"), tz),
            origin=origin,
            encoding=decoded.encoding,
        )
