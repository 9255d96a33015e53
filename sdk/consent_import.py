"""Client side of bulk imports: stream a large NDJSON or CSV file to the service in resumable chunks.

Used by ``privops consent import``. Each chunk is sent at the offset the job has reached; after an
interruption, ``--resume <import id>`` asks the job where it stands and skips the rows already stored.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx

CONTENT_TYPES = {"ndjson": "application/x-ndjson", "csv": "text/csv"}
CHUNK_ROWS = 10_000  # rows per request
CHUNK_BYTES = 4 * 1024 * 1024  # and at most about this much text (wide rows), well below the service's limit


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


def _chunks(
    handle: IO[str], skip: int, size: int, header: str | None, max_bytes: int = CHUNK_BYTES
) -> Iterator[tuple[str, int, int]]:
    """Yield (chunk text, bytes read, rows) of up to ``size`` data rows and about ``max_bytes``, after ``skip`` rows."""
    for _ in range(skip):
        if not handle.readline():
            return
    while True:
        lines, read = [], 0
        for line in itertools.islice(handle, size):
            lines.append(line)
            read += len(line)  # characters: close enough to bytes for a size limit (exact below)
            if read >= max_bytes:
                break
        if not lines:
            return
        text = "".join(lines)
        read = len(text.encode())
        if not text.endswith(("\n", "\r")):
            text += "\n"  # the file's last line
        yield (header or "") + text, read, len(lines)


def run_import(
    client: httpx.Client,
    path: Path,
    *,
    fmt: str,
    chunk_rows: int = CHUNK_ROWS,
    resume: str | None = None,
    in_flight: int = 2,
    on_progress: Callable[[ImportProgress, int], None] = lambda p, n: None,
) -> ImportProgress:
    """Send ``path`` to the service; return the final counts (the job is completed at the end).

    NDJSON chunks are sent ``in_flight`` at a time (the service parses the next chunk while it
    writes the one before, and writes them in order); CSV ones one at a time, since a quoted CSV
    value may span lines and only the service knows where the next chunk starts.
    """
    if resume:
        job: dict[str, Any] = _ok(client.get(f"/v1/imports/{resume}"))
    else:
        job = _ok(client.post("/v1/imports", json={"format": fmt, "source_name": path.name}))
    progress = ImportProgress(job["id"], job["rows_done"], job["accepted"], job["rejected"])
    window = max(1, in_flight) if fmt == "ndjson" else 1

    def send(text: str, offset: int) -> dict[str, Any]:
        answer = client.post(
            f"/v1/imports/{progress.import_id}/rows",
            params={"offset": offset},
            content=text.encode(),
            headers={"Content-Type": CONTENT_TYPES[fmt]},
        )
        return _ok(answer)

    def done(chunk: _Chunk) -> ImportProgress:
        """Wait for a chunk's answer and report it; a chunk sent ahead and refused meanwhile is sent again."""
        try:
            job = chunk.answer.result()
        except ChunkRefused as refused:
            if not (refused.rows_done is not None and refused.rows_done < chunk.offset == progress.rows_done):
                raise
            job = send(chunk.text, chunk.offset)  # the chunk before it is written now: its turn
        answered = ImportProgress(job["id"], job["rows_done"], job["accepted"], job["rejected"])
        on_progress(answered, chunk.read)
        return answered

    pending: deque[_Chunk] = deque()
    with path.open(encoding="utf-8-sig", newline="") as handle, ThreadPoolExecutor(window) as pool:
        try:
            header = handle.readline() if fmt == "csv" else None
            offset = progress.rows_done
            for text, read, rows in _chunks(handle, progress.rows_done, chunk_rows, header):
                if len(pending) == window:
                    progress = done(pending.popleft())
                # One at a time (CSV), the offset is where the job stands: the service counts records, not lines.
                at = offset if window > 1 else progress.rows_done
                pending.append(_Chunk(pool.submit(send, text, at), text, at, read))
                offset += rows
            while pending:
                progress = done(pending.popleft())
        except (ChunkRefused, httpx.HTTPError) as exc:
            raise ImportStopped(str(exc), progress.import_id, progress.rows_done) from exc
        finally:
            for chunk in pending:
                chunk.answer.cancel()
    _ok(client.post(f"/v1/imports/{progress.import_id}/complete"))
    return progress


@dataclass
class _Chunk:
    answer: Future[dict[str, Any]]
    text: str
    offset: int
    read: int


class ChunkRefused(RuntimeError):
    """The service refused a request; ``rows_done`` when it said where the import stands (409)."""

    def __init__(self, message: str, rows_done: int | None) -> None:
        super().__init__(message)
        self.rows_done = rows_done


class ImportStopped(RuntimeError):
    """An import stopped part way: the job to resume (``--resume``) and the rows it holds."""

    def __init__(self, message: str, import_id: str, rows_done: int) -> None:
        super().__init__(message)
        self.import_id = import_id
        self.rows_done = rows_done


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:  # not a problem document (a proxy's error page)
            problem = None
        if not isinstance(problem, dict):
            problem = {"detail": response.text or response.reason_phrase}
        rows_done = problem.get("rows_done")
        raise ChunkRefused(f"HTTP {response.status_code}: {problem.get('detail')}", rows_done)
    body: dict[str, Any] = response.json()
    return body
