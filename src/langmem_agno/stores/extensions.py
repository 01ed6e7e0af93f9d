"""What other layers keep on a store: per-store helpers (recall's index) and the LangGraph adapter.

Mixed into :class:`~langmem_agno.stores.base.MemoryStore`, which knows nothing of what is kept.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any, Self, TypeVar, cast

__all__ = ["Extensions"]

T = TypeVar("T")


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
