"""Which platform code the extension runs (_core._build_info), and that the
asyncio wake-up descriptor is what the build says it is.

FASTCHAN_EXPECT_PORTABLE=1 in the environment (tests/run_portable.sh) says the
extension must be a FASTCHAN_PORTABLE build: the stage that tests the portable
code (the parking table, a pipe for the LoopWaker) cannot then silently test
the Linux calls.
"""

import asyncio
import os
import stat
import sys
import threading

from fastchan import _core

EXPECT_PORTABLE = os.environ.get("FASTCHAN_EXPECT_PORTABLE") == "1"


def test_build_info_is_consistent():
    info = _core._build_info
    assert set(info) == {"portable", "linux_apis", "parking", "wake_fd", "process_queue"}
    assert info["process_queue"] is info["linux_apis"]  # (the shared ring needs futexes: shm/segment.hpp)
    assert info["wake_fd"] == _core.LoopWaker.kind == _core.LoopWaker().kind
    if EXPECT_PORTABLE:
        assert info["portable"], "FASTCHAN_EXPECT_PORTABLE=1, but the extension is not a FASTCHAN_PORTABLE build"
    if sys.platform.startswith("linux"):
        assert info["linux_apis"] is not info["portable"]
    else:
        assert not info["linux_apis"]
    if info["linux_apis"]:
        assert (info["parking"], info["wake_fd"]) == ("futex", "eventfd")
    elif sys.platform == "win32":
        assert (info["parking"], info["wake_fd"]) == ("parking table", "socket")
    else:
        assert (info["parking"], info["wake_fd"]) == ("parking table", "pipe")


def test_wake_descriptor_is_what_the_build_says():
    waker = _core.LoopWaker()
    fd = waker.fileno()
    if _core.LoopWaker.kind == "socket":
        return  # (a SOCKET on Windows: os.fstat does not take it)
    mode = os.fstat(fd).st_mode
    if _core.LoopWaker.kind == "pipe":
        assert stat.S_ISFIFO(mode)
    else:  # an eventfd: an anonymous inode, no FIFO
        assert not stat.S_ISFIFO(mode)
        assert os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:[eventfd]"
    assert os.get_blocking(fd) is False
    assert os.get_inheritable(fd) is False


def test_wake_from_another_thread_resolves_on_the_loop():
    # Through the descriptor: a wake from another thread, many at once (a
    # burst costs one write, and a drain takes them all).
    async def main():
        loop = asyncio.get_running_loop()
        waker = _core.LoopWaker()
        loop.add_reader(waker.fileno(), waker.drain)
        try:
            for _ in range(20):
                futures = [loop.create_future() for _ in range(50)]
                threads = [threading.Thread(target=waker.wake, args=(f,)) for f in futures]
                for t in threads:
                    t.start()
                await asyncio.wait_for(asyncio.gather(*futures), 10)
                for t in threads:
                    t.join()
        finally:
            loop.remove_reader(waker.fileno())
            waker.abandon()

    asyncio.run(main())


def test_process_queue_refuses_clearly_where_the_build_has_no_shared_ring():
    import pytest

    import fastchan

    if _core._build_info["process_queue"]:
        assert hasattr(_core, "_ProcessRing")
        return
    assert not hasattr(_core, "_ProcessRing")
    with pytest.raises(NotImplementedError, match="ProcessQueue needs Linux"):
        fastchan.ProcessQueue()
