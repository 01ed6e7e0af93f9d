"""What an extraction decides: the model's proposals checked one by one, and the result reported.

Every tool call is validated on its own, so one bad call is rejected with a reason
while the valid rest is applied; the ids of added memories are derived from what
was read, so a retried extraction never adds a memory twice.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage
from pydantic import ValidationError

from langmem_agno.errors import InvalidMemoryError, MemoryNotFoundError
from langmem_agno.extraction.calls import SCHEMAS, TOOL_NAMES, alias_of, describe_errors
from langmem_agno.extraction.duplicates import (
    DUPLICATE_SEARCH_LIMIT,
    duplicate_in,
    duplicate_query,
    find_duplicate,
    normalized_text,
)
from langmem_agno.record import UserMemory, normalize_topics
from langmem_agno.scope import MemoryScope
from langmem_agno.stores.base import MemoryStore, ScoredMemory
from langmem_agno.stores.mongo_turn import TurnReads
from langmem_agno.twins import Call, twin

__all__ = [
    "ChangePlan",
    "ExtractionResult",
    "Prepared",
    "RejectedCall",
    "drop_stored_duplicates",
    "extraction_memory_id",
    "gone_call",
    "review_calls",
]

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Logged under the manager's name, as before this module existed.
logger = logging.getLogger("langmem_agno.extraction")
# Namespace of the ids of extracted memories (see extraction_memory_id); never change it, or
# a retry after an upgrade would no longer recognise what the first attempt stored.
_EXTRACTION_ID_NAMESPACE = uuid.UUID("5b0e6f7c-2f3a-4d7e-9a51-6c1d2e8f4b90")


@dataclass(frozen=True)
class RejectedCall:
    """A tool call that was not applied, and why.

    Attributes:
        tool: The tool name the model called.
        args: The arguments it gave.
        reason: Why the call was rejected.
        duplicate_of: The id of the stored memory an add repeats, when that is why.
    """

    tool: str
    args: dict[str, Any]
    reason: str
    duplicate_of: str | None = None


@dataclass
class ExtractionResult:
    """What one extraction changed.

    Attributes:
        user_id: Whose memories were considered.
        added: Memories created, as stored.
        updated: Memories changed, as stored after the change.
        deleted: Memories deleted, as they were before.
        rejected: Tool calls not applied, each with its reason.
        error: The model or store failure, when the extraction did not complete.
        model_called: Whether the model was called (not when there was nothing new).
        shown_memories: How many existing memories the model was shown.
    """

    user_id: str
    added: list[UserMemory] = field(default_factory=list)
    updated: list[UserMemory] = field(default_factory=list)
    deleted: list[UserMemory] = field(default_factory=list)
    rejected: list[RejectedCall] = field(default_factory=list)
    error: BaseException | None = None
    model_called: bool = False
    shown_memories: int = 0

    @property
    def changed(self) -> bool:
        """Whether any memory was added, updated or deleted."""
        return bool(self.added or self.updated or self.deleted)

    @property
    def ok(self) -> bool:
        """Whether the extraction completed without a model or store failure."""
        return self.error is None


@dataclass
class ChangePlan:
    """Validated changes, ready to write."""

    adds: list[UserMemory] = field(default_factory=list)
    updates: list[tuple[UserMemory, str, list[str] | None]] = field(default_factory=list)
    deletes: list[UserMemory] = field(default_factory=list)


@dataclass
class Prepared:
    """What one extraction showed the model and read: the prompt, the memories by alias, the source."""

    scope: MemoryScope
    prompt: list[BaseMessage]
    aliases: dict[str, UserMemory]
    input_text: str
    source: str = ""


def extraction_memory_id(scope: MemoryScope, source: str, text: str) -> str:
    """Return the id of a memory an extraction adds: the same inputs always give the same id.

    A retried extraction (after a store failure part-way, a crash, a redelivered
    background job) then adds under the ids of the first attempt, and the store's
    insert-if-absent makes the repeated adds no-ops instead of duplicates.

    Args:
        scope: Whose memory it is.
        source: What the extraction read (its messages, with their ids when they have them).
        text: The memory text.

    Returns:
        A ``str(UUID)``, the id format Agno uses.
    """
    key = json.dumps([scope.user_id, scope.agent_id, scope.team_id, source, text], ensure_ascii=False)
    # uuid5 hashes the key's UTF-8 bytes: a lone surrogate in the messages (a broken emoji
    # escape) has none, so it is replaced; every valid key, so every id made so far, is unchanged.
    return str(uuid.uuid5(_EXTRACTION_ID_NAMESPACE, _LONE_SURROGATE.sub("\ufffd", key)))


def review_calls(
    answer: AIMessage,
    prepared: Prepared,
    result: ExtractionResult,
    *,
    operations: Sequence[str],
    check_text: Callable[[object], str],
    redact: Callable[[str], str],
) -> ChangePlan:
    """Validate every tool call on its own; collect the valid ones, reject the rest with a reason.

    Args:
        answer: The model's reply.
        prepared: What the model was shown (the aliases of the memories) and read.
            Its ``input_text``, stored as the ``input`` of every add and update, is
            replaced by its redacted form.
        result: Where rejections are recorded.
        operations: The operations the model may use.
        check_text: The store's check of memory text (length, secrets).
        redact: The store's redaction of secrets (``store.redact``), applied to the stored input.

    Returns:
        The valid changes, ready to write in one change set.
    """
    # The user's message is kept beside each memory as its input: the password whose memory
    # the filter refuses must not be stored there instead, nor a character no database takes.
    prepared.input_text = redact(prepared.input_text)
    plan = ChangePlan()
    touched: set[str] = set()
    shown_texts = {normalized_text(m.memory): a for a, m in prepared.aliases.items()}
    added_texts: set[str] = set()
    names = {TOOL_NAMES[op]: op for op in operations}
    for bad in answer.invalid_tool_calls:
        result.rejected.append(
            RejectedCall(
                tool=bad.get("name") or "",
                args={"raw": bad.get("args")},
                reason=f"arguments are not valid JSON: {bad.get('error') or 'unparseable'}",
            )
        )
    for call in answer.tool_calls:
        tool, args = call["name"], dict(call.get("args") or {})

        def reject(
            reason: str, tool: str = tool, args: dict[str, Any] = args, duplicate_of: str | None = None
        ) -> None:
            result.rejected.append(RejectedCall(tool, args, reason, duplicate_of))

        op = names.get(tool)
        if op is None:
            known = ", ".join(names)
            reject(f"unknown or disabled tool {tool!r}; the tools are {known}")
            continue
        try:
            parsed = SCHEMAS[op].model_validate(args)
        except ValidationError as exc:
            reject(describe_errors(exc))
            continue
        try:
            text = ""
            if op != "delete":
                # The store's own checks (secrets) run here, per call, so one
                # bad call is rejected alone instead of failing the batch write.
                text = check_text(getattr(parsed, "memory", None))
            topics = normalize_topics(getattr(parsed, "topics", None))
        except InvalidMemoryError as exc:
            reject(str(exc))
            continue
        if op == "add":
            key = normalized_text(text)
            if key in shown_texts:
                same = prepared.aliases[shown_texts[key]]
                reject(f"duplicate of existing memory [{shown_texts[key]}]", duplicate_of=same.memory_id)
                continue
            if key in added_texts:
                reject("duplicate of an earlier add_memory call in this reply")
                continue
            added_texts.add(key)
            plan.adds.append(
                UserMemory(
                    memory_id=extraction_memory_id(prepared.scope, prepared.source, text),
                    memory=text,
                    topics=topics,
                    input=prepared.input_text or None,
                    user_id=prepared.scope.user_id,
                    agent_id=prepared.scope.agent_id,
                    team_id=prepared.scope.team_id,
                )
            )
            continue
        alias = alias_of(getattr(parsed, "id", ""))
        target = prepared.aliases.get(alias)
        if target is None:
            n = len(prepared.aliases)
            shown = "none were shown" if n == 0 else "[1]" if n == 1 else f"[1] to [{n}]"
            reject(f"unknown memory id {getattr(parsed, 'id', '')!r}: the ids shown are {shown}")
            continue
        if alias in touched:
            reject(f"memory [{alias}] was already changed by an earlier call in this reply")
            continue
        touched.add(alias)
        if op == "delete":
            plan.deletes.append(target)
        elif text == target.memory and (topics is None or topics == target.topics):
            reject(f"update leaves memory [{alias}] unchanged")
        else:
            plan.updates.append((target, text, topics))
    for rej in result.rejected:
        logger.info("memory extraction rejected %s(%s): %s", rej.tool, rej.args, rej.reason)
    return plan


def drop_stored_duplicates(
    store: MemoryStore, plan: ChangePlan, owner: dict[str, Any], result: ExtractionResult
) -> Generator[Call[Any], Any, None]:
    """Take out of ``plan`` the adds whose text the user already has stored, as a plan of store reads.

    The model saw only some of the user's memories, so an add it thought new may repeat one it
    was not shown: each add is looked up (one bounded word search each), and a repeat is rejected
    with the id it duplicates. An add whose stored duplicate has the add's own id is the retry of
    an extraction that already wrote it: it stays, and the store's insert-if-absent returns it.

    Args:
        store: Where the memories live.
        plan: The validated changes; its adds are filtered in place.
        owner: The store filter of the memories compared with (the extraction's scope).
        result: Where the rejections are recorded.
    """
    found: list[UserMemory | None] = []
    if isinstance(store, TurnReads) and len(plan.adds) > 1:
        # The lookups of several adds in one read where the store has one (MongoDB: one aggregate).
        queries = [duplicate_query(add.memory) for add in plan.adds]
        each = twin(store.search_each, store.asearch_each)
        hits: list[list[ScoredMemory]] = yield each(queries, **owner, limit=DUPLICATE_SEARCH_LIMIT)
        found = [
            duplicate_in(a.memory, (h.memory for h in mine)) for a, mine in zip(plan.adds, hits, strict=True)
        ]
    else:
        for add in plan.adds:
            found.append((yield from find_duplicate(store, add.memory, owner)))
    kept: list[UserMemory] = []
    for add, existing in zip(plan.adds, found, strict=True):
        if existing is None or existing.memory_id == add.memory_id:
            kept.append(add)
            continue
        rejected = RejectedCall(
            tool=TOOL_NAMES["add"],
            args={"memory": add.memory, "topics": add.topics},
            reason=f"duplicate of stored memory {existing.memory_id}",
            duplicate_of=existing.memory_id,
        )
        result.rejected.append(rejected)
        logger.info("memory extraction rejected add_memory(%r): %s", add.memory, rejected.reason)
    plan.adds = kept


def gone_call(tool: str, exc: MemoryNotFoundError) -> RejectedCall:
    """The rejection of a change to a memory another writer deleted after it was shown to the model."""
    return RejectedCall(tool=tool, args={"memory_id": exc.memory_id}, reason=str(exc))
