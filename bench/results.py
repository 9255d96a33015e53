"""What a benchmark run produces: metrics with their baseline and target, per scenario, per run."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from bench.stats import meets, ratio

Status = Literal["ok", "skipped", "failed"]


@dataclass(frozen=True)
class Target:
    """A goal from the issue: ``value >= 1000`` or ``ratio >= 0.8`` (``on`` says which side is compared)."""

    op: str
    threshold: float
    on: Literal["value", "ratio"] = "value"

    def describe(self, unit: str) -> str:
        """``≥ 1,000 events/s`` or ``≥ 0.80× baseline``."""
        symbol = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}.get(self.op, self.op)
        if self.on == "ratio":
            return f"{symbol} {self.threshold:g}× baseline"
        return f"{symbol} {self.threshold:,g} {unit}".rstrip()


@dataclass
class Metric:
    """One measured figure, with the baseline figure it is compared with (measured in the same run)."""

    key: str
    label: str
    value: float | None
    unit: str
    baseline_label: str | None = None
    baseline_value: float | None = None
    higher_is_better: bool = True
    target: Target | None = None
    headline: bool | None = None

    @property
    def is_headline(self) -> bool:
        """Whether the summary table shows it: explicitly, or because it has a baseline or a target."""
        if self.headline is not None:
            return self.headline
        return self.baseline_label is not None or self.target is not None

    @property
    def ratio(self) -> float | None:
        """``value / baseline_value`` (None without a baseline)."""
        return ratio(self.value, self.baseline_value)

    @property
    def target_met(self) -> bool | None:
        """Whether the target holds; None without a target or a figure to compare."""
        if self.target is None:
            return None
        compared = self.ratio if self.target.on == "ratio" else self.value
        return meets(compared, self.target.op, self.target.threshold)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the derived ratio and verdict."""
        data = asdict(self)
        data["ratio"] = self.ratio
        data["target_met"] = self.target_met
        data["target_text"] = self.target.describe(self.unit) if self.target else None
        return data


@dataclass
class Series:
    """A curve for a plot: ``y`` against ``x`` (e.g. p99 latency against concurrent clients)."""

    plot: str
    name: str
    x_label: str
    y_label: str
    x: list[float]
    y: list[float]


@dataclass
class ScenarioResult:
    """The outcome of one scenario: ``ok`` with metrics, ``skipped`` (with why), or ``failed`` (with why)."""

    name: str
    title: str
    status: Status = "ok"
    reason: str = ""
    metrics: list[Metric] = field(default_factory=list)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    series: list[Series] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    duration_s: float = 0.0

    @classmethod
    def skipped(cls, name: str, title: str, reason: str) -> ScenarioResult:
        """A scenario that did not run, and why (e.g. its endpoint is not available yet)."""
        return cls(name=name, title=title, status="skipped", reason=reason)

    @classmethod
    def failed(cls, name: str, title: str, reason: str) -> ScenarioResult:
        """A scenario that could not produce its figures, and why."""
        return cls(name=name, title=title, status="failed", reason=reason)

    def metric(self, key: str) -> Metric | None:
        """The metric named ``key``, if measured."""
        return next((m for m in self.metrics if m.key == key), None)

    def value(self, key: str) -> float | None:
        """The value of metric ``key``, or None."""
        found = self.metric(key)
        return found.value if found else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
            "metrics": [m.to_dict() for m in self.metrics],
            "latency_ms": self.latency_ms,
            "series": [asdict(s) for s in self.series],
            "notes": self.notes,
            "duration_s": self.duration_s,
        }


@dataclass
class RunReport:
    """A whole run: where and how it ran, and every scenario's result in order."""

    started_at: str
    duration_s: float
    mode: str
    machine: dict[str, Any]
    results: list[ScenarioResult]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "started_at": self.started_at,
            "duration_s": self.duration_s,
            "mode": self.mode,
            "machine": self.machine,
            "results": [r.to_dict() for r in self.results],
        }

    def write_json(self, path: Path) -> None:
        """Write the report as indented JSON."""
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")
