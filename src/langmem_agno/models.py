"""Chat and embeddings models named the way LangChain names them.

Every place that takes a model also takes its ``init_chat_model`` / ``init_embeddings``
id (``"openai:gpt-4o-mini"``, ``"openai:text-embedding-3-small"``), so one way of naming
a model works across the library. A provider whose package is not installed is one
:class:`ConfigurationError` that names the package to install.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel

from langmem_agno.errors import ConfigurationError

__all__ = ["chat_model", "embeddings_model"]

T = TypeVar("T")


def chat_model(model: BaseChatModel | str, *, option: str = "model") -> BaseChatModel:
    """Return ``model``, or the chat model its ``init_chat_model`` id names.

    Args:
        model: A chat model, or an id such as ``"openai:gpt-4o-mini"``.
        option: The argument's name, for the error message.

    Returns:
        The chat model.

    Raises:
        ConfigurationError: If ``model`` is neither, names an unknown provider, or its
            provider package is not installed.
    """
    if isinstance(model, BaseChatModel):
        return model
    # Imported here, not at module level: `langchain` loads its agent machinery, which
    # the command line and the stores never need.
    from langchain.chat_models import init_chat_model

    return _from_id(model, init_chat_model, option, "a chat model")


def embeddings_model(embeddings: Embeddings | str, *, option: str = "embeddings") -> Embeddings:
    """Return ``embeddings``, or the embeddings model its ``init_embeddings`` id names.

    Args:
        embeddings: An embeddings model, or an id such as ``"openai:text-embedding-3-small"``.
        option: The argument's name, for the error message.

    Returns:
        The embeddings model.

    Raises:
        ConfigurationError: If ``embeddings`` is neither, names an unknown provider, or its
            provider package is not installed.
    """
    if isinstance(embeddings, Embeddings):
        return embeddings
    from langchain.embeddings import init_embeddings

    return _from_id(embeddings, init_embeddings, option, "an Embeddings model")


def _from_id(model: object, factory: Callable[[str], T], option: str, kind: str) -> T:
    if not isinstance(model, str):
        raise ConfigurationError(
            f"{option} must be {kind} or a model id string, got {type(model).__name__} {model!r:.80}"
        )
    try:
        return factory(model)
    except ImportError as exc:
        raise _missing_provider(option, model, exc) from exc
    except ValueError as exc:
        raise ConfigurationError(f"cannot use {option}={model!r}: {_one_line(exc)}") from exc


def _missing_provider(option: str, model: str, exc: ImportError) -> ConfigurationError:
    module = (exc.name or "").split(".")[0]
    if module.startswith("langchain_"):
        package = module.replace("_", "-")
        return ConfigurationError(
            f"cannot use {option}={model!r}: its provider package is not installed; pip install {package}"
        )
    return ConfigurationError(f"cannot use {option}={model!r}: {_one_line(exc)}")


def _one_line(exc: Exception) -> str:
    # LangChain lists every supported provider on many lines; a log line or a CLI error is one.
    return " ".join(str(exc).split())
