"""Progress bars for long stages: per source, documents done / total and rate, on stderr."""

from __future__ import annotations

import os
import sys

from tqdm import tqdm


def progress(total: int | None, desc: str) -> tqdm:
    disable = os.environ.get("NEWSLENS_PROGRESS", "1") == "0"
    return tqdm(total=total, desc=desc, unit="doc", file=sys.stderr, disable=disable, mininterval=1.0,
                dynamic_ncols=True, leave=True)
