"""Parquet writing in stage processes: no pandas import, same bytes, pandas still usable afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

WRITE = """
import sys
import pyarrow as pa
from pipeline.artefacts import ParquetBatchWriter, skip_pandas_probe
if {skip}:
    skip_pandas_probe()
schema = pa.schema([("doc_id", pa.string()), ("n", pa.int32()), ("score", pa.float64()), ("ok", pa.bool_()),
                    ("sig", pa.binary()), ("offsets", pa.list_(pa.int32())),
                    ("flags", pa.list_(pa.struct([("kind", pa.string()), ("start", pa.int32())])))])
rows = [{{"doc_id": "阿里:1", "n": 3, "score": 0.25, "ok": True, "sig": b"\\x00\\xff", "offsets": [0, 5],
          "flags": [{{"kind": "number", "start": 2}}]}},
        {{"doc_id": "腾讯:2", "n": None, "score": None, "ok": False, "sig": None, "offsets": [], "flags": []}}]
with ParquetBatchWriter({path!r}, schema) as writer:
    writer.write_rows(rows)
print("pandas imported" if "pandas" in sys.modules else "no pandas")
"""


def _run(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout.strip()


def test_stage_writes_parquet_without_importing_pandas(tmp_path: Path) -> None:
    assert _run(WRITE.format(skip=True, path=str(tmp_path / "a.parquet"))) == "no pandas"
    assert _run(WRITE.format(skip=False, path=str(tmp_path / "b.parquet"))) == "pandas imported"
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_pandas_still_works_after_the_probe_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    code = WRITE.format(skip=True, path=str(path)) + f"""
import pandas as pd
frame = pd.read_parquet({str(path)!r})
assert frame["doc_id"].tolist() == ["阿里:1", "腾讯:2"], frame
back = pa.Table.from_pandas(frame, preserve_index=False)
assert back.column("n").to_pylist() == [3, None]
assert pa.array(pd.Series([1.5, None])).to_pylist() == [1.5, None]
print("pandas ok")
"""
    assert _run(code).splitlines() == ["no pandas", "pandas ok"]
