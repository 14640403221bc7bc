import concurrent.futures
from concurrent.futures.thread import BrokenThreadPool as BrokenThreadPool
from typing import Any, Callable, Iterable, Optional, Tuple, TypeVar

from ._future import Future as Future

_T = TypeVar("_T")

class ThreadPool(concurrent.futures.ThreadPoolExecutor):
    def __init__(
        self,
        max_workers: Optional[int] = None,
        *,
        max_pending: Optional[int] = None,
        thread_name_prefix: str = "",
        initializer: Optional[Callable[..., object]] = None,
        initargs: Tuple[Any, ...] = (),
    ) -> None: ...
    @property
    def max_pending(self) -> Optional[int]: ...
    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]: ...
    def submit_nowait(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]: ...
    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None: ...

async def to_thread(func: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T: ...
