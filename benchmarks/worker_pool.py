"""Isolated worker processes with a per-task timeout and a memory cap.

Each worker is a ``spawn``ed process that applies ``RLIMIT_AS`` (address-space cap) to itself, runs
an initializer once (e.g. load a tokenizer and build engines; not counted against task timeouts),
says it is ready, then runs tasks one at a time. The parent gives each task ``timeout`` seconds: a
worker that runs over is killed (the task's outcome is ``timeout``) and replaced; a worker that dies
(segfault, out-of-memory abort, ``MemoryError``) yields ``crash`` and is replaced too.

Workers' stderr (including native libraries' warnings) can go to a log file (``stderr_path``).
The initializer and task functions are given as ``"module:function"`` strings so a spawned child
can import them. ``init(*init_args) -> state``; ``run(state, task) -> dict``.
"""
from __future__ import annotations

import importlib
import multiprocessing as mp
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any, Iterator, Sequence

READY = "__ready__"


def _resolve(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def _limit_memory(limit_bytes: int | None) -> None:
    if not limit_bytes:
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = limit_bytes if hard == resource.RLIM_INFINITY else min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _redirect_stderr(path: str | None) -> None:
    """Send this process's stderr (fd 2: native libraries' warnings too) to ``path`` (appending)."""
    if not path:
        return
    import os
    import sys

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = open(2, "w", buffering=1, closefd=False)


def _memory_info() -> dict[str, int]:
    """VmPeak / VmHWM of this process in KiB (Linux), for choosing memory caps."""
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key in ("VmPeak", "VmHWM"):
                    out[key] = int(rest.split()[0])
    except OSError:
        pass
    return out


def _worker_main(conn: Connection, init_spec: str, init_args: tuple, run_spec: str, mem_limit: int | None,
                 stderr_path: str | None = None) -> None:
    """Child process body: cap memory, initialize, then serve tasks until told to stop (``None``)."""
    try:
        _redirect_stderr(stderr_path)
        _limit_memory(mem_limit)
        state = _resolve(init_spec)(*init_args)
        run = _resolve(run_spec)
        info = getattr(state, "ready_info", None)
        if isinstance(info, dict):
            info = {**info, "memory_kib": _memory_info()}
        conn.send((READY, info))
    except BaseException as e:  # initialization failed: report and exit
        conn.send((READY, {"init_error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}))
        return
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        try:
            result = run(state, task)
        except MemoryError:
            result = {"outcome": "crash", "error": "MemoryError (memory cap reached)"}
        except BaseException as e:
            result = {"outcome": "crash", "error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
        conn.send(result)


@dataclass
class _Worker:
    proc: Any
    conn: Connection
    ready: bool = False
    task_index: int | None = None
    deadline: float = 0.0
    info: Any = None
    started: float = field(default_factory=time.monotonic)
    tasks_done: int = 0


class WorkerPool:
    """``jobs`` isolated workers; :meth:`run` yields ``(task_index, result)`` as tasks finish.

    ``result`` is the task function's dict, or ``{"outcome": "timeout" | "crash", "error": ...}``
    when the worker ran over ``timeout`` seconds or died. A task whose worker died or hit its
    memory cap (a ``MemoryError`` crash) after running other tasks is run once more on a fresh
    worker, so memory that earlier tasks left in caches is not charged to it (``retries``).
    """

    def __init__(self, init_spec: str, init_args: tuple, run_spec: str, *, jobs: int = 1, timeout: float = 60.0,
                 mem_limit_bytes: int | None = None, init_timeout: float = 600.0, stderr_path: str | None = None):
        if jobs < 1:
            raise ValueError("jobs must be >= 1")
        self.init_spec, self.init_args, self.run_spec = init_spec, init_args, run_spec
        self.jobs, self.timeout, self.mem_limit, self.init_timeout = jobs, timeout, mem_limit_bytes, init_timeout
        self._ctx = mp.get_context("spawn")
        self.stderr_path = str(stderr_path) if stderr_path else None
        self._workers: list[_Worker] = []
        self.ready_info: Any = None
        self.restarts = 0
        self.retries = 0
        self._retried: set[int] = set()

    # --- worker lifecycle ----------------------------------------------------------------------
    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker_main, daemon=True,
                                 args=(child, self.init_spec, self.init_args, self.run_spec, self.mem_limit,
                                       self.stderr_path))
        proc.start()
        child.close()
        return _Worker(proc=proc, conn=parent)

    @staticmethod
    def _kill(worker: _Worker) -> None:
        if worker.proc.is_alive():
            worker.proc.kill()
        worker.proc.join(timeout=10)
        worker.conn.close()

    def close(self) -> None:
        for w in self._workers:
            try:
                if w.proc.is_alive() and w.ready and w.task_index is None:
                    w.conn.send(None)
                    w.proc.join(timeout=5)
            except (OSError, BrokenPipeError):
                pass
            self._kill(w)
        self._workers = []

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- running -------------------------------------------------------------------------------
    def run(self, tasks: Sequence[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Run every task; yields ``(index into tasks, result)`` in completion order."""
        try:
            yield from self._run(tasks)
        finally:
            self.close()

    def _run(self, tasks: Sequence[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
        pending = deque(range(len(tasks)))
        self._workers = [self._start() for _ in range(min(self.jobs, max(1, len(tasks))))]
        outstanding = len(tasks)
        while outstanding:
            now = time.monotonic()
            for w in self._workers:
                if w.ready and w.task_index is None and pending:
                    idx = pending.popleft()
                    w.conn.send(tasks[idx])
                    w.task_index, w.deadline = idx, time.monotonic() + self.timeout
            busy = [w for w in self._workers if not w.ready or w.task_index is not None]
            if not busy:  # nothing running and nothing to hand out
                break
            deadlines = [w.deadline if w.ready else w.started + self.init_timeout for w in busy]
            ready_conns = wait([w.conn for w in busy], timeout=max(0.0, min(deadlines) - now))
            now = time.monotonic()
            for w in busy:
                idx = w.task_index
                if w.conn in ready_conns:
                    try:
                        msg = w.conn.recv()
                    except (EOFError, OSError):
                        msg = None
                    if not w.ready:
                        if isinstance(msg, tuple) and msg and msg[0] == READY:
                            w.ready, w.info = True, msg[1]
                            if isinstance(w.info, dict) and "init_error" in w.info:
                                self.close()
                                raise RuntimeError(f"worker initialization failed: {w.info['init_error']}\n"
                                                   f"{w.info.get('traceback', '')}")
                            self.ready_info = w.info
                            continue
                        self.close()
                        raise RuntimeError("worker died during initialization "
                                           f"(exit code {w.proc.exitcode}); memory cap too low?")
                    if msg is None:  # the worker died while running the task
                        w.proc.join(timeout=5)
                        code = w.proc.exitcode
                        self._replace(w)
                        if self._retry(idx, w, pending):
                            continue
                        outstanding -= 1
                        yield idx, {"outcome": "crash", "error": f"worker died (exit code {code})"}
                        continue
                    w.task_index = None
                    if isinstance(msg, dict) and msg.get("outcome") == "crash" and "MemoryError" in str(msg.get("error")):
                        # the worker is at its memory cap (maybe from earlier tasks' caches): a fresh one
                        self._replace(w)
                        if self._retry(idx, w, pending):
                            continue
                    w.tasks_done += 1
                    outstanding -= 1
                    yield idx, msg
                elif w.ready and idx is not None and now >= w.deadline:
                    self._replace(w)
                    outstanding -= 1
                    yield idx, {"outcome": "timeout", "error": f"no result within {self.timeout:g}s"}
                elif not w.ready and now >= w.started + self.init_timeout:
                    self.close()
                    raise RuntimeError(f"worker initialization took over {self.init_timeout:g}s")

    def _retry(self, idx: int, worker: _Worker, pending: deque) -> bool:
        """Run task ``idx`` once more, first, on a fresh worker, when the one that failed it had run
        other tasks before (its memory may have been filled by them); False when already retried
        or when it failed on a fresh worker."""
        if idx in self._retried or worker.tasks_done == 0:
            return False
        self._retried.add(idx)
        self.retries += 1
        pending.appendleft(idx)
        return True

    def _replace(self, worker: _Worker) -> None:
        self._kill(worker)
        self.restarts += 1
        self._workers[self._workers.index(worker)] = self._start()
