"""`feed` format: RSS 2.0 / Atom files, one article per item, parsed by feedparser.

Entity declarations are refused before feedparser sees the bytes: defusedxml parses the document
with every DTD entity forbidden, so a "billion laughs" bomb or an external entity (a local file or a
URL) is rejected, never expanded or fetched. A feed that is merely malformed (truncated mid-item) is
still handed to feedparser, whose lenient parser keeps the items that arrived whole.
"""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET
import feedparser
import lxml.etree
import lxml.html

from pipeline.encoding import DecodeError, decode_bytes
from pipeline.records import Article, Reject
from pipeline.sources import register
from pipeline.sources.common import check_text, list_files, make_article, parse_date

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENTITY_DECL_TEXT = re.compile(r"<!ENTITY", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_XML_DECL_ENCODING_TEXT = re.compile(r"""^(\s*<\?xml[^>]*?\sencoding\s*=\s*)(["'])[^"']*\2""")
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"}


def declared_encoding(data: bytes) -> str | None:
    """The encoding an (ASCII-compatible) XML declaration names, if any."""
    m = _XML_DECL_ENCODING.match(data[:512])
    return m.group(1).decode("ascii") if m else None


class UnsafeXML(ValueError):
    pass


def check_xml_safe(data: bytes, text: str | None = None) -> None:
    """Raise UnsafeXML if the document declares entities or external references.

    `text` is the document as decoded by pipeline.encoding: the byte pattern alone misses a declaration
    in UTF-32 or UTF-16 without a BOM, and expat cannot parse bytes declared as GB18030/GBK/Big5 ("multi-byte
    encodings are not supported"), while it parses a str whatever its declaration says.
    """
    if _ENTITY_DECL.search(data) or (text is not None and _ENTITY_DECL_TEXT.search(text)):
        raise UnsafeXML("the document declares XML entities (entity-expansion or external-entity attack)")
    try:
        SafeET.fromstring(data if text is None else text, forbid_dtd=False, forbid_entities=True,
                          forbid_external=True)
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as exc:
        raise UnsafeXML(f"{type(exc).__name__}: {exc}") from exc
    except (ET.ParseError, ValueError):
        pass  # malformed (or an encoding expat lacks) but entity-free: feedparser salvages what it can


def html_fragment_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment with one line per block element."""
    if "<" not in fragment:
        return fragment.strip()
    root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    for bad in root.xpath("//script|//style"):
        bad.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
    lines = (line.strip() for line in root.text_content().splitlines())
    return "\n".join(line for line in lines if line)


def _entry_text(entry: Any) -> str | None:
    for content in entry.get("content") or []:
        if content.get("value"):
            return html_fragment_to_text(content["value"])
    summary = entry.get("summary")
    return None if summary is None else html_fragment_to_text(summary)


def _entry_date(entry: Any, tz: str) -> str | None:
    for key in ("published", "updated", "created"):
        raw = entry.get(key)
        if raw:
            parsed = parse_date(raw, tz)
            if parsed:
                return parsed
    for key in ("published_parsed", "updated_parsed"):
        st = entry.get(key)
        if st:
            return parse_date(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", st), tz)
    return None


@register("feed")
def read_feed(source: str, path: Path, options: dict[str, Any]) -> Iterator[Article | Reject]:
    tz = options.get("timezone", "+08:00")
    files: list[Path | Reject] = [path] if path.is_file() else list(
        list_files(path, options.get("glob", "*.xml"), source, bool(options.get("allow_outside", False)))
    )
    for file in files:
        if isinstance(file, Reject):
            yield file
            continue
        data = file.read_bytes()
        origin = str(file)
        try:
            decoded = decode_bytes(data, options.get("encoding") or declared_encoding(data))
            check_xml_safe(data, decoded.text)
        except DecodeError as exc:
            yield Reject(source, "ingest", origin, exc.reason, exc.detail)
            continue
        except UnsafeXML as exc:
            yield Reject(source, "ingest", origin, "unsafe_xml", str(exc))
            continue
        # feedparser gets the text decoded here, as UTF-8 (so a Big5 declaration over HKSCS characters
        # cannot send it to a windows-1252 fallback), and as a stream, never as bytes: feedparser
        # treats bytes that name an existing file as a path and reads that file instead.
        utf8 = _XML_DECL_ENCODING_TEXT.sub(r"\1\2utf-8\2", decoded.text, count=1).encode("utf-8")
        try:
            parsed = feedparser.parse(io.BytesIO(utf8), resolve_relative_uris=False, sanitize_html=True)
        except Exception as exc:  # feedparser's lenient parser fails on e.g. &#xD800; in a malformed feed
            yield Reject(source, "ingest", origin, "feed_unparseable", f"{type(exc).__name__}: {str(exc)[:300]}")
            continue
        if not parsed.entries:
            why = str(parsed.get("bozo_exception") or "no items")
            yield Reject(source, "ingest", origin, "feed_unparseable", why[:300])
            continue
        encoding = decoded.encoding
        for i, entry in enumerate(parsed.entries, start=1):
            item_origin = f"{origin}#item{i}"
            native_id = (entry.get("id") or entry.get("link") or "").strip() or None
            try:
                text = _entry_text(entry)
            except (ValueError, lxml.etree.ParserError) as exc:
                yield Reject(source, "ingest", item_origin, "html_unparseable", f"{type(exc).__name__}: {exc}",
                             doc_id=native_id)
                continue
            bad = check_text(source, item_origin, text, native_id)
            if bad:
                yield bad
                continue
            yield make_article(
                source=source,
                native_id=native_id,
                text=text,
                title=entry.get("title"),
                url=entry.get("link"),
                published_at=_entry_date(entry, tz),
                origin=item_origin,
                encoding=encoding,
            )
