"""What both demo stores share: run a worker until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

from sdk import Store, SystemRegistration, TaskWorker, WorkerConfig


async def serve(store: Store, config: WorkerConfig, registration: SystemRegistration) -> None:
    """Register the store and answer its tasks until the process is asked to stop."""
    worker = TaskWorker(store, config, registration)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, worker.stop)
    await worker.run()


def configure_logging() -> None:
    """Plain log lines on stderr (the local stack prefixes them with the store's name)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
