"""Ingest accounting: every record in is either out or in the rejects file with a reason."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from pipeline.accounting import AllRejected
from pipeline.artefacts import read_jsonl
from pipeline.ingest import SourcePathError, ingest_source
from tests.conftest import SIMPLIFIED, TRADITIONAL


def _ingest(tmp_path: Path, name: str, options: dict, **kw):
    out = tmp_path / "out"
    tally = ingest_source(
        name, options, out / f"{name}.parquet", out / f"{name}.rejects.jsonl", out / f"{name}.json",
        root=tmp_path, **kw,
    )
    rows = pd.read_parquet(out / f"{name}.parquet")
    rejects = read_jsonl(out / f"{name}.rejects.jsonl")
    metrics = json.loads((out / f"{name}.json").read_text(encoding="utf-8"))
    return tally, rows, rejects, metrics


def test_malformed_corpus_balances(tmp_path: Path) -> None:
    src = tmp_path / "corpus"
    src.mkdir()
    good = [{"id": f"g{i}", "text": SIMPLIFIED if i % 2 else TRADITIONAL} for i in range(5)]
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in good]
    lines.insert(2, b'{"id": "bad", "text": ')  # broken JSON
    lines.insert(4, b'{"id": "nt"}')  # missing text
    lines.insert(5, b'{"id": "u8", "text": "\xc3\x28\xa0\xa1"}')  # undecodable bytes
    lines.append(json.dumps({"id": "g1", "text": "重复的编号"}, ensure_ascii=False).encode())  # duplicate id
    lines.append(json.dumps({"id": "big", "text": "长" * 500}, ensure_ascii=False).encode())  # too long
    (src / "a.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    (src / "b.jsonl").write_bytes(b"")  # empty file
    tally, rows, rejects, metrics = _ingest(tmp_path, "corpus", {"format": "jsonl", "path": "corpus"},
                                            max_chars=400)
    assert sorted(rows["native_id"]) == ["g0", "g1", "g2", "g3", "g4"]
    reasons = sorted(r["reason"] for r in rejects)
    assert reasons == ["duplicate_id", "empty_file", "invalid_json", "missing_text", "too_long", "undecodable"]
    assert all(r["origin"] and r["detail"] for r in rejects)
    assert metrics["in"] == metrics["out"] + metrics["rejected"] == 11
    assert metrics["rejected_by_reason"]["invalid_json"] == 1
    assert tally.records_in == len(rows) + len(rejects)


def test_rows_carry_the_article_contract(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.txt").write_text(SIMPLIFIED, encoding="utf-8")
    _, rows, _, _ = _ingest(tmp_path, "t", {"format": "text", "path": "t"})
    assert list(rows.columns) == ["doc_id", "source", "native_id", "url", "title", "published_at", "text",
                                  "encoding", "content_sha256", "origin"]
    row = rows.iloc[0]
    assert row["doc_id"] == "t:a" and row["source"] == "t" and len(row["content_sha256"]) == 64


def test_all_bad_source_fails_with_one_clear_message(tmp_path: Path) -> None:
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.txt").write_bytes(b"")
    (tmp_path / "bad" / "y.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(AllRejected, match=r"ingest@bad: all 2 records were rejected; first reasons: "
                                          r"empty_file .*binary_content"):
        _ingest(tmp_path, "bad", {"format": "text", "path": "bad"})


def test_path_outside_project_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "a.txt").write_text(SIMPLIFIED, encoding="utf-8")
    root = tmp_path / "project"
    root.mkdir()
    with pytest.raises(SourcePathError, match="outside the project"):
        ingest_source("o", {"format": "text", "path": str(outside)}, root / "o.parquet", root / "o.jsonl",
                      root / "o.json", root=root)
    os.symlink(outside, root / "link")
    with pytest.raises(SourcePathError, match=r"outside the project|symlink"):
        ingest_source("o", {"format": "text", "path": "link"}, root / "o.parquet", root / "o.jsonl",
                      root / "o.json", root=root)
    tally = ingest_source("o", {"format": "text", "path": "link", "allow_outside": True}, root / "o.parquet",
                          root / "o.jsonl", root / "o.json", root=root)
    assert tally.records_out == 1


def test_symlink_inside_project_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a.txt").write_text(SIMPLIFIED, encoding="utf-8")
    os.symlink(tmp_path / "real", tmp_path / "alias")
    with pytest.raises(SourcePathError, match="symlink"):
        _ingest(tmp_path, "s", {"format": "text", "path": "alias"})


def test_unknown_format_names_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    with pytest.raises(ValueError, match="known formats: csv, feed, html, jsonl, text"):
        _ingest(tmp_path, "x", {"format": "docx", "path": "x"})
