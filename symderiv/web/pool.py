"""A pool of worker processes for the checks, each with a time limit and its own process group.

Each slot is a one-process executor. A request takes a free slot (or waits for one, up to
`queue_wait` seconds), runs there, and gives it back. Heavy jobs (a whole derivation graded or
laid out) may hold at most size - 1 slots at once (1 when size is 1), so with two workers or more
a one-line check always finds a worker that no large text can take. A job over its time limit has its worker
killed — with the SymPy worker that symderiv's own time limits started under it, which shares
its process group — and the slot gets a fresh process, so a runaway check costs only its own
request. Worker processes are ordinary (not daemonic) processes, since they start children.

    pool = WorkerPool(size=2, time_limit=30)
    await pool.start()
    result = await pool.run(fn, *args)   # JobTimeout, PoolBusy or WorkerCrashed on failure
    result = await pool.run(fn, *args, heavy=True)   # a grade or a view
    pool.close()
"""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import multiprocessing
import os
import signal
from concurrent.futures.process import BrokenProcessPool

from symderiv.web.jobs import start_worker


class PoolError(Exception):
    """A request the pool could not run to the end; the message is for the client."""


class JobTimeout(PoolError):
    pass


class PoolBusy(PoolError):
    pass


class WorkerCrashed(PoolError):
    pass


def _context():
    # forkserver: a clean process (no event loop, no server threads) forks each worker, with
    # symderiv already imported, so a replacement after a timeout is ready in milliseconds.
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["symderiv.web.jobs"])
        return ctx
    return multiprocessing.get_context("spawn")


class WorkerPool:
    def __init__(self, size: int, time_limit: float, queue_wait: float | None = None):
        self.size, self.time_limit = size, time_limit
        self.queue_wait = time_limit if queue_wait is None else queue_wait
        self._context = _context()
        self._idle: asyncio.Queue | None = None
        self._heavy: asyncio.Semaphore | None = None
        self._slots: set[cf.ProcessPoolExecutor] = set()

    def _new_slot(self) -> cf.ProcessPoolExecutor:
        slot = cf.ProcessPoolExecutor(max_workers=1, mp_context=self._context, initializer=start_worker)
        self._slots.add(slot)
        return slot

    def _kill(self, slot: cf.ProcessPoolExecutor) -> None:
        self._slots.discard(slot)
        for proc in list(getattr(slot, "_processes", {}).values()):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                proc.kill()  # not yet its own group leader (killed while starting)
        slot.shutdown(wait=False, cancel_futures=True)

    async def start(self, warm_up=None) -> None:
        """Start the workers; `warm_up` = (fn, *args) runs once in each before the first request."""
        self._idle = asyncio.Queue()
        self._heavy = asyncio.Semaphore(max(1, self.size - 1))
        for _ in range(self.size):
            self._idle.put_nowait(self._new_slot())
        if warm_up is not None:
            await asyncio.gather(*(self.run(*warm_up) for _ in range(self.size)))

    async def run(self, fn, *args, heavy: bool = False):
        if self._idle is None or self._heavy is None:
            raise RuntimeError("WorkerPool.start() was not called")
        if not heavy:
            return await self._run(fn, args, self.queue_wait)
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            await asyncio.wait_for(self._heavy.acquire(), self.queue_wait)
        except TimeoutError:
            raise self._busy() from None
        try:
            return await self._run(fn, args, max(0.05, self.queue_wait - (loop.time() - start)))
        finally:
            self._heavy.release()

    def _busy(self) -> PoolBusy:
        return PoolBusy(
            f"the server is busy (all {self.size} workers taken for {self.queue_wait:g} s); try again shortly"
        )

    async def _run(self, fn, args: tuple, wait: float):
        try:
            slot = await asyncio.wait_for(self._idle.get(), wait)
        except TimeoutError:
            raise self._busy() from None
        future = None
        try:
            future = slot.submit(fn, *args)
            return await asyncio.wait_for(asyncio.wrap_future(future), self.time_limit)
        except TimeoutError:
            self._kill(slot)
            slot = self._new_slot()
            raise JobTimeout(f"the check took longer than the time limit of {self.time_limit:g} s") from None
        except BrokenProcessPool:
            self._kill(slot)
            slot = self._new_slot()
            raise WorkerCrashed("the worker checking this stopped unexpectedly; try again") from None
        except asyncio.CancelledError:
            if future is not None and not future.done():
                self._kill(slot)
                slot = self._new_slot()
            raise
        finally:
            self._idle.put_nowait(slot)

    def close(self) -> None:
        for slot in list(self._slots):
            self._kill(slot)
