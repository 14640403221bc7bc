import sys

import pytest

import fastchan

QUEUE_CLASSES = [fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue]


@pytest.fixture(params=QUEUE_CLASSES, ids=lambda c: c.__name__)
def queue_class(request):
    return request.param


def run_python(code, timeout=30, **kwargs):
    """Runs `code` in a fresh interpreter; returns the CompletedProcess."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, **kwargs
    )
