"""An instance whose __init__ never ran (cls.__new__(cls)): every method and
property of every public class raises TypeError naming the class, instead
of reading garbage, writing through bad pointers, crashing or hanging.

The walk is generic: every public class of fastchan and fastchan.asyncio,
every callable attribute and property its MRO defines (its own and those
inherited from the stdlib), called with arguments picked from a pool until
the call gets past argument checking. A new method is covered without
editing this test. It runs in a subprocess, so a crash fails it cleanly."""

import subprocess
import sys

WALK = r'''
import asyncio, inspect, sys
import fastchan, fastchan.asyncio

SKIP = {"__init__", "__new__", "__init_subclass__", "__class_getitem__", "__subclasshook__",
        "__getattr__", "__getattribute__", "__setattr__", "__delattr__", "__dir__", "__sizeof__",
        "__reduce__", "__reduce_ex__", "__format__", "__eq__", "__ne__", "__hash__", "__lt__", "__le__",
        "__gt__", "__ge__", "__str__", "__getstate__", "__setstate__", "__weakref__", "__dict__",
        "__doc__", "__module__", "__class__", "__slots__", "__annotations__", "__del__"}
POOL = [(), (1,), ([1],), (1, False), (1, 0.01), (1, False, 0.01), (None, None, None)]

def public_classes():
    seen = []
    for mod in (fastchan, fastchan.asyncio):
        for name in mod.__all__:
            obj = getattr(mod, name)
            if isinstance(obj, type) and not issubclass(obj, BaseException) and obj not in seen:
                seen.append(obj)
    return seen

def attributes(cls):
    names = set()
    for klass in cls.__mro__:
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if name in SKIP or isinstance(value, (staticmethod, classmethod)):
                continue
            if name.startswith("_") and not name.startswith("__"):
                continue  # private helpers: reached through the public ones
            names.add(name)
    return sorted(names)

def outcome(thunk):
    try:
        result = thunk()
        if inspect.isawaitable(result):
            async def run():
                return await asyncio.wait_for(result, 5)
            result = asyncio.run(run())
        if hasattr(result, "__next__"):  # a generator method: its body runs at the first next()
            result = next(result)
        return "returned " + repr(result)[:60]
    except TypeError as e:
        return "TypeError: " + str(e)
    except BaseException as e:
        return type(e).__name__ + ": " + str(e)[:100]

def arity_error(text):
    return text.startswith("TypeError:") and any(w in text for w in (
        "argument", "positional", "incompatible function", "takes", "missing", "expected", "not iterable",
        "must be", "is not callable", "object is not", "unexpected keyword"
    )) and "not initialized" not in text

bad = 0
for cls in public_classes():
    for name in attributes(cls):
        static = inspect.getattr_static(cls, name)
        if not (isinstance(static, property) or callable(static) or inspect.isdatadescriptor(static)):
            continue  # class data (__firstlineno__...)
        obj = cls.__new__(cls)
        if isinstance(static, property) or not callable(static):
            result = outcome(lambda: getattr(obj, name))
        else:
            for args in POOL:
                obj = cls.__new__(cls)
                result = outcome(lambda: getattr(obj, name)(*args))
                if not arity_error(result):
                    break
        ok = result.startswith("TypeError:") and "not initialized" in result and cls.__name__ in result
        bad += not ok
        print(("ok  " if ok else "BAD ") + cls.__module__ + "." + cls.__name__ + "." + name + ": " + result)
print("bad", bad)
'''


def test_every_method_of_every_public_class_refuses_an_uninitialized_instance():
    out = subprocess.run([sys.executable, "-c", WALK], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    lines = out.stdout.splitlines()
    assert len(lines) > 100  # (the walk did reach the classes' methods)
    assert lines[-1] == "bad 0", "\n".join(line for line in lines if line.startswith("BAD"))
