"""The argument checks fastchan's Python code shares: counts and timeouts."""

from __future__ import annotations

import operator

__all__ = ["count", "timeout"]


def count(name: str, value: object, *, minimum: int = 0, accepted: str = "an integer",
          bound: str | None = None) -> int:
    """`value` as an int no smaller than `minimum`; TypeError unless it is an
    integer (a bool is not one here), ValueError if it is too small. The
    messages name `name`, say what is `accepted` and the `bound` (default
    ">= minimum")."""
    if isinstance(value, bool) or not hasattr(type(value), "__index__"):
        raise TypeError(f"{name} must be {accepted}, not {type(value).__name__} {value!r}")
    number = operator.index(value)  # type: ignore[arg-type]  # (it has __index__)
    if number < minimum:
        raise ValueError(f"{name} must be {bound or f'>= {minimum}'}, not {number!r}")
    return number


def timeout(value: object) -> float | None:
    """A timeout in seconds as a float, or None (wait forever); TypeError
    unless it is a number, ValueError if it is negative (or NaN)."""
    if value is None:
        return None
    try:
        if not hasattr(type(value), "__float__") and not hasattr(type(value), "__index__"):
            raise TypeError  # (float() would parse a str)
        seconds = float(value)  # type: ignore[arg-type]  # (checked above)
    except (TypeError, ValueError, OverflowError):
        raise TypeError(f"timeout must be a non-negative number or None, not {type(value).__name__} {value!r}") from None
    if not seconds >= 0:
        raise ValueError(f"'timeout' must be a non-negative number, not {value!r}")
    return seconds
