"""Consolidation: a user's memories folded into fewer, with one model call per batch and one write.

The flow of one optimisation (written once, as a plan of twin calls):

1. read the user's memories (oldest first, up to ``max_memories``); memories whose normalised
   text is equal (:mod:`langmem_agno.extraction.duplicates`) are folded at once, with no model;
2. split them by agent and team (a merge never moves a fact to another agent's memory), and
   each part into batches that fit ``batch_chars``; related memories (the same first topic)
   are kept in one batch where they fit;
3. make one model call per batch, with ``merge_memories`` / ``rewrite_memory`` /
   ``drop_memory`` bound; each call is checked on its own (an alias not shown, an id used
   twice, a bad text is refused with a reason) and the valid ones change the plan. With
   ``"summarize"``, a part that needed several batches gets another round over their results,
   until it is one memory (at most :data:`MAX_SUMMARY_ROUNDS` rounds);
4. unless ``preview``, write every change as one :meth:`MemoryStore.apply_changes`: all of it
   or none, recorded in the store's history with the path ``"optimization"``. A merged group
   keeps the memory created first (its id, ``created_at``, agent, team, input) with the new
   text and the union of the group's topics; the others are deleted.

The model never sees a memory id or whose memories they are: only ``[n]`` aliases of the batch
it is shown, so it cannot name another user's memory or one it was not shown.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ValidationError

from langmem_agno.checks import check_int
from langmem_agno.errors import ExtractionError, InvalidMemoryError, LangmemAgnoError
from langmem_agno.extraction.calls import acall_model, alias_of, call_model, describe_errors
from langmem_agno.extraction.duplicates import normalized_text
from langmem_agno.extraction.optimize_calls import (
    OPTIMIZE_SCHEMAS,
    OPTIMIZE_TOOL_NAMES,
    OptimizeStrategy,
    check_strategy,
    optimize_system_prompt,
)
from langmem_agno.extraction.optimize_result import OptimizationResult, OptimizedGroup
from langmem_agno.extraction.prompt import render_memory_line
from langmem_agno.extraction.proposals import RejectedCall
from langmem_agno.record import MAX_TOPIC_CHARS, MAX_TOPICS, UserMemory, normalize_topics
from langmem_agno.scope import MemoryScope, resolve_scope
from langmem_agno.stores.base import ChangeSet, MemoryPage, MemoryStore, MemoryUpdate
from langmem_agno.stores.history import recording
from langmem_agno.twins import Call, arun_calls, run_calls, twin

__all__ = [
    "DEFAULT_OPTIMIZE_BATCH_CHARS",
    "DEFAULT_OPTIMIZE_MAX_MEMORIES",
    "MAX_SUMMARY_ROUNDS",
    "Optimizing",
]

logger = logging.getLogger(__name__)

#: Most characters of memory lines shown to the model in one call.
DEFAULT_OPTIMIZE_BATCH_CHARS = 12_000
#: Most memories one optimisation reads (the oldest first).
DEFAULT_OPTIMIZE_MAX_MEMORIES = 2_000
#: Most rounds of ``"summarize"`` over the results of the previous round.
MAX_SUMMARY_ROUNDS = 3


@dataclass
class _Item:
    """One memory of the plan: its planned text, and the stored memories it stands for."""

    text: str
    sources: list[UserMemory]
    topics: list[str] = field(default_factory=list)
    changed: bool = False

    @property
    def first(self) -> UserMemory:
        """The memory kept for the group: the one created first."""
        return min(self.sources, key=lambda m: m.created_at or m.updated_at or 0)

    @property
    def part(self) -> tuple[str | None, str | None]:
        return self.sources[0].agent_id, self.sources[0].team_id


def _fold_equal(memories: Sequence[UserMemory]) -> list[_Item]:
    """One item per memory, memories of equal normalised text (of one agent and team) as one."""
    items: dict[tuple[str | None, str | None, str], _Item] = {}
    for memory in memories:
        key = (memory.agent_id, memory.team_id, normalized_text(memory.memory) or memory.memory_id)
        if key in items:
            items[key].sources.append(memory)
            items[key].changed = True
        else:
            items[key] = _Item(memory.memory, [memory])
    for item in items.values():
        item.text = item.first.memory
    return list(items.values())


def _batches(items: Sequence[_Item], budget: int, line_chars: int) -> list[list[_Item]]:
    """The items split by agent and team, then into runs of lines that fit ``budget``."""
    parts: dict[tuple[str | None, str | None], list[_Item]] = {}
    for item in items:
        parts.setdefault(item.part, []).append(item)
    batches: list[list[_Item]] = []
    for part in parts.values():
        # Related facts (the same first topic) side by side, so a batch boundary rarely splits them.
        part.sort(key=lambda i: ((i.first.topics or [""])[0], i.first.created_at or 0))
        batch: list[_Item] = []
        used = 0
        for item in part:
            size = len(render_memory_line("0000", item.text, _union_topics(item), line_chars)) + 1
            if batch and used + size > budget:
                batches.append(batch)
                batch, used = [], 0
            batch.append(item)
            used += size
        if batch:
            batches.append(batch)
    return batches


def _union_topics(item: _Item) -> list[str] | None:
    """The group's topics, every source's and the model's, within the write limits."""
    raw = [t for m in sorted(item.sources, key=lambda m: m.created_at or 0) for t in m.topics or ()]
    merged = normalize_topics([*raw, *item.topics], strict=False) or []
    kept = [t for t in merged if len(t) <= MAX_TOPIC_CHARS][:MAX_TOPICS]
    return kept or None


class _Review:
    """The check of one reply's tool calls against the batch it was shown."""

    def __init__(self, batch: list[_Item], result: OptimizationResult, check_text: Any) -> None:
        self.aliases = {str(n): item for n, item in enumerate(batch, 1)}
        self.result = result
        self.check_text = check_text
        self.touched: set[str] = set()

    def reject(self, tool: str, args: dict[str, Any], reason: str) -> None:
        self.result.rejected.append(RejectedCall(tool=tool, args=args, reason=reason))
        logger.info("memory optimisation rejected %s(%s): %s", tool, args, reason)

    def targets(self, raw_ids: Sequence[str]) -> list[_Item] | str:
        """The items the aliases name, or why they cannot be used."""
        aliases = [alias_of(r) for r in raw_ids]
        n = len(self.aliases)
        for raw, alias in zip(raw_ids, aliases, strict=True):
            if alias not in self.aliases:
                shown = "[1]" if n == 1 else f"[1] to [{n}]"
                return f"unknown memory id {raw!r}: the ids shown are {shown}"
            if alias in self.touched:
                return f"memory [{alias}] is already changed by an earlier call in this reply"
        if len(set(aliases)) != len(aliases):
            return f"a memory is named twice in {list(raw_ids)!r}"
        self.touched.update(aliases)
        return [self.aliases[a] for a in aliases]

    def apply(self, answer: AIMessage) -> tuple[list[_Item], list[_Item]]:
        """Return ``(new items, items no longer in the plan)`` for the valid calls of ``answer``."""
        names = {name: op for op, name in OPTIMIZE_TOOL_NAMES.items()}
        new: list[_Item] = []
        gone: list[_Item] = []
        for bad in answer.invalid_tool_calls:
            reason = f"arguments are not valid JSON: {bad.get('error') or 'unparseable'}"
            self.reject(bad.get("name") or "", {"raw": bad.get("args")}, reason)
        if not answer.tool_calls and not answer.invalid_tool_calls and answer.content:
            logger.info("memory optimisation: the model answered with text and no tool call")
        for call in answer.tool_calls:
            tool, args = call["name"], dict(call.get("args") or {})
            op = names.get(tool)
            if op is None:
                self.reject(tool, args, f"unknown tool {tool!r}; the tools are {', '.join(names)}")
                continue
            try:
                parsed = OPTIMIZE_SCHEMAS[op].model_validate(args)
                text = "" if op == "drop" else self.check_text(getattr(parsed, "memory", None))
                topics = normalize_topics(getattr(parsed, "topics", None)) or []
            except ValidationError as exc:
                self.reject(tool, args, describe_errors(exc))
                continue
            except InvalidMemoryError as exc:
                self.reject(tool, args, str(exc))
                continue
            ids = list(getattr(parsed, "ids", None) or [getattr(parsed, "id", "")])
            if op == "merge" and len(ids) < 2:
                self.reject(tool, args, "merge_memories needs two or more ids; use rewrite_memory for one")
                continue
            targets = self.targets(ids)
            if isinstance(targets, str):
                self.reject(tool, args, targets)
                continue
            if op == "rewrite" and text == targets[0].text:
                self.reject(tool, args, f"rewrite leaves memory [{alias_of(ids[0])}] unchanged")
                continue
            gone.extend(targets)
            if op != "drop":
                sources = [m for t in targets for m in t.sources]
                kept = [x for t in targets for x in t.topics]
                new.append(_Item(text, sources, [*kept, *topics], changed=True))
        return new, gone


class Optimizing:
    """The consolidation methods of :class:`~langmem_agno.extraction.manager.MemoryManager`.

    Mixed into the manager, whose model, store, timeout and text limit they use.
    """

    model: BaseChatModel
    store: MemoryStore
    timeout: float | None
    max_memory_chars: int

    @functools.cached_property
    def _optimize_bound(self) -> Runnable[Any, Any]:
        return self.model.bind_tools([convert_to_openai_tool(s) for s in OPTIMIZE_SCHEMAS.values()])

    def optimize(
        self,
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        strategy: OptimizeStrategy = "merge",
        preview: bool = False,
        batch_chars: int = DEFAULT_OPTIMIZE_BATCH_CHARS,
        max_memories: int = DEFAULT_OPTIMIZE_MAX_MEMORIES,
    ) -> OptimizationResult:
        """Fold a user's memories into fewer: duplicates and contradictions, or all into one.

        Args:
            user_id: Whose memories.
            agent_id: Only this agent's memories, when given.
            team_id: Only this team's memories, when given.
            strategy: ``"merge"`` folds only what repeats or contradicts and keeps distinct
                facts apart; ``"summarize"`` (Agno's strategy) folds all of an agent's and
                team's memories into one.
            preview: Plan the changes and return them without writing anything.
            batch_chars: Most characters of memories shown to the model in one call.
            max_memories: Most memories read (the oldest first); any others are left as they
                are, and not counted in the result.

        Returns:
            The changes, before and after, and the counts.

        Raises:
            InvalidMemoryError: If an argument is not valid.
            ExtractionError: If the model fails or times out (nothing is written then).
            StoreUnavailableError: If the database cannot be reached.
        """
        return run_calls(
            self._optimize_plan(user_id, agent_id, team_id, strategy, preview, batch_chars, max_memories)
        )

    async def aoptimize(
        self,
        *,
        user_id: str,
        agent_id: str | None = None,
        team_id: str | None = None,
        strategy: OptimizeStrategy = "merge",
        preview: bool = False,
        batch_chars: int = DEFAULT_OPTIMIZE_BATCH_CHARS,
        max_memories: int = DEFAULT_OPTIMIZE_MAX_MEMORIES,
    ) -> OptimizationResult:
        """Async twin of :meth:`optimize`."""
        plan = self._optimize_plan(user_id, agent_id, team_id, strategy, preview, batch_chars, max_memories)
        return await arun_calls(plan)

    def _optimize_plan(
        self,
        user_id: str,
        agent_id: str | None,
        team_id: str | None,
        strategy: str,
        preview: bool,
        batch_chars: int,
        max_memories: int,
    ) -> Generator[Call[Any], Any, OptimizationResult]:
        scope = resolve_scope(None, user_id=user_id, agent_id=agent_id, team_id=team_id, where="optimize")
        chosen = check_strategy(strategy)
        check_int("batch_chars", batch_chars, minimum=200, error=InvalidMemoryError)
        check_int("max_memories", max_memories, minimum=1, error=InvalidMemoryError)
        result = OptimizationResult(user_id=scope.user_id, strategy=chosen, preview=bool(preview))
        store = self.store
        page: MemoryPage = yield twin(store.list_memories, store.alist_memories)(
            **scope.as_kwargs(), limit=max_memories, sort="asc"
        )
        before = page.items
        items = _fold_equal(before)
        check = functools.partial(store.check_text, max_chars=self.max_memory_chars)
        for _ in range(MAX_SUMMARY_ROUNDS):
            count = len(items)
            batches = _batches(items, batch_chars, self.max_memory_chars)
            for number, batch in enumerate(batches, 1):
                if len(batch) < 2:
                    continue  # one memory alone has nothing to fold with
                answer = yield from self._ask(scope, chosen, batch, f"batch {number} of {len(batches)}")
                result.model_calls += 1
                new, gone = _Review(batch, result, check).apply(answer)
                dropped = {id(i) for i in gone}
                items = [i for i in items if id(i) not in dropped] + new
            # Another round only folds what several batches of one part left apart, and only
            # while the rounds make progress.
            parts = {i.part for i in items}
            if chosen == "merge" or len(batches) <= len(parts) or len(items) in (len(parts), count):
                break
        groups, updates, deletes = _changes(before, items)
        result.groups = groups
        after = _after(before, items)
        if groups and not preview:
            try:
                # The context variable stays set while the write runs (this plan is suspended
                # inside the block), so the store's history names the path.
                with recording("optimization"):
                    changes: ChangeSet = yield twin(store.apply_changes, store.aapply_changes)(
                        **scope.as_kwargs(), updates=updates, deletes=deletes, before=before
                    )
            except LangmemAgnoError:
                raise
            except Exception as exc:
                # A database error the store lets through (a trigger refusing): one write, so none landed.
                raise ExtractionError(
                    f"memory optimisation for user {scope.user_id!r} failed writing its changes: {exc}"
                ) from exc
            result.applied = True
            _stored(result, changes, after)
        result.memories = sorted(after, key=lambda m: m.created_at or 0)
        result.count(before, result.memories)
        logger.info(
            "memory optimisation (%s) for user %r: %d memories -> %d, %d characters -> %d%s",
            chosen,
            scope.user_id,
            result.memories_before,
            result.memories_after,
            result.chars_before,
            result.chars_after,
            " (preview)" if preview else "",
        )
        return result

    def _ask(
        self, scope: MemoryScope, strategy: OptimizeStrategy, batch: list[_Item], which: str
    ) -> Generator[Call[Any], Any, AIMessage]:
        """One model call over ``batch``; a failure is an :class:`ExtractionError` (nothing is written)."""
        # Oldest first, as the prompt says, so "the most recent fact" is the last one; the
        # batch is put in that order because the aliases are its positions.
        batch.sort(key=lambda i: i.first.created_at or 0)
        lines = [
            render_memory_line(str(n), item.text, _union_topics(item), self.max_memory_chars)
            for n, item in enumerate(batch, 1)
        ]
        prompt = [
            SystemMessage(optimize_system_prompt(strategy, "\n".join(lines), self.max_memory_chars)),
            HumanMessage(f"Tidy these {len(batch)} memories."),
        ]
        try:
            answer: AIMessage = yield twin(call_model, acall_model)(
                self._optimize_bound, prompt, self.timeout
            )
        except Exception as exc:
            raise ExtractionError(
                f"memory optimisation for user {scope.user_id!r} failed calling the model ({which}): {exc}"
            ) from exc
        return answer


def _changes(
    before: Sequence[UserMemory], items: Sequence[_Item]
) -> tuple[list[OptimizedGroup], list[MemoryUpdate], list[str]]:
    """The plan as groups to report and as one change set: an update of each kept memory, deletes."""
    groups: list[OptimizedGroup] = []
    updates: list[MemoryUpdate] = []
    deletes: list[str] = []
    remaining: set[str] = set()
    for item in items:
        remaining.update(m.memory_id for m in item.sources)
        if not item.changed:
            continue
        kept = item.first
        others = [m for m in item.sources if m.memory_id != kept.memory_id]
        topics = _union_topics(item)
        after = kept.model_copy(update={"memory": item.text, "topics": topics})
        groups.append(OptimizedGroup("merge" if others else "rewrite", [kept, *others], after))
        updates.append(MemoryUpdate(kept.memory_id, memory=item.text, topics=topics or []))
        deletes.extend(m.memory_id for m in others)
    dropped = [m for m in before if m.memory_id not in remaining]
    if dropped:
        groups.append(OptimizedGroup("drop", dropped, None))
        deletes.extend(m.memory_id for m in dropped)
    return groups, updates, deletes


def _after(before: Sequence[UserMemory], items: Sequence[_Item]) -> list[UserMemory]:
    """The memories the plan leaves: the unchanged ones, and each kept one with its new text."""
    return [
        item.first.model_copy(update={"memory": item.text, "topics": _union_topics(item)})
        if item.changed
        else item.first
        for item in items
    ]


def _stored(result: OptimizationResult, changes: ChangeSet, after: list[UserMemory]) -> None:
    """Put the memories as stored into the result; note the ones another writer removed meanwhile."""
    stored = {m.memory_id: m for m in changes.updated}
    after[:] = [stored.get(m.memory_id, m) for m in after if m.memory_id not in changes.missing_updates]
    result.groups = [
        dataclasses.replace(g, after=stored[g.after.memory_id])
        if g.after is not None and g.after.memory_id in stored
        else g
        for g in result.groups
    ]
    for memory_id in [*changes.missing_updates, *changes.missing_deletes]:
        result.rejected.append(
            RejectedCall(
                tool="apply_changes",
                args={"memory_id": memory_id},
                reason=f"memory {memory_id} was deleted by another writer before the change was written",
            )
        )
