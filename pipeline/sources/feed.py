"""`feed` format: RSS 2.0 / Atom files, one article per item, parsed by feedparser.

Entity declarations are refused before feedparser sees the bytes: defusedxml parses the document
with every DTD entity forbidden, so a "billion laughs" bomb or an external entity (a local file or a
URL) is rejected, never expanded or fetched. A feed that is merely malformed (truncated mid-item) is
still handed to feedparser, whose lenient parser keeps the items that arrived whole.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml
import defusedxml.ElementTree as SafeET
import feedparser
import lxml.html

from pipeline.encoding import DecodeError, decode_bytes
from pipeline.records import Article, Reject
from pipeline.sources import register
from pipeline.sources.common import check_text, list_files, make_article, parse_date

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_BLOCK_TAGS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"}


class UnsafeXML(ValueError):
    pass


def check_xml_safe(data: bytes) -> None:
    """Raise UnsafeXML if the document declares entities or external references."""
    if _ENTITY_DECL.search(data):
        raise UnsafeXML("the document declares XML entities (entity-expansion or external-entity attack)")
    try:
        SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except (defusedxml.EntitiesForbidden, defusedxml.ExternalReferenceForbidden, defusedxml.DTDForbidden) as exc:
        raise UnsafeXML(f"{type(exc).__name__}: {exc}") from exc
    except ET.ParseError:
        pass  # malformed but entity-free: feedparser salvages what it can


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
    files = [path] if path.is_file() else list(list_files(path, options.get("glob", "*.xml")))
    for file in files:
        data = file.read_bytes()
        origin = str(file)
        try:
            decode_bytes(data, options.get("encoding"))
            check_xml_safe(data)
        except DecodeError as exc:
            yield Reject(source, "ingest", origin, exc.reason, exc.detail)
            continue
        except UnsafeXML as exc:
            yield Reject(source, "ingest", origin, "unsafe_xml", str(exc))
            continue
        parsed = feedparser.parse(data, resolve_relative_uris=False, sanitize_html=True)
        if not parsed.entries:
            why = str(parsed.get("bozo_exception") or "no items")
            yield Reject(source, "ingest", origin, "feed_unparseable", why[:300])
            continue
        encoding = parsed.get("encoding") or "utf-8"
        for i, entry in enumerate(parsed.entries, start=1):
            item_origin = f"{origin}#item{i}"
            native_id = (entry.get("id") or entry.get("link") or "").strip() or None
            text = _entry_text(entry)
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
