"""`python -m bench <name> [options]`: run one benchmark and print its result as one JSON line."""

from __future__ import annotations

import argparse
import json
import os
import platform

os.environ.setdefault("NEWSLENS_PROGRESS", "0")


def machine() -> dict[str, object]:
    return {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=["segment"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--min-bytes", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.name == "segment":
        from bench import segment_throughput

        result = segment_throughput.run(args.repeats, args.min_bytes)
    result["machine"] = machine()
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
