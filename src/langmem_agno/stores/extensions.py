"""What other layers keep on a store: per-store helpers (recall's index) and the LangGraph adapter.

Mixed into :class:`~langmem_agno.stores.base.MemoryStore`, which knows nothing of what is kept.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from typing import Any, Self, TypeVar, cast

__all__ = ["Extensions", "build_for_postgres"]

T = TypeVar("T")


def build_for_postgres(store: object, module: str, name: str, *args: Any, **kwargs: Any) -> Any:
    """``module.name(store, *args, **kwargs)`` when ``store`` is a PostgreSQL store, else ``None``.

    PostgreSQL's modules need psycopg, an optional extra: a ``PostgresMemoryStore`` exists only
    once its module is loaded, so look there, and load ``module`` (which may build on the
    caller's) by name only then, so another store never imports psycopg.
    """
    postgres = sys.modules.get("langmem_agno.stores.postgres")
    if postgres is None or not isinstance(store, postgres.PostgresMemoryStore):
        return None
    return getattr(importlib.import_module(module), name)(store, *args, **kwargs)


class Extensions:
    """Per-store helper objects, built on first use and kept as long as the store."""

    def _init_extensions(self) -> None:
        self._extensions: dict[str, object] = {}
        self._extensions_lock = threading.Lock()

    def as_langgraph_store(self, **options: Any) -> Any:
        """This store as a LangGraph ``BaseStore``: ``LangGraphStore(self, **options)``.

        Args:
            **options: :class:`~langmem_agno.agents.langgraph_store.LangGraphStore`'s options,
                e.g. ``namespace=("memories", "{user_id}")``.

        Returns:
            The :class:`~langmem_agno.agents.langgraph_store.LangGraphStore`.
        """
        # Loaded by name: the adapter sits layers above the stores, which must not import it.
        adapter = importlib.import_module("langmem_agno.agents.langgraph_store")
        return adapter.LangGraphStore(self, **options)

    def extension(self, key: str, build: Callable[[Self], T]) -> T:
        """The helper object ``key`` kept for this store, built by ``build(self)`` on first use.

        Other parts of the library keep per-store state here (recall keeps its index),
        so it lives exactly as long as the store, and the store knows nothing about them.
        """
        with self._extensions_lock:
            if key not in self._extensions:
                self._extensions[key] = build(self)
            return cast(T, self._extensions[key])
