"""Runs CPython's own queue tests (test_queue.py, vendored unmodified)
against fastchan: each TestCase class that binds ``queue = py_queue`` or
``c_queue`` gets a namespace of fastchan's classes instead. Older Pythons'
test.support lacks a few helpers the file imports; they are filled in only
as needed to import it."""

import sys
import types
import unittest

import pytest


def _fill_test_support_gaps():
    """3.10's threading_helper has no requires_working_threading (3.11+)."""
    from test.support import threading_helper

    if not hasattr(threading_helper, "requires_working_threading"):
        def requires_working_threading(*, module=False):
            # Threads always work where fastchan runs.
            return None if module else (lambda test: test)

        threading_helper.requires_working_threading = requires_working_threading


_fill_test_support_gaps()


# -- test_queue.py -----------------------------------------------------------

def fastchan_queue_namespace():
    """What test_queue.py reads from its `queue` module, from fastchan. The
    pure-Python SimpleQueue (_PySimpleQueue) is fastchan's SimpleQueue too."""
    import fastchan.queue as fq

    return types.SimpleNamespace(
        Queue=fq.Queue, LifoQueue=fq.LifoQueue, PriorityQueue=fq.PriorityQueue,
        SimpleQueue=fq.SimpleQueue, _PySimpleQueue=fq.SimpleQueue,
        Empty=fq.Empty, Full=fq.Full, ShutDown=fq.ShutDown)


def substitute_test_queue_classes(module):
    """Points every TestCase of test_queue.py at fastchan's classes, and runs
    the C-module variants too (they are skipped when _queue is missing)."""
    namespace = fastchan_queue_namespace()
    for obj in vars(module).values():
        if isinstance(obj, type) and issubclass(obj, unittest.TestCase) and "queue" in vars(obj):
            obj.queue = namespace
            obj.__unittest_skip__ = False


def pytest_collection_modifyitems(session, config, items):
    done = set()
    for item in items:
        module = getattr(item, "module", None)
        if module is None or module in done:
            continue
        done.add(module)
        if module.__name__.rsplit(".", 1)[-1] == "test_queue":
            substitute_test_queue_classes(module)
