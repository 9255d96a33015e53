"""wrk, the compiled load generator: installing it, scripting a run, running it bounded, reading its output.

A Python client saturates near 500 requests/s on this machine (local-stack.md §5), below what the
services can do, so every throughput figure comes from wrk. One Lua script (``lua/request.lua``)
serves every scenario; a table of settings generated here is put in front of it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

LUA_SCRIPT = Path(__file__).parent / "lua" / "request.lua"
JSON_MARKER = "BENCH_JSON "
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


class WrkError(RuntimeError):
    """wrk is missing, could not be installed, or a run did not produce its figures."""


def ensure_wrk() -> str:
    """Path of ``wrk``; install Debian's package with apt-get when missing (as root), else fail clearly."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise WrkError("wrk is not installed and this is not root: run `sudo apt-get install -y wrk`, then retry.")
    if shutil.which("apt-get") is None:
        raise WrkError("wrk is not installed and apt-get is missing: install wrk (https://github.com/wg/wrk) first.")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    done = subprocess.run(install, capture_output=True, text=True, env=env, check=False, timeout=300)
    if done.returncode != 0:  # the package lists may be missing or stale
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False, timeout=300)
        done = subprocess.run(install, capture_output=True, text=True, env=env, check=False, timeout=300)
    found = shutil.which("wrk")
    if done.returncode != 0 or not found:
        raise WrkError(f"could not install wrk with apt-get (exit {done.returncode}): {done.stderr.strip()[-500:]}")
    return found


def wrk_version(binary: str) -> str:
    """The first line of ``wrk --version`` (e.g. ``wrk debian/4.1.0-3+b2 [epoll]``)."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False, timeout=10)
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


def require_loopback(url: str) -> None:
    """Refuse any URL that does not point at this machine: benchmarks talk to 127.0.0.1 only."""
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS and not host.startswith("127."):
        raise ValueError(f"{url}: benchmarks only load this machine (127.0.0.1); {host!r} is not a loopback host")


@dataclass
class Load:
    """What to send: method, path (with placeholders), optional body and headers."""

    method: str = "GET"
    path: str = "/"
    body: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    paths: Sequence[str] | None = None
    ids: Sequence[str] | None = None
    rand_max: int | None = None
    rand_min: int | None = None
    delay_ms: int = 0
    think: bool = False  # delay_ms is the mean of a random think time per request (users), not a fixed pace


@dataclass
class WrkResult:
    """The figures of one wrk run (latencies in milliseconds)."""

    label: str
    connections: int
    requests: int
    duration_s: float
    ok: int
    c4xx: int
    c5xx: int
    socket_errors: int
    last_bad_status: int
    latency_ms: dict[str, float]

    @property
    def rps(self) -> float:
        """Completed requests per second (any status)."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def ok_rps(self) -> float:
        """Successful (2xx) responses per second: the throughput figure that counts."""
        return self.ok / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def failures(self) -> int:
        """Responses that were not 2xx, plus socket errors."""
        return self.requests - self.ok + self.socket_errors


def lua_string(value: str) -> str:
    """A Lua string literal for ``value`` (every byte outside printable ASCII escaped as ``\\ddd``)."""
    out = []
    for byte in value.encode():
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_settings(load: Load, per_thread_limit: int, salt: str = "") -> str:
    """The ``BENCH`` table that ``lua/request.lua`` reads (``salt`` keeps ``{n}`` unique across runs)."""
    lines = [
        "BENCH = {",
        f"  salt = {lua_string(salt)},",
        f"  method = {lua_string(load.method)},",
        f"  path = {lua_string(load.path)},",
        f"  per_thread_limit = {int(per_thread_limit)},",
    ]
    if load.body is not None:
        lines.append(f"  body = {lua_string(load.body)},")
    headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in load.headers.items())
    lines.append(f"  headers = {{{headers}}},")
    if load.paths:
        lines.append("  paths = {" + ", ".join(lua_string(p) for p in load.paths) + "},")
    if load.ids:
        lines.append("  ids = {" + ", ".join(lua_string(i) for i in load.ids) + "},")
    if load.rand_max:
        lines.append(f"  rand_max = {int(load.rand_max)},")
    if load.rand_min is not None:
        lines.append(f"  rand_min = {int(load.rand_min)},")
    if load.delay_ms:
        lines.append(f"  delay_ms = {int(load.delay_ms)},")
    if load.think:
        lines.append("  think = true,")
    lines.append("}")
    return "\n".join(lines) + "\n"


def build_script(load: Load, per_thread_limit: int, salt: str = "") -> str:
    """The complete Lua script for one run."""
    return lua_settings(load, per_thread_limit, salt) + LUA_SCRIPT.read_text()


_REQUESTS_PER_SEC = re.compile(r"Requests/sec:\s+([\d.]+)")
_SUMMARY = re.compile(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
_UNIT_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk_output(text: str, label: str = "", connections: int = 0) -> WrkResult:
    """Read a run's figures: the ``BENCH_JSON`` line of our script, else wrk's own text summary."""
    for line in text.splitlines():
        if line.startswith(JSON_MARKER):
            data = json.loads(line[len(JSON_MARKER) :])
            errors = data["errors"]
            return WrkResult(
                label=label,
                connections=connections,
                requests=int(data["requests"]),
                duration_s=data["duration_us"] / 1e6,
                ok=int(data["ok"]),
                c4xx=int(data["c4xx"]),
                c5xx=int(data["c5xx"]),
                socket_errors=int(errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]),
                last_bad_status=int(data["last_bad_status"]),
                latency_ms={k: v / 1000 for k, v in data["latency_us"].items()},
            )
    return _parse_text_summary(text, label, connections)


def _parse_text_summary(text: str, label: str, connections: int) -> WrkResult:
    summary = _SUMMARY.search(text)
    if summary is None:
        raise WrkError(f"no figures in wrk's output: {text.strip()[-400:]!r}")
    requests = int(summary.group(1))
    duration = float(summary.group(2)) * _UNIT_S[summary.group(3)]
    non_2xx = int(m.group(1)) if (m := _NON_2XX.search(text)) else 0
    sockets = sum(int(g) for g in m.groups()) if (m := _SOCKET_ERRORS.search(text)) else 0
    return WrkResult(
        label=label,
        connections=connections,
        requests=requests,
        duration_s=duration,
        ok=requests - non_2xx,
        c4xx=0,
        c5xx=0,
        socket_errors=sockets,
        last_bad_status=0,
        latency_ms=_latency_distribution(text),
    )


_LATENCY_LINE = re.compile(r"^\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)


def _latency_distribution(text: str) -> dict[str, float]:
    """``--latency`` percentiles of wrk's text output, in milliseconds."""
    to_ms = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
    found: dict[str, float] = {}
    for pct, number, unit in _LATENCY_LINE.findall(text):
        key = "p" + pct.removesuffix(".000").removesuffix(".00").removesuffix(".0")
        found[key] = float(number) * to_ms[unit]
    return found


@dataclass
class Wrk:
    """Runs wrk against loopback URLs, bounded in time and request count, scripts kept for the record."""

    binary: str
    script_dir: Path
    threads: int = 1

    async def run(
        self,
        base_url: str,
        load: Load,
        *,
        label: str,
        connections: int,
        duration_s: float,
        max_requests: int,
    ) -> WrkResult:
        """One bounded run; wrk stops itself at ``duration_s`` or ``max_requests``, and is killed if it hangs."""
        require_loopback(base_url)
        threads = max(1, min(self.threads, connections))
        self.script_dir.mkdir(parents=True, exist_ok=True)
        script = self.script_dir / f"{re.sub(r'[^A-Za-z0-9_.-]+', '_', label)}.lua"
        salt = uuid.uuid4().hex[:6]
        script.write_text(build_script(load, per_thread_limit=max(1, max_requests // threads), salt=salt))
        argv = [
            self.binary,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(duration_s))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base_url,
        ]
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        try:
            out, _ = await asyncio.wait_for(process.communicate(), timeout=duration_s + 30)
        except (TimeoutError, asyncio.CancelledError):
            if process.returncode is None:
                process.kill()  # by PID: the process we started
                await process.wait()
            raise
        text = out.decode(errors="replace")
        if process.returncode != 0:
            raise WrkError(f"wrk exited with {process.returncode}: {text.strip()[-400:]}")
        return parse_wrk_output(text, label=label, connections=connections)
