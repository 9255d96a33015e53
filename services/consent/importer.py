"""Client side of bulk imports: stream a large NDJSON or CSV file to the service in resumable chunks.

Used by ``privops consent import``. Each chunk is sent at the offset the job has reached; after an
interruption, ``--resume <import id>`` asks the job where it stands and skips the rows already stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

CONTENT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv"}


@dataclass
class ImportProgress:
    """Where the import stands after a chunk."""

    import_id: str
    rows_done: int
    accepted: int
    rejected: int


def detect_format(path: Path) -> str:
    """``csv`` for .csv files, otherwise ``ndjson``."""
    return "csv" if path.suffix.lower() == ".csv" else "ndjson"


def _chunks(handle: IO[str], skip: int, size: int, header: str | None) -> Iterator[tuple[str, int]]:
    """Yield (chunk text, bytes read) of ``size`` data rows, after skipping ``skip`` rows."""
    for _ in range(skip):
        if not handle.readline():
            return
    while True:
        lines, read = [], 0
        for _ in range(size):
            line = handle.readline()
            if not line:
                break
            read += len(line.encode())
            lines.append(line if line.endswith("\n") else line + "\n")
        if not lines:
            return
        yield (header or "") + "".join(lines), read


def run_import(
    client: httpx.Client,
    path: Path,
    *,
    fmt: str,
    chunk_rows: int = 20_000,
    resume: str | None = None,
    on_progress: Callable[[ImportProgress, int], None] = lambda p, n: None,
) -> ImportProgress:
    """Send ``path`` to the service; return the final counts (the job is completed at the end)."""
    if resume:
        job: dict[str, Any] = _ok(client.get(f"/v1/imports/{resume}"))
    else:
        job = _ok(client.post("/v1/imports", json={"format": fmt, "source_name": path.name}))
    progress = ImportProgress(job["id"], job["rows_done"], job["accepted"], job["rejected"])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = handle.readline() if fmt == "csv" else None
        for text, read in _chunks(handle, progress.rows_done, chunk_rows, header):
            answer = client.post(
                f"/v1/imports/{progress.import_id}/rows",
                params={"offset": progress.rows_done},
                content=text.encode(),
                headers={"Content-Type": CONTENT_TYPES[fmt]},
            )
            job = _ok(answer)
            progress = ImportProgress(job["id"], job["rows_done"], job["accepted"], job["rejected"])
            on_progress(progress, read)
    _ok(client.post(f"/v1/imports/{progress.import_id}/complete"))
    return progress


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        detail = response.json().get("detail", response.text) if response.content else response.reason_phrase
        raise RuntimeError(f"HTTP {response.status_code}: {detail}")
    body: dict[str, Any] = response.json()
    return body
