"""Run I/O logic written once, as a generator "plan", with sync or async I/O.

A plan is a generator that yields requests (a database operation, a model
call) and receives each result back. :func:`run_plan` answers the requests with
a sync function, :func:`arun_plan` with an async one, so a method and its
``a``-prefixed twin share every line of logic and differ only in how one
request is carried out. The MongoDB store, the retriever and extraction are
all written this way.

A request that fails is thrown back into the plan at the ``yield``, so the
plan can handle the failure itself (extraction reports which step failed); a
plan that does not catch it ends with that same exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

R = TypeVar("R")
T = TypeVar("T")


def run_plan(plan: Generator[R, Any, T], step: Callable[[R], Any]) -> T:
    """Run ``plan`` to its end, answering each request with ``step(request)``.

    Returns:
        The plan's return value.
    """
    try:
        request = next(plan)
        while True:
            try:
                result = step(request)
            except Exception as exc:
                request = plan.throw(exc)
            else:
                request = plan.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]


async def arun_plan(plan: Generator[R, Any, T], step: Callable[[R], Awaitable[Any]]) -> T:
    """Async twin of :func:`run_plan`: each request is answered with ``await step(request)``."""
    try:
        request = next(plan)
        while True:
            try:
                result = await step(request)
            except Exception as exc:
                request = plan.throw(exc)
            else:
                request = plan.send(result)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
