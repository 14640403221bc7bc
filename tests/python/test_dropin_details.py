"""Small drop-in details that the peers' own suites and users' logs rely on."""

import asyncio
import re
import subprocess
import sys

import pytest

import fastchan
import fastchan.asyncio


def test_star_import_does_not_shadow_the_stdlib():
    # `from fastchan import *` after `import asyncio` must leave asyncio.run.
    code = "import asyncio\nfrom fastchan import *\nassert asyncio.run is not None\nprint(asyncio.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "asyncio"


@pytest.mark.parametrize("cls", [fastchan.asyncio.Queue, fastchan.asyncio.LifoQueue, fastchan.asyncio.PriorityQueue])
def test_asyncio_repr_has_asyncios_shape(cls):
    q = cls(5)
    name = cls.__name__
    assert str(q) == f"<{name} maxsize=5>"
    assert re.fullmatch(rf"<{name} at 0x[0-9a-f]+ maxsize=5>", repr(q))
    q.put_nowait(1)
    assert str(q) == f"<{name} maxsize=5 qsize=1 tasks=1>"
    q.shutdown()
    assert str(q).endswith(" shutdown>")
    # asyncio.Queue's own str() starts the same way.
    assert str(getattr(asyncio, name)(5)).startswith(f"<{name} maxsize=5")


def test_thread_pool_zero_workers_message_is_the_stdlibs():
    with pytest.raises(ValueError, match="max_workers must be greater than 0"):
        fastchan.ThreadPool(max_workers=0)


@pytest.mark.parametrize("name", ["clear", "peek", "peek_nowait", "putting", "getting", "wrapped"])
def test_another_librarys_api_is_a_prompt_attribute_error(name):
    # culsans-only names (culsans' own suite uses them) fail at once on every
    # view and leave the queue usable; nothing waits.
    q = fastchan.Queue(1)
    q.put(1)
    for view in (q, q.sync_q, q.async_q):
        with pytest.raises(AttributeError, match=name):
            getattr(view, name)
    assert q.get_nowait() == 1
