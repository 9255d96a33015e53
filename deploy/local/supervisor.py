"""Process supervision for ``privops up``: spawn, watch, stop, and clean up after a crashed run.

Every child runs in its own process group (its own session), so a terminal's Ctrl-C reaches the
supervisor only, and stopping a child also stops anything it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any

import psutil

from deploy.local.infra import LOOPBACK, free_port

LineHandler = Callable[[str, str], None]


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: the stack is to be stopped."""


class StopFlag:
    """Turns SIGINT and SIGTERM into a flag that the supervisor polls.

    A flag rather than an exception, so a signal never lands between a ``Popen`` and the line
    that records the new child (which would leave an orphan behind).
    """

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal_name = ""
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopFlag:
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if not self.event.is_set():
            self.signal_name = signal.Signals(signum).name
        self.event.set()

    def check(self) -> None:
        """Raise Interrupted when a stop was requested."""
        if self.event.is_set():
            raise Interrupted(self.signal_name)

    def sleep(self, seconds: float) -> None:
        """Sleep, waking up (with Interrupted) as soon as a stop is requested."""
        if self.event.wait(seconds):
            raise Interrupted(self.signal_name)


@dataclass
class Child:
    """A supervised process, its log file, and the thread that copies its output."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    reader: threading.Thread
    url: str | None = None

    @property
    def pid(self) -> int:
        """Process id (also the id of its process group)."""
        return self.process.pid

    def exited(self) -> int | None:
        """Exit code, or None while it runs."""
        return self.process.poll()


def spawn(
    name: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    log_path: Path,
    on_line: LineHandler,
    url: str | None = None,
) -> Child:
    """Start ``argv`` in a new session; its stdout and stderr go to ``log_path`` and, line by line, to ``on_line``."""
    rotate(log_path)
    process = subprocess.Popen(
        list(argv),
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    assert process.stdout is not None
    reader = threading.Thread(
        target=_copy_output, args=(name, process.stdout, log_path, on_line), name=f"log-{name}", daemon=True
    )
    reader.start()
    return Child(name, process, log_path, reader, url)


def _copy_output(name: str, stream: IO[bytes], log_path: Path, on_line: LineHandler) -> None:
    with stream, log_path.open("ab") as log:
        for raw in stream:
            log.write(raw)
            log.flush()
            # The log file must keep filling even if the console is gone (a closed pipe, say).
            with contextlib.suppress(Exception):
                on_line(name, raw.decode("utf-8", errors="replace"))


def rotate(log_path: Path) -> None:
    """Keep the previous run's log as ``<name>.log.1``, start a fresh one."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    if log_path.exists():
        log_path.replace(log_path.with_name(log_path.name + ".1"))


def stop_children(children: Sequence[Child], grace: float = 10.0) -> list[str]:
    """SIGTERM every child's process group, SIGKILL whatever is left after ``grace`` seconds; return those killed."""
    for child in children:
        _signal_group(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
    killed = [child.name for child in children if child.exited() is None]
    for child in children:
        # Also sweeps anything a child left in its group after it exited.
        _signal_group(child.pid, signal.SIGKILL)
    for child in children:
        child.process.wait()
        child.reader.join(timeout=2.0)
    return killed


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file."""
    if not path.exists():
        return "(no log)"
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def port_is_free(port: int) -> bool:
    """True when nothing holds ``127.0.0.1:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def pick_ports(base: int, count: int) -> list[int]:
    """``base`` … ``base + count - 1``, each replaced by a free port when taken."""
    return [port if port_is_free(port) else free_port() for port in range(base, base + count)]


@dataclass
class RunFile:
    """``<state_dir>/stack.json``: who runs the stack, and which children it started.

    It refuses a second supervisor on the same state folder, and lets the next run end the
    children that a crashed (SIGKILLed) run left behind.
    """

    path: Path
    children: dict[str, dict[str, float]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    claimed: bool = False

    def claim(self) -> list[str]:
        """Take the state folder; end the leftovers of a dead run and return their names."""
        previous = self._read()
        owner = previous.get("supervisor")
        if owner and _alive(int(owner["pid"]), owner["started"]) and int(owner["pid"]) != os.getpid():
            raise RuntimeError(f"another `privops up` (pid {int(owner['pid'])}) uses {self.path.parent}")
        leftovers = {
            name: info
            for name, info in previous.get("children", {}).items()
            if _alive(int(info["pid"]), info["started"])
        }
        for info in leftovers.values():
            _signal_group(int(info["pid"]), signal.SIGTERM)
        _wait_all_gone([int(info["pid"]) for info in leftovers.values()], 10.0)
        for info in leftovers.values():
            _signal_group(int(info["pid"]), signal.SIGKILL)
        self.claimed = True
        self._write()
        return [f"{name} (pid {int(info['pid'])})" for name, info in leftovers.items()]

    def record(self, name: str, pid: int) -> None:
        """Remember a child the stack started."""
        self.children[name] = {"pid": pid, "started": _started(pid)}
        self._write()

    def record_url(self, name: str, url: str) -> None:
        """Remember where a child serves (``privops token`` finds the identity service here)."""
        self.urls[name] = url
        self._write()

    def release(self) -> None:
        """Forget the run (everything was stopped)."""
        if self.claimed:
            self.path.unlink(missing_ok=True)
            self.claimed = False

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write(self) -> None:
        me = {"pid": os.getpid(), "started": _started(os.getpid())}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"supervisor": me, "children": self.children, "urls": self.urls}, indent=2))
        tmp.replace(self.path)


def _started(pid: int) -> float:
    try:
        return float(psutil.Process(pid).create_time())
    except psutil.Error:
        return 0.0


def _alive(pid: int, started: float) -> bool:
    """True when ``pid`` runs and is the same process as recorded (not a reused id)."""
    try:
        process = psutil.Process(pid)
        return bool(process.status() != psutil.STATUS_ZOMBIE and abs(process.create_time() - started) < 0.01)
    except psutil.Error:
        return False


def _wait_all_gone(pids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(is_running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)


def is_running(pid: int) -> bool:
    """True while ``pid`` runs; a zombie has finished (whoever adopted it reaps it in its own time)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False
