"""Counting records in, out and rejected, so every stage can prove it lost nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


class AllRejected(RuntimeError):
    """Every record of a source was bad: the stage fails with one clear message."""


@dataclass
class Tally:
    source: str
    stage: str
    records_in: int = 0
    records_out: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    first_reasons: list[str] = field(default_factory=list)

    def reject(self, reason: str, detail: str = "") -> None:
        self.rejected[reason] += 1
        if len(self.first_reasons) < 3:
            self.first_reasons.append(f"{reason} ({detail})" if detail else reason)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def check(self) -> None:
        """Raise when the books do not balance or when nothing usable came out of the source."""
        if self.records_in != self.records_out + self.rejected_total:
            raise AssertionError(
                f"{self.stage}@{self.source}: {self.records_in} in != {self.records_out} out "
                f"+ {self.rejected_total} rejected"
            )
        if self.records_in and not self.records_out:
            raise AllRejected(
                f"{self.stage}@{self.source}: all {self.records_in} records were rejected; "
                f"first reasons: {'; '.join(self.first_reasons)}"
            )

    def as_metrics(self) -> dict[str, Any]:
        return {
            "in": self.records_in,
            "out": self.records_out,
            "rejected": self.rejected_total,
            "rejected_by_reason": dict(sorted(self.rejected.items())),
        }

    def summary(self) -> str:
        reasons = ", ".join(f"{k}={v}" for k, v in sorted(self.rejected.items())) or "none"
        return (
            f"{self.stage}@{self.source}: in={self.records_in} out={self.records_out} "
            f"rejected={self.rejected_total} ({reasons})"
        )
