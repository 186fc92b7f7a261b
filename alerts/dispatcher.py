"""Delivering stored changes to their channels, in order, with retries (at-least-once).

One thread per channel, so a channel that is down (a webhook receiver restarting, a broker
away) delays only itself. Each thread sends its pending deliveries in change order; a failure
stops that channel's round and schedules a retry with exponential backoff, keeping later
changes behind it (a receiver never sees "resolved" before "created"). Everything is read from
the store, so deliveries pending at a restart simply continue.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from alerts.config import DeliveryConfig
from alerts.sinks.base import Sink
from alerts.store import AlertStore

log = logging.getLogger(__name__)


def retry_delay(attempts: int, cfg: DeliveryConfig) -> float:
    """Seconds before the next try after `attempts` failed ones (1 = the first failure).

    >>> [retry_delay(n, DeliveryConfig(retry_initial_s=2, retry_max_s=30)) for n in (1, 2, 3, 5, 9)]
    [2.0, 4.0, 8.0, 30.0, 30.0]
    """
    return float(min(cfg.retry_max_s, cfg.retry_initial_s * 2 ** max(0, attempts - 1)))


class Dispatcher:
    """Sends pending deliveries through `sinks` (name -> sink); `run_once` is one round."""

    def __init__(
        self,
        store: AlertStore,
        sinks: Mapping[str, Sink],
        cfg: DeliveryConfig,
        evidence_root: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.sinks = dict(sinks)
        self.cfg = cfg
        self.evidence_root = evidence_root
        self.clock = clock
        self._stop = threading.Event()
        self._wake = {name: threading.Event() for name in self.sinks}
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        failed = self.store.fail_unknown_sinks(set(self.sinks), at=self.clock())
        if failed:
            log.warning("%d pending deliveries to channels no longer configured failed", failed)
        for name in self.sinks:
            thread = threading.Thread(target=self._loop, args=(name,), name=f"deliver-{name}")
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        for event in self._wake.values():
            event.set()
        for thread in self._threads:
            thread.join(timeout_s)
        for name, sink in self.sinks.items():
            try:
                sink.close()
            except Exception:
                log.exception("closing channel %s failed", name)

    def wake(self) -> None:
        """New deliveries were committed: let every channel look now."""
        for event in self._wake.values():
            event.set()

    def run_once(self, name: str) -> float | None:
        """Send the channel's due deliveries in order until one fails or none is due.

        Returns when the next attempt is due (epoch seconds), or None when nothing is pending.
        """
        sink = self.sinks[name]
        while not self._stop.is_set():
            pending = self.store.pending(name, limit=20)
            if not pending:
                return None
            for delivery in pending:
                now = self.clock()
                if delivery.next_attempt_at > now:
                    return delivery.next_attempt_at
                alert = delivery.change.alert
                snapshot = self.evidence_root / alert.snapshot if alert.snapshot else None
                try:
                    sink.send(delivery.change, snapshot if snapshot and snapshot.exists() else None)
                except Exception as exc:
                    done = self.clock()
                    error = f"{type(exc).__name__}: {exc}"
                    give_up = done - delivery.created_at >= self.cfg.give_up_after_s
                    retry_at = (
                        None if give_up else done + retry_delay(delivery.attempts + 1, self.cfg)
                    )
                    self.store.mark_attempt_failed(
                        delivery.id, at=done, error=error, retry_at=retry_at
                    )
                    log.warning(
                        "channel %s: delivery of alert %s v%d failed (attempt %d): %s%s",
                        name,
                        alert.id,
                        alert.version,
                        delivery.attempts + 1,
                        error,
                        "; giving up" if give_up else "",
                    )
                    if give_up:
                        break  # the next ones may go now
                    return retry_at
                self.store.mark_delivered(delivery.id, at=self.clock())
        return None

    def _loop(self, name: str) -> None:
        wake = self._wake[name]
        while not self._stop.is_set():
            wake.clear()
            try:
                due = self.run_once(name)
            except Exception:  # the database itself failed: log and try again shortly
                log.exception("channel %s: delivery round failed", name)
                due = self.clock() + self.cfg.retry_initial_s
            wait = 60.0 if due is None else max(0.0, due - self.clock())
            wake.wait(min(wait, 60.0))
