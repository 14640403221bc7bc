"""Runs CPython's test_asyncio/test_queues.py against fastchan.asyncio: for
each test, asyncio's queue classes and exceptions are fastchan's (the test
file reaches them as asyncio.Queue, asyncio.QueueEmpty, ..., and the
shutdown tests as a class attribute q_class bound at import)."""

import asyncio

import pytest

import fastchan.asyncio

SUBSTITUTES = ["Queue", "LifoQueue", "PriorityQueue", "QueueEmpty", "QueueFull", "QueueShutDown"]


@pytest.fixture(autouse=True)
def fastchan_asyncio_queues(request, monkeypatch):
    for name in SUBSTITUTES:
        # (raising=False: QueueShutDown is new in 3.13; fastchan has it on every Python)
        monkeypatch.setattr(asyncio, name, getattr(fastchan.asyncio, name), raising=False)
    q_class = getattr(request.cls, "q_class", None)
    if q_class is not None:
        monkeypatch.setattr(request.cls, "q_class", getattr(fastchan.asyncio, q_class.__name__))
