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


def interrupt_when_ready(code, settle=0.3, timeout=10, **popen_kwargs):
    """Runs `code` in a fresh interpreter and, once it prints "ready" (just
    before it blocks), waits `settle` seconds and sends it SIGINT. Returns
    (stdout after "ready", stderr, return code, seconds from signal to exit)."""
    import signal
    import subprocess
    import time

    # A process started in the background by a non-interactive shell inherits
    # SIGINT ignored, and Python then installs no KeyboardInterrupt handler:
    # the child restores it, so the test does not depend on how it was run.
    code = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n" + code
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **popen_kwargs)
    try:
        assert child.stdout.readline().strip() == "ready"
        time.sleep(settle)  # let it block
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=timeout)
        return out, err, child.returncode, time.monotonic() - sent
    finally:
        child.kill()
        child.wait()


# fastchan.Channel's flavors: a rendezvous, buffered (1 and 8 slots), unbounded.
@pytest.fixture(params=[0, 1, 8, None], ids=["rendezvous", "buffered1", "buffered8", "unbounded"])
def capacity(request):
    return request.param
