"""A LangGraph ``BaseStore`` over a memory store, in Agno's layout.

LangGraph's long-term memory (``runtime.store``, ``get_store()``, LangMem's tools and
managers, the Platform's store API) is written against ``BaseStore``.
:class:`LangGraphStore` lets all of it run on a SQLite or MongoDB memory store, so
LangGraph agents and Agno agents share one set of memories:

* a namespace maps onto the scope through a template, by default
  ``("memories", "{user_id}")`` (further levels may name ``{agent_id}`` and
  ``{team_id}``); a namespace that fits no template is an :class:`UnmappedNamespaceError`,
  never a read of another scope;
* an item's key is the memory's ``memory_id``; its text (``value["content"]``, or the
  ``content`` of a structured memory) is the memory Agno reads, and the whole value
  round-trips through the ``<collection>_values`` companion;
* ``search`` with a query ranks with the library's recall (lexical, or dense and
  hybrid when the store was given embeddings).

Each operation is written once, as a plan of typed sync/async calls
(:mod:`langmem_agno.twins`): ``batch`` runs it on the store's sync methods, ``abatch``
on their async twins (MongoDB's native async client, not a thread).
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from langchain_core.embeddings import Embeddings
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

from langmem_agno.agents.store_values import StoredValue, ValueCompanion, value_companion
from langmem_agno.checks import check_id
from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.models import embeddings_model
from langmem_agno.recall.retriever import MemoryRetriever
from langmem_agno.recall.thesaurus import Thesaurus
from langmem_agno.record import UserMemory, normalize_topics
from langmem_agno.scope import MemoryScope
from langmem_agno.stores.base import MemoryStore
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = ["DEFAULT_NAMESPACE", "LangGraphStore", "NamespaceTemplate", "UnmappedNamespaceError"]

#: LangMem's convention, with our scope's name for the user.
DEFAULT_NAMESPACE = ("memories", "{user_id}")
_FIELDS = ("user_id", "agent_id", "team_id")
_PLACEHOLDER = re.compile(r"^\{(user_id|agent_id|team_id)\}$")
#: How many of a user's memories a filtered search looks at, newest first.
FILTER_SCAN_LIMIT = 5_000
#: How many ranked hits a search with a query can return (the retriever's largest ``k``):
#: ``offset + limit`` beyond it, and a filter over more of them, see only these.
MAX_RANKED = 1_000

_Plan = Generator[Call[Any], Any, Any]


def _json_value(key: str, value: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``value`` once it is known to encode as JSON, as every backend stores it."""
    try:
        json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise InvalidMemoryError(
            f"the value of key {key!r} must be JSON-serializable (a dict of str, numbers, booleans, "
            f"None, lists and dicts): {exc}"
        ) from exc
    return dict(value)


class UnmappedNamespaceError(InvalidMemoryError, InvalidNamespaceError):
    """A namespace that fits no template: it is refused, never read or written."""


@dataclass(frozen=True)
class NamespaceTemplate:
    """The shape of the namespaces a :class:`LangGraphStore` maps onto the scope.

    Args:
        parts: Literal labels and the placeholders ``{user_id}`` (required),
            ``{agent_id}`` and ``{team_id}``, e.g. ``("memories", "{user_id}")``.
    """

    parts: tuple[str, ...]

    def __post_init__(self) -> None:
        names = [m.group(1) for p in self.parts if (m := _PLACEHOLDER.match(p))]
        if "user_id" not in names or len(names) != len(set(names)):
            raise ConfigurationError(
                f"namespace template must name {{user_id}} once (and optionally {{agent_id}}, "
                f"{{team_id}}), got {self.parts!r}"
            )
        if any("{" in p or "}" in p for p in self.parts if not _PLACEHOLDER.match(p)):
            raise ConfigurationError(f"namespace template has an unknown placeholder: {self.parts!r}")

    def _bind(self, namespace: Sequence[str], *, prefix: bool) -> MemoryScope:
        # An item's namespace may stop before trailing {agent_id} / {team_id} levels: that is
        # a memory no agent or team wrote (LangGraph refuses empty labels, so "" cannot say so).
        if not prefix and not self._shortest <= len(namespace) <= len(self.parts):
            raise UnmappedNamespaceError(
                f"namespace {tuple(namespace)!r} does not fit the template {self.parts!r}"
            )
        found: dict[str, str | None] = dict.fromkeys(_FIELDS)
        for label, part in zip(namespace, self.parts, strict=False):
            if (m := _PLACEHOLDER.match(part)) is not None:
                found[m.group(1)] = check_id(m.group(1), label)
            elif label != part:
                raise UnmappedNamespaceError(
                    f"namespace {tuple(namespace)!r} does not fit the template {self.parts!r}"
                )
        user_id = found["user_id"]
        if user_id is None:
            # A prefix above the user level would read every user's memories.
            raise UnmappedNamespaceError(
                f"namespace prefix {tuple(namespace)!r} names no user; the template is {self.parts!r}"
            )
        return MemoryScope(user_id, found["agent_id"], found["team_id"])

    @cached_property
    def _shortest(self) -> int:
        """How long an item's namespace must be: the template without its trailing agent and team levels.

        Never shorter than the user level, which every template names.
        """
        n, user_depth = len(self.parts), self.parts.index("{user_id}") + 1
        while n > user_depth and self.parts[n - 1] in ("{agent_id}", "{team_id}"):
            n -= 1
        return n

    def scope(self, namespace: Sequence[str]) -> MemoryScope:
        """The scope of an item's namespace.

        Every level is given, or the namespace stops before trailing ``{agent_id}`` /
        ``{team_id}`` levels: an item of no agent (or team), and a put there writes a
        memory without one.
        """
        return self._bind(namespace, prefix=False)

    def prefix_scope(self, prefix: Sequence[str]) -> MemoryScope:
        """The scope a search prefix covers: it must reach the user level; deeper levels narrow it."""
        if len(prefix) > len(self.parts):
            raise UnmappedNamespaceError(f"namespace prefix {tuple(prefix)!r} is deeper than {self.parts!r}")
        return self._bind(prefix, prefix=True)

    def namespace(self, memory: UserMemory) -> tuple[str, ...]:
        """The namespace an item of ``memory`` is listed under."""
        values = {"user_id": memory.user_id, "agent_id": memory.agent_id, "team_id": memory.team_id}
        out = []
        for part in self.parts:
            m = _PLACEHOLDER.match(part)
            out.append(part if m is None else (values[m.group(1)] or ""))
        # Unset trailing agent and team levels are left off, so the namespace is one get accepts.
        while len(out) > self._shortest and out[-1] == "":
            out.pop()
        return tuple(out)


def memory_text(value: Mapping[str, Any]) -> str:
    """The memory text Agno reads for an item's value.

    LangMem writes ``{"content": "text"}``, and structured memories as
    ``{"kind": ..., "content": {...}}``: the text is ``content`` when it is a string,
    the ``content`` (or ``memory``) of a structured content, else the content as JSON.
    """
    content = value.get("content", value.get("memory", value))
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        for key in ("content", "memory", "text"):
            if isinstance(content.get(key), str):
                return str(content[key])
    return json.dumps(content, ensure_ascii=False, sort_keys=True, default=str)


def _when(epoch_s: int | None) -> datetime:
    return datetime.fromtimestamp(epoch_s or 0, UTC)


class LangGraphStore(BaseStore):
    """A LangGraph ``BaseStore`` whose items are memories of a :class:`MemoryStore`.

    Args:
        store: The memory store (SQLite, MongoDB, ...).
        namespace: The namespace template, ``("memories", "{user_id}")`` by default.
        index: LangGraph's index config; its ``embed`` (an ``Embeddings`` or an
            ``init_embeddings`` id) turns on dense and hybrid ranking for ``search``.
        embeddings: The same, given directly.
        thesaurus: Related words for ``search``'s BM25, such as
            :class:`~langmem_agno.recall.thesaurus.WordNetThesaurus` (see ``MemoryRetriever``).

    Example:
        >>> from langmem_agno import SQLiteMemoryStore
        >>> lg = LangGraphStore(SQLiteMemoryStore(":memory:"))
        >>> lg.put(("memories", "u1"), "m-1", {"content": "User prefers email"})
        >>> lg.get(("memories", "u1"), "m-1").value
        {'content': 'User prefers email'}
        >>> lg.get(("memories", "u2"), "m-1") is None
        True
    """

    def __init__(
        self,
        store: MemoryStore,
        *,
        namespace: Sequence[str] = DEFAULT_NAMESPACE,
        index: IndexConfig | None = None,
        embeddings: Embeddings | str | None = None,
        thesaurus: Thesaurus | None = None,
    ) -> None:
        if not isinstance(store, MemoryStore):
            raise ConfigurationError(f"store must be a MemoryStore, got {type(store).__name__} {store!r:.80}")
        self.store = store
        self.template = NamespaceTemplate(tuple(namespace))
        embed = embeddings if embeddings is not None else (index or {}).get("embed")
        if embed is not None and not isinstance(embed, (Embeddings, str)):
            raise ConfigurationError("index['embed'] must be an Embeddings model or an init_embeddings id")
        self.embeddings = None if embed is None else embeddings_model(embed, option="embeddings")
        self.values: ValueCompanion = value_companion(store)
        # Built once: a search passes its own k, so every query shares this retriever.
        self.retriever = MemoryRetriever(store=store, embeddings=self.embeddings, thesaurus=thesaurus)

    # ------------------------------------------------------------ BaseStore
    def batch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the operations in order on the store's sync methods; results in the same order."""
        return [run_calls(self._plan(op)) for op in ops]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Async twin of :meth:`batch`, on the store's async methods."""
        return [await arun_calls(self._plan(op)) for op in ops]

    # ------------------------------------------------------------ one operation, once
    def _plan(self, op: Op) -> _Plan:
        if isinstance(op, GetOp):
            return self._get(op)
        if isinstance(op, PutOp):
            return self._put(op)
        if isinstance(op, SearchOp):
            return self._search(op)
        if isinstance(op, ListNamespacesOp):
            return self._namespaces(op)
        raise InvalidMemoryError(f"unknown store operation {type(op).__name__}")

    def _items(self, memories: Sequence[UserMemory], stored: Mapping[str, StoredValue]) -> list[Item]:
        return [
            Item(
                value=self._value(m, stored.get(m.memory_id)),
                key=m.memory_id,
                namespace=self.template.namespace(m),
                created_at=_when(m.created_at),
                updated_at=_when(m.updated_at),
            )
            for m in memories
        ]

    @staticmethod
    def _value(memory: UserMemory, stored: StoredValue | None) -> dict[str, Any]:
        if stored is not None and stored.text == memory.memory:
            return stored.value
        # Written or edited by Agno (or another writer) since: the memory text is the truth.
        return {"content": memory.memory}

    def _get(self, op: GetOp) -> _Plan:
        scope = self.template.scope(op.namespace)
        memory = yield twin(self.store.get, self.store.aget)(check_id("key", op.key), **scope.as_kwargs())
        if memory is None:
            return None
        stored = yield twin(self.values.load, self.values.aload)(scope.user_id, [memory.memory_id])
        return self._items([memory], stored)[0]

    def _put(self, op: PutOp) -> _Plan:
        scope = self.template.scope(op.namespace)
        key = check_id("key", op.key)
        if op.value is None:
            yield twin(self.store.delete, self.store.adelete)(key, **scope.as_kwargs())
            yield twin(self.values.delete, self.values.adelete)(scope.user_id, [key])
            return None
        value = _json_value(key, op.value)
        text = self.store.check_text(memory_text(value))
        # A put replaces the item: a value without topics leaves the memory with none.
        topics = normalize_topics(value["topics"]) if isinstance(value.get("topics"), list) else []
        existing = yield twin(self.store.get, self.store.aget)(key, **scope.as_kwargs())
        if existing is None:
            record = UserMemory(memory_id=key, memory=text, topics=topics or None, **scope.as_kwargs())
            yield twin(self.store.add, self.store.aadd)(record, user_id=scope.user_id)
        else:
            update = twin(self.store.update, self.store.aupdate)
            yield update(key, **scope.as_kwargs(), memory=text, topics=topics)
        yield twin(self.values.save, self.values.asave)(scope.user_id, [(key, StoredValue(text, value))])
        return None

    def _search(self, op: SearchOp) -> _Plan:
        scope = self.template.prefix_scope(op.namespace_prefix)
        wanted = op.offset + op.limit
        scores: dict[str, float | None] = {}
        if op.query and op.query.strip():
            rank = twin(self.retriever.rank, self.retriever.arank)
            # A filter applies after ranking: rank as deep as the retriever goes, then filter and page.
            k = MAX_RANKED if op.filter else min(max(wanted, 1), MAX_RANKED)
            hits = yield rank(op.query, k=k, **scope.as_kwargs())
            memories = [h.memory for h in hits]
            scores = {h.memory.memory_id: h.score for h in hits}
        else:
            limit = FILTER_SCAN_LIMIT if op.filter else wanted
            listing = twin(self.store.list_memories, self.store.alist_memories)
            page = yield listing(**scope.as_kwargs(), limit=max(limit, 1))
            memories = list(page.items)
        stored = yield twin(self.values.load, self.values.aload)(
            scope.user_id, [m.memory_id for m in memories]
        )
        items = [i for i in self._items(memories, stored) if _matches(i.value, op.filter)]
        return [
            SearchItem(i.namespace, i.key, i.value, i.created_at, i.updated_at, score=scores.get(i.key))
            for i in items[op.offset : op.offset + op.limit]
        ]

    def _namespaces(self, op: ListNamespacesOp) -> _Plan:
        conditions = op.match_conditions or ()
        prefixes = [c.path for c in conditions if c.match_type == "prefix"]
        if not prefixes:
            # Listing every namespace would list every user: ask for one user's.
            raise UnmappedNamespaceError(
                f"list_namespaces needs a prefix that names the user, fitting {self.template.parts!r}"
            )
        scope = self.template.prefix_scope(tuple(prefixes[0]))
        listing = twin(self.store.list_memories, self.store.alist_memories)
        page = yield listing(**scope.as_kwargs(), limit=FILTER_SCAN_LIMIT)
        found = sorted(ns for ns in {self.template.namespace(m) for m in page.items} if _fits(ns, conditions))
        if op.max_depth is not None:
            found = sorted({ns[: op.max_depth] for ns in found})
        return found[op.offset : op.offset + op.limit]


def _matches(value: Mapping[str, Any], wanted: Mapping[str, Any] | None) -> bool:
    """LangGraph's filter on value fields: equality, or ``{"$eq" | "$ne" | "$gt" | ...: x}``."""
    for field, condition in (wanted or {}).items():
        actual = value.get(field)
        if isinstance(condition, Mapping):
            for operator, expected in condition.items():
                if not _compare(operator, actual, expected):
                    return False
        elif actual != condition:
            return False
    return True


def _compare(operator: str, actual: Any, expected: Any) -> bool:
    if operator == "$eq":
        return bool(actual == expected)
    if operator == "$ne":
        return bool(actual != expected)
    if actual is None:
        return False
    try:
        if operator == "$gt":
            return bool(actual > expected)
        if operator == "$gte":
            return bool(actual >= expected)
        if operator == "$lt":
            return bool(actual < expected)
        if operator == "$lte":
            return bool(actual <= expected)
    except TypeError:
        return False
    raise InvalidMemoryError(f"unknown filter operator {operator!r}; use $eq, $ne, $gt, $gte, $lt or $lte")


def _fits(namespace: tuple[str, ...], conditions: Iterable[MatchCondition]) -> bool:
    """Whether ``namespace`` meets every prefix and suffix condition (``"*"`` matches any label)."""
    for condition in conditions:
        path = tuple(condition.path)
        if len(path) > len(namespace):
            return False
        part = (
            namespace[: len(path)]
            if condition.match_type == "prefix"
            else namespace[len(namespace) - len(path) :]
        )
        if any(want not in ("*", label) for want, label in zip(path, part, strict=True)):
            return False
    return True
