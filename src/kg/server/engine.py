"""The query engine of the service: a pool of reader processes and one writer, with real timeouts.

Life cycle (`Engine.start`): the writer process opens the live store (taking its lock, so `kg ingest`
cannot write under a running service), the engine clears old checkpoints and asks the writer for a
checkpoint (`<store>.snapshots/<n>`, hard links: milliseconds), then starts `workers` reader processes
on it. Processes come from a fork server that has imported `kg.server.worker` once, so a new worker is
ready in a few tens of milliseconds.

* **Queries** (`Engine.query`): wait for an idle reader (at most the query timeout: else 503 "busy"; the
  one that finished last is taken first, its caches being the warmest), send the job, wait for the answer
  at most `query_timeout` seconds. When the time is up the reader is
  killed (SIGKILL: the work really stops, whatever Oxigraph was doing), the client gets 503, and a new
  reader takes its place in the background; other readers go on serving meanwhile.
* **Updates** (`Engine.update`): one at a time (an asyncio lock). The writer runs the update in one
  transaction; then (a second message) writes a new checkpoint, which the engine makes current, so every
  query that starts after the update's answer reads it (a reader holding an older checkpoint reopens
  first). An update over its time is killed like a query, before its commit, so nothing changes; a new
  writer is started for the next update.
* Old checkpoints are deleted once no reader has them open (never one being written: RocksDB writes it
  into `<n>.tmp` first); all of them when the engine stops. A reader idle since an update keeps its
  checkpoint until its next query, so at most one old checkpoint per reader stays on disk.

Talking to a child happens on the event loop itself, without a thread: a job is pickled and written to
the child's pipe (a socket pair; a job too large for the socket's buffer is written from a thread), and
the answer is read as it arrives, whenever the socket is readable (`loop.add_reader`, non-blocking reads
in multiprocessing's framing), under a timer that is the time limit. A thread pool remains for the slow
things (starting and stopping processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import pickle
import shutil
import socket
import struct
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from kg.server import worker
from kg.server.settings import Settings
from kg.server.worker import CheckpointJob, JobResult, QueryJob, UpdateJob
from kg.store import is_remote

log = logging.getLogger("kg.server")

SPAWN_TIMEOUT = 120.0
# A job at most this big is written to a child's socket directly from the event loop: the child is idle
# and has read everything sent before, so the socket's buffer (~200 KiB on Linux) takes it at once.
# Bigger jobs (long queries or updates) are written from a thread.
DIRECT_SEND_BYTES = 32 * 1024


class EngineError(RuntimeError):
    """The engine could not start (store missing or locked, a worker failed to start)."""


class JobTimeout(Exception):
    pass


class WorkerDied(Exception):
    pass


def _context() -> Any:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["kg.server.worker"])
    return ctx


class _MessageReader:
    """Reads one message a child sent with `Connection.send` from our end of its socket, with
    non-blocking reads whenever the socket is readable, then resolves `future` with the object.

    multiprocessing's framing: a 4-byte big-endian signed length (or -1 and an 8-byte length), then the
    pickle. The first read takes up to 64 KiB, so a small answer costs one system call. A child sends one
    answer per job and is killed whenever a job is given up, so nothing can follow the message; bytes past
    its end are an error."""

    FIRST_READ = 64 * 1024

    def __init__(self, sock: socket.socket, future: asyncio.Future[Any]) -> None:
        self.sock = sock
        self.future = future
        self.buffer = bytearray(self.FIRST_READ)
        self.filled = 0
        self.start = 0  # where the pickle starts in `buffer`
        self.end: int | None = None  # and ends, once the length is read

    def on_readable(self) -> None:
        if self.future.done():
            return
        try:
            while True:
                with memoryview(self.buffer) as view:
                    count = self.sock.recv_into(view[self.filled :], 0, socket.MSG_DONTWAIT)
                if count == 0:
                    raise EOFError("the process closed its end of the pipe")
                self.filled += count
                if self.end is None and not self._read_length():
                    continue
                if self.filled == self.end:
                    with memoryview(self.buffer) as view:
                        self.future.set_result(pickle.loads(view[self.start : self.end]))
                    return
        except (BlockingIOError, InterruptedError):
            return  # the rest comes later
        except Exception as err:  # EOF, socket errors, a malformed message
            self.future.set_exception(WorkerDied(f"reading its answer failed: {err!r}"))

    def _read_length(self) -> bool:
        """Whether the length could be read; then `buffer` is made exactly as long as the message."""
        if self.filled < 4:
            return False
        (size,) = struct.unpack_from("!i", self.buffer)
        start = 4
        if size == -1:
            if self.filled < 12:
                return False
            (size,) = struct.unpack_from("!Q", self.buffer, 4)
            start = 12
        end = start + size
        if size <= 0 or self.filled > end:
            raise EOFError(f"not one message of {size} bytes")
        if end > len(self.buffer):
            self.buffer.extend(bytes(end - len(self.buffer)))
        else:
            del self.buffer[end:]
        self.start, self.end = start, end
        return True


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(JobTimeout())


@dataclass(eq=False)
class _Process:
    """A child process and our end of its pipe (a socket pair)."""

    name: str
    process: BaseProcess
    conn: Connection
    snapshot: str = ""

    def __post_init__(self) -> None:
        # The same socket as `conn`, for non-blocking reads (MSG_DONTWAIT: the descriptor itself stays
        # blocking, as `conn` expects).
        self.sock = socket.socket(fileno=os.dup(self.conn.fileno()))

    async def request(self, message: object, timeout: float, threads: ThreadPoolExecutor) -> Any:
        """Send `message` and return the child's answer, at most `timeout` s after the call (JobTimeout;
        WorkerDied when the child has gone). Runs on the event loop; see the module documentation."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            payload = pickle.dumps(message, pickle.HIGHEST_PROTOCOL)
            if len(payload) <= DIRECT_SEND_BYTES:
                self.conn.send_bytes(payload)
            else:
                try:
                    await asyncio.wait_for(
                        loop.run_in_executor(threads, self.conn.send_bytes, payload), timeout
                    )
                except asyncio.TimeoutError:
                    raise JobTimeout from None
            future: asyncio.Future[Any] = loop.create_future()
            reader = _MessageReader(self.sock, future)
            fd = self.sock.fileno()
            loop.add_reader(fd, reader.on_readable)
            timer = loop.call_at(deadline, _expire, future)
            try:
                return await future
            finally:
                timer.cancel()
                loop.remove_reader(fd)
        except (EOFError, OSError) as err:
            raise WorkerDied(f"{self.name} stopped: {err}") from err

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
        with contextlib.suppress(Exception):
            self.process.join(5)
        self._close()

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.kill()
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            self.sock.close()
        with contextlib.suppress(Exception):
            self.conn.close()


class Engine:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # A remote store (virtuoso://…, http(s)://…) has no checkpoints: readers and the writer open it
        # directly, and an update is visible to the next query as soon as the endpoint committed it.
        self.remote = is_remote(settings.store)
        self.store = Path(settings.store) if not self.remote else Path(".")
        self.spec = str(settings.store)
        self.snapshot_root = self.store.parent / f"{self.store.name}.snapshots"
        self._ctx = _context()
        self._threads = ThreadPoolExecutor(max_workers=settings.workers + 4, thread_name_prefix="kg-wait")
        # Last in, first out: the reader that finished last has the warmest caches (CPU, RocksDB blocks).
        self._idle: asyncio.LifoQueue[_Process] = asyncio.LifoQueue()
        self._readers: set[_Process] = set()
        self._writer: _Process | None = None
        self._write_lock = asyncio.Lock()
        self._generation = itertools.count(1)
        self._snapshot = ""
        self._pending: set[str] = set()  # checkpoints being written: never collected
        self._names = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self.stats = {"queries": 0, "timeouts": 0, "updates": 0, "respawns": 0}

    # -- life cycle

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        if not self.remote and not (self.store / "CURRENT").is_file():
            raise EngineError(f"no store at {self.store}: load data first with `kg ingest PATH…`")
        self._writer = await loop.run_in_executor(
            self._threads, self._spawn, "writer", worker.writer_main, self.spec
        )
        if self.remote:
            self._snapshot = self.spec
        else:
            # The writer holds the store's lock now: no other service uses these checkpoints.
            shutil.rmtree(self.snapshot_root, ignore_errors=True)
            self.snapshot_root.mkdir(parents=True)
            await self._checkpoint()
        readers = await asyncio.gather(
            *(
                loop.run_in_executor(
                    self._threads,
                    self._spawn,
                    f"reader-{next(self._names)}",
                    worker.reader_main,
                    self._snapshot,
                )
                for _ in range(self.settings.workers)
            )
        )
        for reader in readers:
            self._readers.add(reader)
            self._idle.put_nowait(reader)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        processes = [*self._readers, *([self._writer] if self._writer else [])]
        self._readers.clear()
        self._writer = None
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self._threads, p.stop) for p in processes))
        self._threads.shutdown(wait=False, cancel_futures=True)
        if not self.remote:
            shutil.rmtree(self.snapshot_root, ignore_errors=True)

    def _spawn(self, name: str, target: Any, argument: str) -> _Process:
        """Start a child and wait until it has opened its store (blocking)."""
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(target=target, args=(theirs, argument), name=f"kg-{name}", daemon=True)
        process.start()
        theirs.close()
        child = _Process(name, process, ours, argument)
        if not ours.poll(SPAWN_TIMEOUT):
            child.kill()
            raise EngineError(f"the {name} process did not start within {SPAWN_TIMEOUT:.0f} s")
        try:
            status, detail = ours.recv()
        except EOFError:
            child.kill()
            raise EngineError(
                f"the {name} process stopped while starting (exit code {process.exitcode})"
            ) from None
        if status != "ready":
            child.kill()
            raise EngineError(str(detail))
        return child

    # -- queries

    @property
    def snapshot(self) -> str:
        return self._snapshot

    async def query(self, job: QueryJob) -> JobResult:
        """Run a query on the current checkpoint within the time limit (see the module documentation).
        A query whose worker had died (found when sending it) is tried once more on another worker."""
        result = await self._query_once(job)
        if result.kind == "died":
            result = await self._query_once(job)
        return result

    async def _query_once(self, job: QueryJob) -> JobResult:
        timeout = self.settings.query_timeout
        try:
            reader = self._idle.get_nowait()  # without wait_for's task and timer when a reader is free
        except asyncio.QueueEmpty:
            reader = None
        try:
            if reader is None:
                reader = await asyncio.wait_for(self._idle.get(), timeout)
        except asyncio.TimeoutError:
            return JobResult.error(
                503, f"the service is busy: no query worker became free within {timeout:g} s; try again later"
            )
        job = replace(job, snapshot=self._snapshot)
        switched = reader.snapshot != self._snapshot  # the reader reopens: its old checkpoint may go
        reader.snapshot = self._snapshot
        started = time.monotonic()
        self.stats["queries"] += 1
        try:
            result: JobResult = await reader.request(job, timeout, self._threads)
        except JobTimeout:
            self.stats["timeouts"] += 1
            self._replace_reader(reader)
            return JobResult.error(
                503,
                f"query stopped: it ran longer than the time limit of {timeout:g} s "
                f"(set by KG_QUERY_TIMEOUT / kg serve --timeout); simplify it or add a LIMIT",
            )
        except WorkerDied as err:
            self._replace_reader(reader)
            return replace(
                JobResult.error(500, f"the query worker stopped unexpectedly ({err})"), kind="died"
            )
        except BaseException:
            # The request was cancelled (client gone) while the worker runs: its answer would be stale.
            self._replace_reader(reader)
            raise
        log.debug("query %.1f ms on %s", (time.monotonic() - started) * 1000, reader.name)
        self._idle.put_nowait(reader)
        if switched:
            self._collect_snapshots()
        return result

    def _replace_reader(self, reader: _Process) -> None:
        self._readers.discard(reader)
        reader.kill()
        self.stats["respawns"] += 1
        if not self._closed:
            self._background(self._respawn_reader())

    async def _respawn_reader(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._closed:
            try:
                reader = await loop.run_in_executor(
                    self._threads,
                    self._spawn,
                    f"reader-{next(self._names)}",
                    worker.reader_main,
                    self._snapshot,
                )
            except EngineError as err:
                log.error("could not start a query worker: %s (retrying)", err)
                await asyncio.sleep(1)
                continue
            if self._closed:
                reader.stop()
                return
            self._readers.add(reader)
            self._idle.put_nowait(reader)
            self._collect_snapshots()
            return

    def _background(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- updates

    async def update(self, sparql: str, base_iri: str | None) -> JobResult:
        """Run a SPARQL Update in the writer, then make a checkpoint of the result current, so that every
        query starting after this returns sees it."""
        async with self._write_lock:
            result = await self._write(UpdateJob(sparql, base_iri), self.settings.query_timeout)
            if result.status != 200:
                return result
            self.stats["updates"] += 1
            try:
                await self._checkpoint()
            except EngineError as err:
                return JobResult.error(
                    500, f"the update was applied, but queries cannot see it until the next update: {err}"
                )
            return result

    async def _checkpoint(self) -> None:
        if self.remote:
            return
        target = self._next_snapshot()
        self._pending.add(target)
        try:
            result = await self._write(CheckpointJob(target), max(60.0, self.settings.query_timeout))
        finally:
            self._pending.discard(target)
        if result.status != 200:
            shutil.rmtree(target, ignore_errors=True)
            raise EngineError(result.body.decode("utf-8", "replace").strip())
        self._snapshot = target
        self._collect_snapshots()

    def _next_snapshot(self) -> str:
        return str(self.snapshot_root / str(next(self._generation)))

    async def _write(self, job: UpdateJob | CheckpointJob, timeout: float) -> JobResult:
        loop = asyncio.get_running_loop()
        if self._writer is None:
            self._writer = await loop.run_in_executor(
                self._threads, self._spawn, "writer", worker.writer_main, self.spec
            )
        writer = self._writer
        try:
            result: JobResult = await writer.request(job, timeout, self._threads)
        except (JobTimeout, WorkerDied, asyncio.CancelledError) as err:
            # Killing the writer before its commit leaves the store as it was (one transaction).
            self._writer = None
            await loop.run_in_executor(self._threads, writer.kill)
            if isinstance(err, asyncio.CancelledError):
                raise
            self.stats["timeouts" if isinstance(err, JobTimeout) else "respawns"] += 1
            what = "update" if isinstance(job, UpdateJob) else "checkpoint"
            if isinstance(err, JobTimeout):
                return JobResult.error(
                    503,
                    f"{what} stopped: it ran longer than the time limit of {timeout:g} s; "
                    "nothing was changed",
                )
            return JobResult.error(500, f"the writer stopped unexpectedly ({err}); nothing was changed")
        return result

    def _collect_snapshots(self) -> None:
        """Delete checkpoints that are neither current nor open in a reader."""
        if self.remote or not self.snapshot_root.is_dir():
            return
        keep = {self._snapshot} | self._pending | {reader.snapshot for reader in self._readers}
        for path in self.snapshot_root.iterdir():
            # RocksDB writes a checkpoint into `<n>.tmp` and renames it to `<n>` when done
            if str(path.with_name(path.name.removesuffix(".tmp"))) not in keep:
                shutil.rmtree(path, ignore_errors=True)
