"""The benchmark harness's pure parts: ratio maths, wrk output, the report, the registry. No load is run."""

from __future__ import annotations

import json

import pytest

from bench.report import render_markdown, summary_table
from bench.results import Metric, RunReport, ScenarioResult, Series, Target
from bench.runner import parse_targets
from bench.scenarios import discover, select
from bench.scenarios.consent_check import pacing_ms
from bench.stats import format_number, format_ratio, meets, percentile, ratio
from bench.wrk import Load, WrkError, build_script, lua_string, parse_wrk_output, require_loopback

WRK_TEXT = """\
Running 8s test @ http://127.0.0.1:40111
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.61ms    1.02ms  21.34ms   89.12%
    Req/Sec     3.48k   201.13     3.80k    75.00%
  Latency Distribution
     50%    4.40ms
     75%    4.90ms
     90%    5.60ms
     99%    8.10ms
  27712 requests in 8.00s, 5.12MB read
  Non-2xx or 3xx responses: 12
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:   3463.93
Transfer/sec:    655.28KB
"""

BENCH_JSON = (
    'BENCH_JSON {"requests": 20000, "duration_us": 8000000, "bytes": 123, "ok": 19990, "c4xx": 6, "c5xx": 4, '
    '"other": 0, "last_bad_status": 503, "errors": {"connect": 0, "read": 1, "write": 0, "status": 10, '
    '"timeout": 0}, "latency_us": {"min": 900, "mean": 4100.5, "stdev": 800.1, "max": 30000, "p50": 4000, '
    '"p75": 4500, "p90": 5200, "p99": 9100, "p99.9": 15000}}'
)


# -- ratio maths ---------------------------------------------------------------------------


def test_ratio_against_a_baseline() -> None:
    assert ratio(1500, 3000) == 0.5
    assert ratio(6, 3) == 2.0


@pytest.mark.parametrize(("value", "baseline"), [(1.0, 0.0), (None, 2.0), (2.0, None), (float("nan"), 1.0)])
def test_ratio_is_none_without_a_usable_baseline(value: float | None, baseline: float | None) -> None:
    assert ratio(value, baseline) is None


def test_ratio_and_numbers_are_printed_readably() -> None:
    assert format_ratio(0.4213) == "0.42×"
    assert format_ratio(16.52) == "16.5×"
    assert format_ratio(None) == "n/a"
    assert format_number(3463.93, "req/s") == "3,464 req/s"
    assert format_number(8.1, "ms") == "8.10 ms"
    assert format_number(None, "ms") == "n/a"


def test_percentile_interpolates_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([], 99) is None
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentile(values, 101)


def test_targets_on_values_and_on_ratios() -> None:
    e2e = Metric("e2e", "events/s", 850.0, "events/s", target=Target(">=", 1000))
    check = Metric("rps", "req/s", 2700.0, "req/s", baseline_label="bare", baseline_value=3000.0,
                   target=Target(">=", 0.8, on="ratio"))  # fmt: skip
    memory = Metric("rss", "RSS", 120.0, "MB", target=Target("<=", 200))
    assert e2e.target_met is False
    assert check.ratio == pytest.approx(0.9)
    assert check.target_met is True
    assert memory.target_met is True
    assert Metric("x", "x", None, "ms", target=Target("<", 10)).target_met is None
    assert meets(10, "<", 10) is False
    assert check.target is not None and check.target.describe("req/s") == "≥ 0.8× baseline"
    assert e2e.target is not None and e2e.target.describe("events/s") == "≥ 1,000 events/s"


def test_pacing_brings_the_load_to_about_half() -> None:
    # 16 connections, 4,000 req/s max: a 8 ms cycle per connection at half load, minus 2 ms of latency.
    assert pacing_ms(4000, 16, 2.0) == 6
    assert pacing_ms(0, 16, 2.0) == 0


# -- wrk -------------------------------------------------------------------------------------


def test_wrk_json_line_of_our_script_is_read() -> None:
    run = parse_wrk_output("Running 8s test\n" + BENCH_JSON + "\n", label="x", connections=16)
    assert run.requests == 20000
    assert run.duration_s == 8.0
    assert run.rps == 2500.0
    assert run.ok_rps == pytest.approx(2498.75)
    assert run.latency_ms["p99"] == 9.1
    assert run.latency_ms["p99.9"] == 15.0
    assert (run.c4xx, run.c5xx, run.last_bad_status, run.socket_errors) == (6, 4, 503, 1)
    assert run.failures == 11


def test_wrk_text_summary_is_the_fallback() -> None:
    run = parse_wrk_output(WRK_TEXT, label="plain", connections=16)
    assert run.requests == 27712
    assert run.duration_s == 8.0
    assert run.ok == 27700
    assert run.socket_errors == 3
    assert run.latency_ms == {"p50": 4.4, "p75": 4.9, "p90": 5.6, "p99": 8.1}


def test_wrk_output_without_figures_is_an_error() -> None:
    with pytest.raises(WrkError, match="no figures"):
        parse_wrk_output("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_lua_script_carries_the_request_safely() -> None:
    assert lua_string('{"a": "b\\\\c"}\n') == '"{\\"a\\": \\"b\\\\\\\\c\\"}\\010"'
    assert lua_string("é") == '"\\195\\169"'
    load = Load("POST", "/v1/consents", body='{"v": "{n}"}', headers={"Authorization": "Bearer t"}, delay_ms=5)
    script = build_script(load, per_thread_limit=1000)
    assert script.startswith("BENCH = {")
    assert 'method = "POST"' in script
    assert "per_thread_limit = 1000" in script
    assert '["Authorization"] = "Bearer t"' in script
    assert "delay_ms = 5" in script
    assert "function done(summary, latency, requests)" in script


def test_only_loopback_targets_are_loaded() -> None:
    require_loopback("http://127.0.0.1:8001")
    require_loopback("http://localhost:8001")
    with pytest.raises(ValueError, match="loopback"):
        require_loopback("https://consent.example.com")


def test_target_urls_per_service_or_for_all() -> None:
    targets = parse_targets(["http://127.0.0.1:9000/", "consent=http://127.0.0.1:9001"])
    assert targets["consent"] == "http://127.0.0.1:9001"
    assert targets["dsar"] == "http://127.0.0.1:9000"
    assert parse_targets(["retention=http://127.0.0.1:9003"]) == {"retention": "http://127.0.0.1:9003"}
    with pytest.raises(ValueError, match="use URL"):
        parse_targets(["billing=http://127.0.0.1:1"])


# -- registry --------------------------------------------------------------------------------


def test_registry_finds_the_scenarios_in_order() -> None:
    scenarios = discover()
    names = [s.name for s in scenarios]
    assert names[:2] == ["baseline_http", "baseline_broker"]
    assert {"consent_write", "memory", "breach_write_p99"} <= set(names)
    assert "_consent" not in names
    assert names[-1] == "memory"


def test_selecting_a_scenario_brings_its_baselines() -> None:
    chosen = [s.name for s in select(discover(), only=["consent_write"])]
    assert chosen == ["baseline_http", "baseline_broker", "consent_write"]
    assert "memory" not in [s.name for s in select(discover(), skip=["memory"])]
    with pytest.raises(ValueError, match="unknown scenario"):
        select(discover(), only=["nope"])


# -- report ----------------------------------------------------------------------------------


def fake_results() -> list[ScenarioResult]:
    baseline = ScenarioResult("baseline_http", "baseline: bare FastAPI")
    baseline.metrics.append(Metric("rps_c16", "req/s, 16 conns", 3000.0, "req/s"))
    write = ScenarioResult("consent_write", "consent write, end to end")
    write.metrics += [
        Metric("http_rps", "HTTP 201/s", 1500.0, "req/s", baseline_label="bare req/s", baseline_value=3000.0),
        Metric("e2e_rate", "events/s", 900.0, "events/s", target=Target(">=", 1000)),
        Metric("drain_s", "drain", 0.4, "s"),
    ]
    write.latency_ms["consent-write-c16"] = {"p50": 8.0, "p99": 30.0}
    write.series.append(Series("latency_vs_clients", "consent", "clients", "p99 (ms)", [1, 16], [2.0, 30.0]))
    write.notes.append("12 of 20000 responses were not 2xx")
    skipped = ScenarioResult.skipped("dsar_erasure", "DSAR", "not available yet: POST /v1/requests answered 404")
    failed = ScenarioResult.failed("breach_write_p99", "breach", "POST /v1/incidents answered 422")
    return [baseline, write, skipped, failed]


def test_summary_table_shows_headline_figures_and_skips() -> None:
    table = summary_table(fake_results())
    lines = table.splitlines()
    assert lines[0].split() == ["scenario", "metric", "value", "ratio", "target", "verdict"]
    write_line = next(line for line in lines if "HTTP 201/s" in line)
    assert "1,500 req/s" in write_line
    assert "0.50×" in write_line
    assert any("events/s" in line and "MISSED" in line for line in lines)
    assert not any("drain" in line for line in lines)  # neither a baseline nor a target: details only
    assert any("SKIPPED: not available yet" in line for line in lines)
    assert any("FAILED: POST /v1/incidents answered 422" in line for line in lines)
    assert any("req/s, 16 conns" in line for line in lines)  # a baseline shows all its figures


def test_markdown_report_from_a_fake_run() -> None:
    report = RunReport("2026-11-21T10:00:00Z", 321.0, "local stack", {"cpus": 2, "wrk": "wrk 4.1.0"},
                       fake_results())  # fmt: skip
    text = render_markdown(report, ["throughput.png"])
    assert text.startswith("# privops benchmark report")
    assert "## Baselines" in text and "## Scenarios" in text
    assert "| HTTP 201/s | 1,500 | req/s" not in text  # value and unit share one cell
    assert "| HTTP 201/s | 1,500 req/s | 3,000 req/s (bare req/s) | 0.50× |  |  |" in text
    assert "≥ 1,000 events/s | MISSED" in text
    assert "> not available yet: POST /v1/requests answered 404" in text
    assert "| consent-write-c16 | 8.00 ms | n/a | n/a | 30.0 ms | n/a | n/a |" in text
    assert "- 12 of 20000 responses were not 2xx" in text
    assert "![throughput.png](throughput.png)" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert data["results"][1]["metrics"][0]["ratio"] == 0.5
    assert data["results"][1]["metrics"][1]["target_met"] is False
    assert data["results"][2]["status"] == "skipped"
