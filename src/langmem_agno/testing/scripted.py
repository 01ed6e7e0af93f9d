"""A scripted chat model: real LangChain message types, no network.

Demos, notebooks and tests run without an API key by plugging this in where a
user would plug ``init_chat_model("openai:gpt-4o-mini")``. It answers with the
``AIMessage`` (tool calls included) that a script gives for the conversation it
receives, and records every call, so a test can count model calls and see the
exact prompt the model got. The code paths it exercises are the ones a real
tool-calling model takes: ``bind_tools``, ``invoke``/``ainvoke``, tool calls.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

__all__ = ["Responder", "ScriptedChatModel"]

Responder = Callable[[list[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    """A chat model whose answers come from a script, for demos and tests.

    Give either ``responses`` (answered in order; the last one repeats) or a
    ``responder`` function that turns the messages it receives into an
    ``AIMessage``. Every call's input is kept in :attr:`calls`.

    Args:
        responses: Fixed answers, in order.
        responder: A function from the input messages to the answer.
        error: If set, every call raises it (to test model failures).

    Example:
        >>> from langchain_core.messages import AIMessage
        >>> model = ScriptedChatModel(responses=[AIMessage("hi")])
        >>> model.invoke("hello").content
        'hi'
        >>> len(model.calls)
        1
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    responses: list[AIMessage] = Field(default_factory=list)
    responder: Responder | None = None
    error: BaseException | None = None
    _calls: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _tool_names: list[list[str]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def calls(self) -> list[list[BaseMessage]]:
        """The messages of every call so far, oldest first."""
        return self._calls

    @property
    def bound_tool_names(self) -> list[list[str]]:
        """The tool names of every ``bind_tools`` call so far."""
        return self._tool_names

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self,
        tools: Sequence[Any],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools the way provider models do: converted to OpenAI tool schemas."""
        schemas = [convert_to_openai_tool(t) for t in tools]
        with self._lock:
            self._tool_names.append([s["function"]["name"] for s in schemas])
        if tool_choice is not None:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=schemas, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        with self._lock:
            index = len(self._calls)
            self._calls.append(list(messages))
        if self.error is not None:
            raise self.error
        if self.responder is not None:
            message = self.responder(list(messages))
        elif self.responses:
            message = self.responses[min(index, len(self.responses) - 1)]
        else:
            message = AIMessage(content="")
        return ChatResult(generations=[ChatGeneration(message=message)])
