"""PNG plots of a run (matplotlib, from the optional ``bench`` dependency group)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.results import ScenarioResult, Series
from bench.stats import format_ratio

RATE_UNITS = ("req/s", "msg/s", "events/s")
PERCENTILES = ("p50", "p90", "p99", "p99.9")


def write_plots(results: list[ScenarioResult], out_dir: Path) -> tuple[list[str], str | None]:
    """Draw every plot the results allow; return the file names, and why plots are missing if they are."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return [], "plots skipped: matplotlib is missing (pip install -e '.[bench]')"
    ok = [r for r in results if r.status == "ok"]
    written = []
    for name, draw in (
        ("throughput.png", _throughput),
        ("latency.png", _latency),
        ("memory.png", _memory),
    ):
        fig = draw(plt, ok)
        if fig is not None:
            fig.savefig(out_dir / name, dpi=110, bbox_inches="tight")
            plt.close(fig)
            written.append(name)
    curves: dict[str, list[Series]] = defaultdict(list)
    for result in ok:
        for series in result.series:
            curves[series.plot].append(series)
    for plot, series_list in curves.items():
        fig = _curves(plt, plot, series_list)
        fig.savefig(out_dir / f"{plot}.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(f"{plot}.png")
    return written, None


def _throughput(plt: Any, results: list[ScenarioResult]) -> Any:
    bars = [
        (f"{r.name}: {m.label}", m.value, m.ratio, m.unit)
        for r in results
        for m in r.metrics
        if m.unit in RATE_UNITS and m.value is not None and (m.is_headline or r.name.startswith("baseline_"))
    ]
    if not bars:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(bars) + 1.5))
    labels = [b[0] for b in bars]
    values = [b[1] for b in bars]
    ax.barh(labels, values, color=["#888888" if lb.startswith("baseline_") else "#3b75af" for lb in labels])
    for i, (_, value, ratio_value, unit) in enumerate(bars):
        text = f" {value:,.0f} {unit}" + (f"  ({format_ratio(ratio_value)} baseline)" if ratio_value else "")
        ax.text(value, i, text, va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("per second, log scale (grey: baselines of this run)")
    ax.set_title("Throughput")
    ax.set_xlim(min(v for v in values if v > 0) / 2 if any(v > 0 for v in values) else 1, max(values) * 30)
    return fig


def _latency(plt: Any, results: list[ScenarioResult]) -> Any:
    runs = [(label, pcts) for r in results for label, pcts in r.latency_ms.items()]
    if not runs:
        return None
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(runs) + 1.5))
    height = 0.8 / len(PERCENTILES)
    for j, pct in enumerate(PERCENTILES):
        ys = [i + j * height for i in range(len(runs))]
        ax.barh(ys, [p.get(pct, 0) for _, p in runs], height=height, label=pct)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(runs))], [label for label, _ in runs], fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("latency (ms, log scale)")
    ax.set_title("Latency percentiles per wrk run")
    ax.legend(fontsize=8)
    return fig


def _memory(plt: Any, results: list[ScenarioResult]) -> Any:
    memory = next((r for r in results if r.name == "memory"), None)
    if memory is None:
        return None
    kinds = (("rss_start_", "idle after start"), ("rss_idle_", "idle after scenarios"), ("rss_load_", "under load"))
    services = [m.key.removeprefix("rss_load_") for m in memory.metrics if m.key.startswith("rss_load_")]
    services = [s for s in services if s != "total"]
    if not services:
        return None
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(kinds)
    for j, (prefix, label) in enumerate(kinds):
        values = [memory.value(prefix + s) or 0 for s in services]
        ax.bar([i + j * width for i in range(len(services))], values, width=width, label=label)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(services))], services)
    target = memory.metric(f"rss_load_{services[0]}")
    if target is not None and target.target is not None:
        ax.axhline(target.target.threshold, color="red", linestyle="--", label="target 200 MB")
    if target is not None and target.baseline_value:
        ax.axhline(target.baseline_value, color="grey", linestyle=":", label="bare FastAPI+asyncpg under load")
    ax.set_ylabel("RSS (MB)")
    ax.set_title("Resident memory per service")
    ax.legend(fontsize=8)
    return fig


def _curves(plt: Any, plot: str, series_list: list[Series]) -> Any:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for series in series_list:
        ax.plot(series.x, series.y, marker="o" if len(series.x) < 30 else None, label=series.name)
    first = series_list[0]
    ax.set_xlabel(first.x_label)
    ax.set_ylabel(first.y_label)
    if plot.endswith("_vs_clients"):
        ax.set_xscale("log", base=2)
    elif plot.endswith("_vs_size"):
        ax.set_xscale("log")
    ax.set_title(plot.replace("_", " "))
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig
