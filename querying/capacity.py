"""Bounded concurrency for governed queries: per server process and per user (issue 13).

Heavy queries must not take every web worker: each process runs at most
``QUERY_MAX_CONCURRENT`` governed queries at a time (the other threads keep serving the
catalog), waiting up to ``QUERY_QUEUE_WAIT_S`` for a slot; and one user runs at most
``QUERY_MAX_PER_USER`` at a time across processes (counted in the cache: Redis in production,
so every worker sees one count; per process with the embedded locmem cache). A query that gets
no slot is refused with 429 ``QUERY_BUSY`` and audited.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from django.conf import settings
from django.core.cache import cache

_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


def _process_slots() -> threading.BoundedSemaphore:
    """This process's semaphore, sized by QUERY_MAX_CONCURRENT (rebuilt if the setting changes)."""
    global _slots
    size = max(1, int(settings.QUERY_MAX_CONCURRENT))
    with _lock:
        if _slots is None or _slots[0] != size:
            _slots = (size, threading.BoundedSemaphore(size))
        return _slots[1]


def _user_key(user: Any) -> str | None:
    pk = getattr(user, "pk", None)
    return f"querying:running:{pk}" if pk is not None else None


@contextmanager
def query_slot(user: Any) -> Iterator[str | None]:
    """Hold a slot while a query runs: yields None when granted, else why it was not."""
    key = _user_key(user)
    per_user = int(settings.QUERY_MAX_PER_USER)
    counted = False
    if key is not None and per_user > 0:
        # The count expires on its own if a process dies mid-query.
        cache.add(key, 0, timeout=int(settings.QUERY_TIMEOUT_S) + 60)
        try:
            running = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=int(settings.QUERY_TIMEOUT_S) + 60)
            running = 1
        counted = True
        if running > per_user:
            _release_user(key)
            yield (
                f"you already have {per_user} queries running; wait for one to finish "
                "(QUERY_MAX_PER_USER)"
            )
            return
    slots = _process_slots()
    if not slots.acquire(timeout=float(settings.QUERY_QUEUE_WAIT_S)):
        if counted and key is not None:
            _release_user(key)
        yield (
            "too many queries are running on this server right now; try again in a few "
            "seconds (QUERY_MAX_CONCURRENT)"
        )
        return
    try:
        yield None
    finally:
        slots.release()
        if counted and key is not None:
            _release_user(key)


def _release_user(key: str) -> None:
    with suppress(ValueError):  # the count expired meanwhile
        cache.decr(key)
