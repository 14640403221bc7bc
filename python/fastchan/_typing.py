"""typing's Generic and TypeVar for fastchan's inline annotations, without
importing typing at run time (with what it pulls in, about 14 ms in a fresh
interpreter: more than the rest of ``import fastchan``).

Type checkers see typing's own names. At run time ``Generic[T]`` in a
class's bases vanishes (``__mro_entries__`` returns no base), so the
classes' MROs are what they would be without annotations; they are
subscriptable through their own ``__class_getitem__`` (types.GenericAlias).
"""

TYPE_CHECKING = False  # mypy treats any name TYPE_CHECKING as true

if TYPE_CHECKING:
    from typing import Generic as Generic, TypeVar as TypeVar
else:

    class _NoBase:
        __slots__ = ()

        def __mro_entries__(self, bases):
            return ()

    class Generic:
        """Stand-in for typing.Generic: Generic[...] as a base adds nothing."""

        __slots__ = ()

        def __class_getitem__(cls, params):
            return _NO_BASE

    _NO_BASE = _NoBase()

    def TypeVar(name, *constraints, **options):
        """Stand-in for typing.TypeVar: the name (only annotations use it)."""
        return name

T = TypeVar("T")
