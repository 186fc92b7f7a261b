"""Wake-ups for consumers of the change log (the console's WebSocket), across threads.

Changes are committed by camera and API threads; WebSocket handlers run on the asyncio loop.
`publish(seq)` after each commit wakes every waiter; waiters then read the store from their own
cursor, so a client that was away replays exactly what it missed and nothing is held in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading


class ChangeFeed:
    """The newest committed change sequence number, and a way to wait for a newer one."""

    def __init__(self, last_seq: int = 0) -> None:
        self._cond = threading.Condition()
        self._last_seq = last_seq
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def publish(self, seq: int) -> None:
        with self._cond:
            self._last_seq = max(self._last_seq, seq)
            self._cond.notify_all()
            waiters = list(self._waiters)
        for loop, ready in waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop: its waiter is going away
                loop.call_soon_threadsafe(ready.set)

    def wait_sync(self, after_seq: int, timeout_s: float) -> bool:
        """Block until a change after `after_seq` exists or the timeout passes."""
        with self._cond:
            return self._cond.wait_for(lambda: self._last_seq > after_seq, timeout_s)

    async def wait(self, after_seq: int, timeout_s: float) -> bool:
        """Await a change after `after_seq` (True) or the timeout (False)."""
        ready = asyncio.Event()
        waiter = (asyncio.get_running_loop(), ready)
        with self._cond:
            if self._last_seq > after_seq:
                return True
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(ready.wait(), timeout_s)
            return True
        except TimeoutError:
            return self._last_seq > after_seq
        finally:
            with self._cond:
                self._waiters.discard(waiter)
