import concurrent.futures
from typing import TypeVar

_T = TypeVar("_T")

class Future(concurrent.futures.Future[_T]): ...
