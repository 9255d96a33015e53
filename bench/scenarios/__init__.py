"""The scenario registry: every module of this package (not starting with ``_``) is a scenario.

A scenario module defines::

    TITLE = "consent write, end to end"      # one line for the report
    ORDER = 10                               # baselines < 10 run first; memory last
    BASELINES = ("baseline_http",)           # scenarios whose figures it compares with
    NEEDS_LOCAL_SERVICES = False             # True: needs the services this run started (PIDs, DB)
    TIMEOUT_S = 180                          # hard limit; the scenario is cancelled after it
    FULL_TIMEOUT_S = 900                     # optional: the limit in --full mode (larger data sizes)

    async def run(ctx: BenchContext) -> ScenarioResult: ...   # a plain function works too

Adding a scenario is adding a module; ``python -m bench --list`` shows what is registered.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bench.context import BenchContext
from bench.results import ScenarioResult

RunFn = Callable[[BenchContext], Awaitable[ScenarioResult] | ScenarioResult]


@dataclass(frozen=True)
class Scenario:
    """A registered scenario."""

    name: str
    title: str
    order: int
    run: RunFn
    baselines: tuple[str, ...] = ()
    needs_local_services: bool = False
    timeout_s: float = 180.0
    full_timeout_s: float | None = None
    peer: str | None = None  # runs only when asked for with --peer (another product, installed for the run)

    def limit_s(self, *, full: bool = False) -> float:
        """The scenario's hard limit: ``FULL_TIMEOUT_S`` in ``--full`` mode when it has one, else ``TIMEOUT_S``."""
        return self.full_timeout_s if full and self.full_timeout_s is not None else self.timeout_s

    @property
    def is_baseline(self) -> bool:
        """Baselines are the scenarios others compare with."""
        return self.name.startswith("baseline_")

    async def execute(self, ctx: BenchContext) -> ScenarioResult:
        """Run it (sync or async ``run``)."""
        outcome: Any = self.run(ctx)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        return outcome  # type: ignore[no-any-return]


def discover() -> list[Scenario]:
    """Every scenario module of this package, in run order."""
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        run = getattr(module, "run", None)
        if run is None:
            continue
        found.append(
            Scenario(
                name=info.name,
                title=getattr(module, "TITLE", info.name),
                order=int(getattr(module, "ORDER", 50)),
                run=run,
                baselines=tuple(getattr(module, "BASELINES", ())),
                needs_local_services=bool(getattr(module, "NEEDS_LOCAL_SERVICES", False)),
                timeout_s=float(getattr(module, "TIMEOUT_S", 180.0)),
                full_timeout_s=float(module.FULL_TIMEOUT_S) if hasattr(module, "FULL_TIMEOUT_S") else None,
                peer=getattr(module, "PEER", None),
            )
        )
    return sorted(found, key=lambda s: (s.order, s.name))


def select(
    scenarios: Iterable[Scenario], only: Iterable[str] = (), skip: Iterable[str] = (), peers: Iterable[str] = ()
) -> list[Scenario]:
    """The scenarios to run: ``only`` those named (plus the baselines they need), minus ``skip``.

    A peer's scenario runs only when its peer is in ``peers`` (``--peer``), with or without ``only``.
    """
    every = {s.name: s for s in scenarios}
    asked = set(peers)
    wanted = set(only) or {n for n, s in every.items() if s.peer is None}
    wanted |= {n for n, s in every.items() if s.peer is not None and s.peer in asked}
    unknown = (wanted | set(skip)) - set(every)
    if unknown:
        raise ValueError(f"unknown scenario(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(every))}")
    for name in list(wanted):
        wanted.update(every[name].baselines)
    wanted -= set(skip)
    return sorted((every[n] for n in wanted), key=lambda s: (s.order, s.name))
