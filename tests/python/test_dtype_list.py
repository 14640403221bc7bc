"""The one dtype list (FASTCHAN_DTYPES in fastchan/dtypes.hpp): what _core
exports is what the Python layer uses and what the constructors accept, the
capsule codes of the shipped dtypes never change, and every listed dtype
round-trips through every queue class and Channel: one by one, in batches,
as an array.array where it has a typecode, and through the capsule."""

import array
import math
import re

import pytest

import fastchan
import fastchan.asyncio
from fastchan import _base, _core

# Sample values of every dtype, edge cases included. A dtype added to the
# native list without samples here fails test_every_dtype_has_samples.
SAMPLES = {
    None: [None, 0, (1, "a"), "text", b"raw", 2**100, -7],
    "int64": [0, -1, 42, 2**63 - 1, -2**63],
    "float64": [0.0, -0.0, 1.5, -math.inf, math.nan, 5e-324],
    "bytes": [b"", b"\x00", b"a\x00b", bytes(range(256))],
}

# The capsule ABI (fastchan/python.hpp): these codes are versioned, fixed.
SHIPPED_CODES = {None: 0, "int64": 1, "float64": 2, "bytes": 3}

QUEUES = [fastchan.Queue, fastchan.LifoQueue, fastchan.PriorityQueue]
DTYPES = list(_core.DTYPES)


def key(value):
    """What a round trip must keep: type and value; a float's sign and NaN-ness."""
    if isinstance(value, float):
        return (float, "nan") if math.isnan(value) else (float, value, math.copysign(1.0, value))
    return (type(value), value)


def keys(values):
    return [key(v) for v in values]


def ordered(cls, values):
    """values in the order cls gives them back."""
    if cls is fastchan.LifoQueue:
        return values[::-1]
    if cls is fastchan.PriorityQueue:
        return sorted(values)
    return values


def test_native_list_is_the_python_list():
    assert list(_core.DTYPES)[0] is None  # objects first: the fastest dispatch
    assert _base.TYPECODES == _core.ARRAY_TYPECODES
    assert set(_core.ARRAY_TYPECODES) <= set(DTYPES) - {None}
    assert len(set(_core.DTYPES.values())) == len(_core.DTYPES)  # codes are unique
    assert SHIPPED_CODES.items() <= _core.DTYPES.items()
    for dtype, typecode in _core.ARRAY_TYPECODES.items():
        assert array.array(typecode).typecode == typecode
    # The names a bad dtype's error lists are the list's.
    with pytest.raises(ValueError) as info:
        fastchan.Queue(dtype="no such dtype")
    listed = re.match(r"dtype must be (.*), not 'no such dtype'$", str(info.value)).group(1)
    assert re.findall(r"'(\w+)'|(None)", listed) == [(d, "") if d else ("", "None") for d in DTYPES[1:] + [None]]
    with pytest.raises(TypeError, match=re.escape(listed)):
        fastchan.Channel(1, dtype=5)


def test_every_dtype_has_samples():
    assert set(SAMPLES) == set(DTYPES)


@pytest.mark.parametrize("dtype", DTYPES)
def test_constructors_take_every_dtype(dtype):
    for make in [*QUEUES, fastchan.asyncio.Queue]:
        assert make(dtype=dtype).dtype == dtype
    assert fastchan.Channel(1, dtype=dtype).dtype == dtype


@pytest.mark.parametrize("cls", QUEUES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("maxsize", [0, 100], ids=["list", "ring"])
def test_queue_round_trip(dtype, cls, maxsize):
    values = SAMPLES[dtype]
    if cls is fastchan.PriorityQueue:  # totally ordered, no ties: one right order
        values = [v for v in values if type(v) is type(values[-1]) and v == v]
        values = [v for i, v in enumerate(values) if v not in values[:i]]
    expected = keys(ordered(cls, values))
    q = cls(maxsize, dtype=dtype)
    for v in values:
        q.put_nowait(v)
    assert keys(q.get_nowait() for _ in values) == expected
    for v in values:
        q.put(v, timeout=5)
    assert keys(q.get(timeout=5) for _ in values) == expected
    q.put_many(values)
    assert keys(q.get_many(100)) == expected
    if dtype in _core.ARRAY_TYPECODES:
        q.put_many(array.array(_core.ARRAY_TYPECODES[dtype], values))  # a buffer of the dtype's format
        got = q.get_many(100, as_array=True)
        assert type(got) is array.array and got.typecode == _core.ARRAY_TYPECODES[dtype]
        assert keys(got) == expected
    else:
        q.put_many(values)
        with pytest.raises(ValueError, match="as_array=True needs dtype"):
            q.get_many(1, as_array=True)
        assert keys(q.get_many(100)) == expected
    assert q.qsize() == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("capacity", [None, 100])
def test_channel_round_trip(dtype, capacity):
    values = SAMPLES[dtype]
    ch = fastchan.Channel(capacity, dtype=dtype)
    for v in values:
        ch.send(v)
    assert keys(ch.recv() for _ in values) == keys(values)
    ch.put_many(values)
    assert keys(ch.get_many(100)) == keys(values)
    if dtype in _core.ARRAY_TYPECODES:
        ch.put_many(array.array(_core.ARRAY_TYPECODES[dtype], values))
        got = ch.get_many(100, as_array=True)
        assert type(got) is array.array and keys(got) == keys(values)
    else:
        with pytest.raises(ValueError, match="as_array=True needs dtype"):
            ch.get_many(1, as_array=True)
    # Through the capsule: a C++ thread sends with a ChannelRef<T> of the
    # channel's T, as another extension module would.
    capsule = ch.__fastchan_channel__()
    assert type(capsule).__name__ == "PyCapsule"
    producer = _core._testing._NativeProducer(ch, values)
    producer.join()
    assert keys(ch.get_many(100)) == keys(values)
    for v in values:
        assert _core._testing._foreign_try_send(ch, v)
    assert keys(ch.get_many(100)) == keys(values)
    assert len(ch) == 0
