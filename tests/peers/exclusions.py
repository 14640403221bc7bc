"""The one list of the peers' tests that do not run against fastchan.

Each entry is a test's node id (relative to tests/peers) and the reason. Only
tests of a peer's private internals may be excluded; a test of public
behaviour that fails is a fastchan bug, not an entry here. NEEDS_PYTHON lists
tests that use a newer Python's stdlib than the interpreter running them
(they are skipped there, with the reason, and run everywhere else).
"""

EXCLUDED = {
    # -- CPython 3.13.5 Lib/test/test_asyncio/test_queues.py --
    # -- CPython 3.13.5 Lib/test/test_queue.py --
    # -- trio 0.35.0 src/trio/_tests/test_channel.py --
}

# node id (or a prefix ending in "::") -> ((major, minor), reason)
NEEDS_PYTHON = {
}
