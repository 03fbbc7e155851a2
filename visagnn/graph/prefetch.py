"""Producing the next item of an iterable in a background thread while the caller works.

A training epoch alternates building a batch (its subgraph and feature rows, on the CPU) and
training on it. :func:`prefetch` moves the building into a thread, one batch ahead, so that it
overlaps the training step; torch releases the GIL in its kernels, so the two run in parallel
on two cores or while a GPU computes. The items and their order are those of the iterable:
the thread is the only one that advances it, so a random generator it consumes (the batch
order's) is drawn in the same order as without prefetching.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")


class _End:
    """The producer's last message: the iterable is exhausted, or raised ``error``."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


def prefetch(source: Iterable[T], ahead: int = 1) -> Iterator[T]:
    """The items of ``source`` in order, each produced in a background thread at most
    ``ahead`` items before the caller takes it.

    With ``ahead = 1`` the thread builds item ``k + 1`` while the caller works on item ``k``,
    then waits until the caller takes it. The iterable is iterated in the thread only, from
    the first ``next``. An exception raised by ``source`` is raised in the caller when it
    reaches that item, with the thread's traceback. Closing the returned generator (leaving a
    ``for`` loop early, :func:`contextlib.closing`, or garbage collection) stops the thread
    and waits for the item it is building.

    Raises:
        ValueError: ``ahead < 1``.
    """
    if ahead < 1:
        raise ValueError(f"ahead must be >= 1, got {ahead}")
    return _prefetch(source, ahead)


def _prefetch(source: Iterable[T], ahead: int) -> Iterator[T]:
    items: queue.SimpleQueue[Any] = queue.SimpleQueue()
    slots = threading.Semaphore(ahead)  # items built and not yet taken, or being built
    stop = threading.Event()

    def produce() -> None:
        try:
            iterator = iter(source)
            while True:
                slots.acquire()
                if stop.is_set():
                    return
                try:
                    item = next(iterator)
                except StopIteration:
                    items.put(_End())
                    return
                items.put(item)
        except BaseException as exc:  # noqa: BLE001  (handed to the caller, who raises it)
            items.put(_End(exc))

    thread = threading.Thread(target=produce, name="visagnn-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            slots.release()
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item
    finally:
        stop.set()
        slots.release()  # wakes a producer waiting for a slot, which then sees stop
        thread.join()
