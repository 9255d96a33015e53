"""The pure parts of the data-size scenarios: synthetic subjects, import rows, latency maths, modes."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.__main__ import parser
from bench.context import BenchContext
from bench.scenarios import discover
from bench.scenarios._infra import Curve, size_label
from bench.scenarios.consent_bulk_import import BAD_EVERY, expected_rejections, ndjson_rows, purpose_of
from bench.scenarios.consent_check import repace_ms
from bench.scenarios.consent_check_scale import FULL_SIZES, REF_BASE, SIZES, check_load, subject_ref
from bench.scenarios.dsar_erasure import erasure_body, fan, latency_stats
from bench.scenarios.peer_fides import pair
from bench.scenarios.retention_sweep_1m import subjects_in
from bench.wrk import Wrk, WrkResult, build_script
from services.consent.domain.imports import ImportRow, read_rows, validate

SUBJECT_REF = re.compile(r"^[0-9a-f]{64}$")


def context(*, quick: bool = False, full: bool = False) -> BenchContext:
    return BenchContext(
        run_id="r1", out_dir=Path("."), wrk=Wrk("wrk", Path(".")), targets={}, token="t", tenant="bench",
        stack=None, quick=quick, full=full,
    )  # fmt: skip


def test_sizes_by_mode() -> None:
    assert context().size(200, full=1000, quick=50) == 200
    assert context(quick=True).size(200, full=1000, quick=50) == 50
    assert context(full=True).size(200, full=1000, quick=50) == 1000
    assert SIZES[-1] == 1_000_000 and FULL_SIZES[-1] == 10_000_000


def test_full_mode_raises_the_limit_of_the_scenarios_that_grow() -> None:
    scenarios = {s.name: s for s in discover()}
    scale = scenarios["consent_check_scale"]
    assert scale.limit_s(full=True) > scale.limit_s(full=False)
    assert scenarios["memory"].limit_s(full=True) == scenarios["memory"].limit_s()
    assert parser().parse_args(["--full"]).full
    assert parser().parse_args([]).budget_min is None


def test_size_labels() -> None:
    assert [size_label(n) for n in (10_000, 100_000, 1_000_000, 10_000_000, 1234)] == [
        "10k",
        "100k",
        "1M",
        "10M",
        "1234",
    ]


def test_seeded_subjects_are_valid_references_that_wrk_can_draw() -> None:
    assert SUBJECT_REF.match(subject_ref(1))
    assert SUBJECT_REF.match(subject_ref(10_000_000))
    load = check_load(context(), 1_000_000)
    assert (load.rand_min, load.rand_max) == (REF_BASE + 1, REF_BASE + 1_000_000)
    filled = load.path.replace("{rand}", str(REF_BASE + 1_000_000))
    assert filled == f"/v1/checks?subject_ref={subject_ref(1_000_000)}&purpose=bench_scale"
    script = build_script(load, per_thread_limit=10)
    assert f"rand_min = {REF_BASE + 1}," in script
    assert "math.random(BENCH.rand_min or 1, BENCH.rand_max)" in script


def test_import_rows_are_valid_except_one_in_a_thousand() -> None:
    now = datetime.now(UTC)
    lines = ndjson_rows(3000, "r1", now)
    assert len(lines) == 3000
    assert json.loads(lines[0])["subject_kind"] == "email"
    parsed = [
        validate(line, fields, b"k" * 32, now, tenant="acme") for line, fields in read_rows("ndjson", "".join(lines), 1)
    ]
    rejected = [p for p in parsed if not isinstance(p, ImportRow)]
    assert len(rejected) == expected_rejections(3000) == 3000 // BAD_EVERY
    assert {r.line % BAD_EVERY for r in rejected} == {0}


def test_repacing_corrects_the_pause_from_a_trial() -> None:
    # 16 connections at 10 ms pause reached 800 req/s: a 20 ms cycle, so 10 ms besides the pause.
    # 1,000 req/s needs a 16 ms cycle: a 6 ms pause.
    assert repace_ms(10, 16, 800.0, 1000.0) == 6
    assert repace_ms(10, 16, 0.0, 1000.0) == 10
    assert repace_ms(0, 16, 100.0, 100_000.0) == 0


def test_latency_from_verification_to_certificate() -> None:
    pairs = [(float(i), float(i) + 2.0) for i in range(100)]
    stats = latency_stats(pairs)
    assert stats["p50"] == pytest.approx(2.0)
    assert stats["p99"] == pytest.approx(2.0)
    assert stats["span"] == pytest.approx(101.0)
    assert stats["rate"] == pytest.approx(100 / 101.0)


def test_erasure_bodies_name_a_subject_each() -> None:
    first, second = erasure_body("r1", 1), erasure_body("r1", 2)
    assert first["type"] == "erasure" and first["verification"] == "manual"
    assert first["identifiers"] != second["identifiers"]


async def test_fan_keeps_the_order_and_the_bound() -> None:
    import asyncio

    in_flight = peak = 0

    async def one(i: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        return i * 2

    assert await fan(20, 3, one) == [i * 2 for i in range(20)]
    assert peak <= 3


def test_curves_are_thinned_but_keep_the_last_point() -> None:
    curve = Curve(started=0.0)
    for i in range(1000):
        curve.add(i, at=float(i))
    points = curve.thinned(100)
    assert len(points) <= 102
    assert points[-1] == (999.0, 999.0)


def test_the_runs_events_and_subjects_are_recognised_on_the_topics() -> None:
    row = json.loads(ndjson_rows(1, "r1", datetime.now(UTC))[0])
    assert row["purpose"] == purpose_of("r1") == "bench_import_r1"
    command = json.dumps({"subject_refs": ["bench-due-1", "bench-due-2", "other"], "system": "x"}).encode()
    assert subjects_in(command) == 2
    assert subjects_in(b'{"subject_refs": []}') == 0


def _wrk(label: str, ok: int, p99: float) -> WrkResult:
    latencies = {"p50": p99 / 2, "p99": p99}
    return WrkResult(label, 16, ok, 8.0, ok, 0, 0, 0, 0, latencies)


def test_the_peer_comparison_gives_no_latency_ratio_when_the_peer_answered_nothing() -> None:
    ours = _wrk("privops-create-c16", 1_280, 197.0)
    rps, p99 = pair("create", "request create", ours, _wrk("fides-create-c16", 0, 0.0), theirs_ok_rps=0.5)
    assert rps.ratio == pytest.approx(160 / 0.5)
    assert p99.baseline_value is None and p99.ratio is None
    answered = pair("read", "consent read", ours, _wrk("fides-read-c16", 1_800, 398.0), theirs_ok_rps=225.0)[1]
    assert answered.baseline_value == 398.0
