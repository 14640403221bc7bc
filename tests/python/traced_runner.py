"""`python -m fastchan` with a census: counts the fastchan queues and thread
pools the run created (in the main process) and prints them to stderr at exit (used by
test_examples.py)."""

import atexit
import collections
import json
import sys

import fastchan
import fastchan.asyncio
from fastchan.__main__ import main

created = collections.Counter()


def count_instances(cls, key):
    original = cls.__init__

    def __init__(self, *args, **kwargs):
        created[key] += 1
        original(self, *args, **kwargs)

    cls.__init__ = __init__


for module in (fastchan, fastchan.asyncio):
    for name in ("Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"):
        if hasattr(module, name):
            count_instances(getattr(module, name), f"{module.__name__}.{name}")
count_instances(fastchan.ThreadPool, "fastchan.ThreadPool")
count_instances(fastchan.ProcessQueue, "fastchan.ProcessQueue")  # (in this process: not its children's)
count_instances(fastchan.memory_channel._State, "fastchan.open_memory_channel")

atexit.register(lambda: print("FASTCHAN-CREATED " + json.dumps(created), file=sys.stderr))
sys.exit(main(sys.argv[1:]))
