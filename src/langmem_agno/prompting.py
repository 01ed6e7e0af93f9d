"""Putting memories into the system prompt, within a budget.

:func:`render_memories` writes the block Agno writes (its wording and its
``<memories_from_previous_interactions>`` tag by default) but never longer than
``max_chars`` and never more than ``max_memories`` entries: Agno pastes every
memory of the user into every prompt. :func:`memory_block` /
:func:`amemory_block` go from a conversation to that block in one call; the
factories below plug it into LangGraph's prebuilt agent and into a hand-written
``StateGraph``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.messages import AnyMessage, BaseMessage, HumanMessage, RemoveMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.graph.message import REMOVE_ALL_MESSAGES

from langmem_agno.checks import check_int
from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.recall import MemoryRetriever
from langmem_agno.record import UserMemory
from langmem_agno.stores.base import ScoredMemory

DEFAULT_TAG = "memories_from_previous_interactions"
DEFAULT_HEADER = (
    "You have access to user info and preferences from previous interactions "
    "that you can use to personalize your response:"
)
DEFAULT_FOOTER = (
    "Note: this information is from previous interactions and may be updated in this conversation. "
    "You should always prefer information from this conversation over the past memories."
)
DEFAULT_MAX_MEMORIES = 10
DEFAULT_MAX_CHARS = 2_000
#: The id of the system message the graph node keeps at the head of the conversation.
MEMORY_MESSAGE_ID = "langmem_agno_memories"
_ELLIPSIS = "…"
#: A memory cut shorter than this says too little to be worth its line.
_MIN_TRUNCATED = 24
_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")

MemoryLike = UserMemory | ScoredMemory | Document | str


def _text(item: MemoryLike) -> str:
    if isinstance(item, ScoredMemory):
        return item.memory.memory
    if isinstance(item, UserMemory):
        return item.memory
    if isinstance(item, Document):
        return item.page_content
    if isinstance(item, str):
        return item
    raise InvalidMemoryError(f"cannot render {type(item).__name__} {item!r:.80} as a memory")


def render_memories(
    memories: Sequence[MemoryLike],
    *,
    max_memories: int = DEFAULT_MAX_MEMORIES,
    max_chars: int = DEFAULT_MAX_CHARS,
    tag: str = DEFAULT_TAG,
    header: str = DEFAULT_HEADER,
    footer: str = DEFAULT_FOOTER,
) -> str:
    """Render memories as a system-prompt block of at most ``max_chars`` characters.

    Memories are taken in the order given (best first) as ``- text`` lines
    inside ``<tag>...</tag>``, after ``header`` and before ``footer``. Each text
    is put on one line, and anything in it that looks like the tag is removed,
    so a memory cannot close the block early. When the next memory does not fit,
    it is cut with an ellipsis if enough room is left, and the list ends. When
    even the frame does not fit, the footer and then the header are dropped.

    Args:
        memories: Memories, hits, retriever documents or plain texts, best first.
        max_memories: The most entries to include.
        max_chars: The hard limit on the block's length.
        tag: The XML-like tag around the list.
        header: Text before the list ("" for none).
        footer: Text after the list ("" for none).

    Returns:
        The block, or ``""`` when there is nothing to show or no room to show it.

    Raises:
        ConfigurationError: If a limit is not a positive integer or the tag is not a plain name.

    Example:
        >>> print(render_memories(["Sarah prefers email"], header="Known:", footer=""))
        Known:
        <BLANKLINE>
        <memories_from_previous_interactions>
        - Sarah prefers email
        </memories_from_previous_interactions>
    """
    check_int("max_memories", max_memories)
    check_int("max_chars", max_chars)
    if not _TAG.match(tag):
        raise ConfigurationError(f"tag must be a plain name like {DEFAULT_TAG!r}, got {tag!r}")
    strip_tag = re.compile(rf"</?\s*{re.escape(tag)}\s*>?", re.IGNORECASE)
    lines = [line for line in (" ".join(strip_tag.sub("", _text(m)).split()) for m in memories) if line]
    lines = lines[:max_memories]
    if not lines:
        return ""
    full_head = f"{header}\n\n" if header else ""
    full_tail = f"\n\n{footer}" if footer else ""
    frame = len(f"<{tag}>\n</{tag}>")
    # The richest frame that still leaves room for the first memory: all, no footer, bare.
    for head, tail in ((full_head, full_tail), (full_head, ""), ("", "")):
        room = max_chars - len(head) - frame - len(tail)
        if room >= len("\n- ") + min(len(lines[0]), _MIN_TRUNCATED):
            break
    else:
        return ""
    body: list[str] = []
    for line in lines:
        entry = f"\n- {line}"
        if len(entry) <= room:
            body.append(entry)
            room -= len(entry)
            continue
        keep = room - len("\n- ") - len(_ELLIPSIS)
        if keep >= _MIN_TRUNCATED:
            body.append(f"\n- {line[:keep].rstrip()}{_ELLIPSIS}")
        break
    if not body:
        return ""
    return f"{head}<{tag}>{''.join(body)}\n</{tag}>{tail}"


def message_text(message: BaseMessage) -> str:
    """Return the plain text of a message (string content, or the text parts of content blocks)."""
    return message.text if isinstance(message.text, str) else str(message.text)


def turn_query(messages: Sequence[BaseMessage]) -> str:
    """Return what to search memories for this turn: the text of the last human message."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message_text(message)
    return ""


class MemoryInjector:
    """From a conversation to the memory block of its system prompt, sync and async.

    Args:
        retriever: Ranks the user's memories for the turn.
        max_memories: The most memories to show.
        max_chars: The block's hard length limit.
        tag: The tag around the list.
        header: Text before the list.
        footer: Text after the list.
        system_prompt: The agent's own instructions, placed before the block.
    """

    def __init__(
        self,
        retriever: MemoryRetriever,
        *,
        max_memories: int = DEFAULT_MAX_MEMORIES,
        max_chars: int = DEFAULT_MAX_CHARS,
        tag: str = DEFAULT_TAG,
        header: str = DEFAULT_HEADER,
        footer: str = DEFAULT_FOOTER,
        system_prompt: str | None = None,
    ) -> None:
        self.retriever = retriever
        self.render_options: dict[str, Any] = {
            "max_memories": max_memories,
            "max_chars": max_chars,
            "tag": tag,
            "header": header,
            "footer": footer,
        }
        render_memories(["check"], **self.render_options)  # bad limits fail now, not on the first turn
        self.system_prompt = system_prompt

    def block(
        self, messages: Sequence[BaseMessage], config: RunnableConfig | None = None, **scope: str
    ) -> str:
        """Return the memory block for this turn ("" when nothing relevant is stored).

        Args:
            messages: The conversation so far; the last human message is the query.
            config: The run's config (the user comes from it or from ``scope``).
            **scope: Explicit ``user_id``/``agent_id``/``team_id``.
        """
        query = turn_query(messages)
        if not query.strip() and not self.retriever.fill_with_recent:
            return ""
        hits = self.retriever.rank(query, config=config, k=self.render_options["max_memories"], **scope)
        return render_memories(hits, **self.render_options)

    async def ablock(
        self, messages: Sequence[BaseMessage], config: RunnableConfig | None = None, **scope: str
    ) -> str:
        """Async twin of :meth:`block`."""
        query = turn_query(messages)
        if not query.strip() and not self.retriever.fill_with_recent:
            return ""
        hits = await self.retriever.arank(
            query, config=config, k=self.render_options["max_memories"], **scope
        )
        return render_memories(hits, **self.render_options)

    def system_message(self, block: str) -> SystemMessage | None:
        """Join the agent's instructions and the block into one system message (``None`` if both empty)."""
        content = "\n\n".join(p for p in (self.system_prompt, block) if p)
        return SystemMessage(content=content, id=MEMORY_MESSAGE_ID) if content else None

    # ------------------------------------------------------------ prebuilt agent prompt
    def _prompt(self, messages: list[AnyMessage], block: str) -> list[AnyMessage]:
        system = self.system_message(block)
        return [system, *messages] if system is not None else list(messages)

    def as_prompt(self) -> Runnable[Mapping[str, Any], list[AnyMessage]]:
        """Return a ``prompt`` for ``langgraph.prebuilt.create_react_agent``: memories, then the chat."""

        def prompt(state: Mapping[str, Any], config: RunnableConfig) -> list[AnyMessage]:
            messages = _messages(state)
            return self._prompt(messages, self.block(messages, config))

        async def aprompt(state: Mapping[str, Any], config: RunnableConfig) -> list[AnyMessage]:
            messages = _messages(state)
            return self._prompt(messages, await self.ablock(messages, config))

        return RunnableLambda(prompt, afunc=aprompt, name="memory_prompt")

    # ------------------------------------------------------------ StateGraph node
    def _update(self, messages: list[AnyMessage], block: str) -> dict[str, list[BaseMessage]]:
        system = self.system_message(block)
        has_ours = bool(messages) and messages[0].id == MEMORY_MESSAGE_ID
        if system is None:
            return {"messages": [RemoveMessage(id=MEMORY_MESSAGE_ID)] if has_ours else []}
        if has_ours:
            # add_messages replaces a message with the same id in place: the head stays the head.
            return {"messages": [system]}
        rest = [m for m in messages if m.id != MEMORY_MESSAGE_ID]
        return {"messages": [RemoveMessage(id=REMOVE_ALL_MESSAGES), system, *rest]}

    def as_node(self) -> Runnable[Mapping[str, Any], dict[str, list[BaseMessage]]]:
        """Return a ``StateGraph`` node that puts this turn's memories in a system message at the head.

        The graph's state needs a ``messages`` key with LangGraph's ``add_messages``
        reducer (``MessagesState``). The message has a fixed id, so running the
        node every turn updates one message instead of piling them up.
        """

        def node(state: Mapping[str, Any], config: RunnableConfig) -> dict[str, list[BaseMessage]]:
            messages = _messages(state)
            return self._update(messages, self.block(messages, config))

        async def anode(state: Mapping[str, Any], config: RunnableConfig) -> dict[str, list[BaseMessage]]:
            messages = _messages(state)
            return self._update(messages, await self.ablock(messages, config))

        return RunnableLambda(node, afunc=anode, name="inject_memories")


def _messages(state: Mapping[str, Any] | Any) -> list[AnyMessage]:
    messages = state.get("messages") if isinstance(state, Mapping) else getattr(state, "messages", None)
    if messages is None:
        raise InvalidMemoryError("the graph state has no 'messages' key: use MessagesState or add one")
    return list(messages)


def create_memory_prompt(
    retriever: MemoryRetriever, *, system_prompt: str | None = None, **options: Any
) -> Runnable[Mapping[str, Any], list[AnyMessage]]:
    """Build the ``prompt`` of ``create_react_agent(model, tools, prompt=...)`` with this turn's memories.

    Args:
        retriever: Ranks the user's memories; the user comes from the run's config or context.
        system_prompt: The agent's own instructions, placed before the memories.
        **options: ``max_memories``, ``max_chars``, ``tag``, ``header``, ``footer``
            (see :func:`render_memories`).
    """
    return MemoryInjector(retriever, system_prompt=system_prompt, **options).as_prompt()


def create_memory_injection_node(
    retriever: MemoryRetriever, *, system_prompt: str | None = None, **options: Any
) -> Runnable[Mapping[str, Any], dict[str, list[BaseMessage]]]:
    """Build a ``StateGraph`` node that keeps this turn's memories in a system message at the head.

    Args:
        retriever: Ranks the user's memories; the user comes from the run's config or context.
        system_prompt: The agent's own instructions, placed before the memories.
        **options: ``max_memories``, ``max_chars``, ``tag``, ``header``, ``footer``
            (see :func:`render_memories`).
    """
    return MemoryInjector(retriever, system_prompt=system_prompt, **options).as_node()
