"""Recalled memories in an agent's system prompt: for a conversation, a prebuilt agent, a graph.

:class:`MemoryInjector` goes from a conversation to the memory block in one call
(:meth:`~MemoryInjector.block` / :meth:`~MemoryInjector.ablock`);
:func:`create_memory_prompt` plugs it into LangGraph's prebuilt agent and
:func:`create_memory_injection_node` into a hand-written ``StateGraph``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AnyMessage, BaseMessage, RemoveMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda
from langgraph.graph.message import REMOVE_ALL_MESSAGES

from langmem_agno.errors import ConfigurationError, InvalidMemoryError
from langmem_agno.recall.render import (
    DEFAULT_FOOTER,
    DEFAULT_HEADER,
    DEFAULT_MAX_CHARS,
    DEFAULT_MAX_MEMORIES,
    DEFAULT_TAG,
    render_memories,
)
from langmem_agno.recall.retriever import MemoryRetriever
from langmem_agno.recall.text import turn_query

__all__ = ["MEMORY_MESSAGE_ID", "MemoryInjector", "create_memory_injection_node", "create_memory_prompt"]

#: The id of the system message the graph node keeps at the head of the conversation.
MEMORY_MESSAGE_ID = "langmem_agno_memories"


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
        adaptive: When the user's memories fit the budget, show all of them (the relevant
            ones first), as Agno does; otherwise the relevant ones, then the newest up to the
            budget. ``False`` shows only what the retriever ranks.
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
        adaptive: bool = True,
    ) -> None:
        if not isinstance(adaptive, bool):
            raise ConfigurationError(f"adaptive must be True or False, got {adaptive!r}")
        self.retriever = retriever
        self.adaptive = adaptive
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
        limit = self.render_options["max_memories"]
        if self.adaptive:
            hits = self.retriever.rank_for_block(query, limit=limit, config=config, **scope)
        elif query.strip() or self.retriever.fill_with_recent:
            hits = self.retriever.rank(query, config=config, k=limit, **scope)
        else:
            return ""
        return render_memories(hits, **self.render_options)

    async def ablock(
        self, messages: Sequence[BaseMessage], config: RunnableConfig | None = None, **scope: str
    ) -> str:
        """Async twin of :meth:`block`."""
        query = turn_query(messages)
        limit = self.render_options["max_memories"]
        if self.adaptive:
            hits = await self.retriever.arank_for_block(query, limit=limit, config=config, **scope)
        elif query.strip() or self.retriever.fill_with_recent:
            hits = await self.retriever.arank(query, config=config, k=limit, **scope)
        else:
            return ""
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
            (see :func:`render_memories`), ``adaptive`` (see :class:`MemoryInjector`).
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
            (see :func:`render_memories`), ``adaptive`` (see :class:`MemoryInjector`).
    """
    return MemoryInjector(retriever, system_prompt=system_prompt, **options).as_node()
