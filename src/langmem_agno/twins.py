"""Sync and async twins that share their logic: the one convention (see CONTRIBUTING.md).

A flow with several dependent I/O steps is written once, as a generator *plan*
that yields requests and receives each result back. :func:`run_plan` answers
the requests with a sync function, :func:`arun_plan` with an async one, so a
method and its ``a``-prefixed twin share every line of logic and differ only in
how one request is carried out.

Two kinds of request are used:

* typed database requests (the MongoDB store's plans, answered by its driver);
* a :class:`Call`: one function and its async twin bound to the same arguments,
  made by :func:`twin` and run by :func:`run_calls` / :func:`arun_calls`. mypy
  checks that both functions take the arguments given, and "find usages" sees
  every call: nothing is looked up by method name.

A request that fails is thrown back into the plan at the ``yield``, so the
plan can handle the failure itself; a plan that does not catch it ends with
that same exception.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, ParamSpec, TypeVar

__all__ = ["Call", "arun_calls", "arun_plan", "run_calls", "run_plan", "twin"]

P = ParamSpec("P")
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


@dataclass(frozen=True)
class Call(Generic[T]):
    """One I/O step, ready in both styles: a function and its async twin, bound to the same arguments."""

    run: Callable[[], T]
    arun: Callable[[], Awaitable[T]]


def twin(sync: Callable[P, T], async_: Callable[P, Awaitable[T]]) -> Callable[P, Call[T]]:
    """Pair ``sync`` with its async twin ``async_``; calling the pair binds arguments to both.

    Example:
        >>> async def adouble(x: int) -> int:
        ...     return 2 * x
        >>> call = twin(lambda x: 2 * x, adouble)(21)
        >>> call.run()
        42
    """

    def bind(*args: P.args, **kwargs: P.kwargs) -> Call[T]:
        return Call(partial(sync, *args, **kwargs), partial(async_, *args, **kwargs))

    return bind


def run_calls(plan: Generator[Call[Any], Any, T]) -> T:
    """Run a plan of :class:`Call` steps with the sync functions."""
    return run_plan(plan, lambda call: call.run())


async def arun_calls(plan: Generator[Call[Any], Any, T]) -> T:
    """Async twin of :func:`run_calls`: each step runs its async function."""
    return await arun_plan(plan, lambda call: call.arun())
