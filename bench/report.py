"""The report: a Markdown page, a JSON file, and the summary table printed at the end of a run."""

from __future__ import annotations

from pathlib import Path

from bench.results import Metric, RunReport, ScenarioResult
from bench.stats import format_number, format_ratio

PLOT_TITLES = {
    "throughput.png": "Throughput, each figure with its ratio to the baseline of this run",
    "latency.png": "Latency percentiles per wrk run",
    "latency_vs_clients.png": "p99 latency against concurrent connections",
    "throughput_vs_clients.png": "Throughput against concurrent connections",
    "e2e_arrivals.png": "Consent events arriving on Kafka during and after the load",
    "memory.png": "Resident memory of each service (target ≤ 200 MB)",
    "check_latency_vs_size.png": "Consent check latency against the number of consent records (log x)",
    "check_throughput_vs_size.png": "Consent check throughput against the number of consent records (log x)",
    "import_progress.png": "Bulk import: rows stored and events published over time",
    "dsar_completion.png": "DSAR erasures: certificates issued over time after verification",
    "retention_progress.png": "Retention: due schedules claimed and sweep commands published over time",
}


def verdict(metric: Metric) -> str:
    """``met``, ``MISSED`` or empty (no target)."""
    met = metric.target_met
    if met is None:
        return "" if metric.target is None else "n/a"
    return "met" if met else "MISSED"


def metric_cells(metric: Metric) -> list[str]:
    """Value, baseline, ratio, target and verdict of a metric, formatted."""
    baseline = ""
    if metric.baseline_label:
        baseline = f"{format_number(metric.baseline_value, metric.unit)} ({metric.baseline_label})"
    return [
        format_number(metric.value, metric.unit),
        baseline,
        format_ratio(metric.ratio) if metric.baseline_label else "",
        metric.target.describe(metric.unit) if metric.target else "",
        verdict(metric),
    ]


def summary_rows(results: list[ScenarioResult]) -> list[list[str]]:
    """One row per headline metric (a baseline or a target), one per skipped or failed scenario."""
    rows = []
    for result in results:
        if result.status != "ok":
            rows.append([result.name, f"{result.status.upper()}: {result.reason}", "", "", "", ""])
            continue
        chosen = [m for m in result.metrics if m.is_headline] or result.metrics
        for metric in chosen:
            value, _, ratio_text, target, met = metric_cells(metric)
            rows.append([result.name, metric.label, value, ratio_text, target, met])
    return rows


SUMMARY_HEADER = ["scenario", "metric", "value", "ratio", "target", "verdict"]


def summary_table(results: list[ScenarioResult]) -> str:
    """The plain-text table printed at the end of a run."""
    rows = summary_rows(results)
    headline_rows = [r for r in rows if r[2]]  # skipped/failed rows only fill the metric column
    widths = [max(len(str(r[i])) for r in [SUMMARY_HEADER, *headline_rows]) for i in range(6)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(SUMMARY_HEADER), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    return "\n".join(out)


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def esc(cell: str) -> str:
        return str(cell).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(report: RunReport, plots: list[str]) -> str:
    """The Markdown report of a run."""
    m = report.machine
    lines = [
        "# privops benchmark report",
        "",
        f"- run: {report.started_at}, {report.duration_s:.0f} s, mode: **{report.mode}**",
        f"- machine: {m.get('cpus', '?')} cores ({m.get('cpu_model', '?')}), {m.get('memory_gib', '?')} GiB, "
        f"load average at start {m.get('loadavg_start', '?')}, at end {m.get('loadavg_end', '?')}",
        f"- software: Python {m.get('python', '?')}, {m.get('wrk', 'wrk ?')}, load generator and servers "
        "share the same cores",
        "",
        "Every figure is printed with its ratio to a baseline measured in this same run (the machine is "
        "shared and noisy: compare ratios across runs, absolute numbers only within one). Targets come from "
        "issue 8; a miss is a finding, not a failure.",
        "",
        "## Summary",
        "",
    ]
    lines += _md_table(["scenario", "metric", "value", "ratio", "target", "verdict"],
                       summary_rows(report.results))  # fmt: skip
    for heading, baseline in (("Baselines", True), ("Scenarios", False)):
        lines += ["", f"## {heading}"]
        for result in report.results:
            if result.name.startswith("baseline_") == baseline:
                lines += ["", *render_result(result)]
    if plots:
        lines += ["", "## Plots"]
        for plot in plots:
            lines += ["", f"### {PLOT_TITLES.get(plot, plot)}", "", f"![{plot}]({plot})"]
    return "\n".join(lines) + "\n"


def render_result(result: ScenarioResult) -> list[str]:
    """The section of one scenario: status, metrics, latency percentiles, notes."""
    lines = [f"### {result.title}", "", f"`{result.name}` — **{result.status}** in {result.duration_s:.1f} s"]
    if result.reason:
        lines += ["", f"> {result.reason}"]
    if result.metrics:
        rows = [[mt.label, *metric_cells(mt)] for mt in result.metrics]
        lines += ["", *_md_table(["metric", "value", "baseline (same run)", "ratio", "target", "verdict"], rows)]
    if result.latency_ms:
        keys = ["p50", "p75", "p90", "p99", "p99.9", "max"]
        rows = [[label, *(format_number(pcts.get(k), "ms") for k in keys)] for label, pcts in result.latency_ms.items()]
        lines += ["", *_md_table(["wrk run", *keys], rows)]
    if result.notes:
        lines += ["", *[f"- {note}" for note in result.notes]]
    return lines


def write_report(report: RunReport, out_dir: Path, plots: list[str]) -> tuple[Path, Path]:
    """Write ``report.md`` and ``results.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = out_dir / "report.md"
    markdown.write_text(render_markdown(report, plots))
    json_path = out_dir / "results.json"
    report.write_json(json_path)
    return markdown, json_path
