"""What text a store accepts: memory text, optional fields, whole records, and the redaction of secrets.

Mixed into :class:`~langmem_agno.stores.base.MemoryStore`; every write runs these checks before
any I/O, and the tools, extraction and import run them too, so all refuse what the store would.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from langmem_agno.record import UserMemory, check_memory_text
from langmem_agno.secrets_filter import SecretFilter
from langmem_agno.stores.validation import check_optional_text, new_record

__all__ = ["TextChecks"]

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class TextChecks:
    """The store's text checks; ``max_memory_chars`` and ``secret_filter`` are set by the store."""

    max_memory_chars: int | None
    secret_filter: SecretFilter

    def check_text(self, text: object, *, max_chars: int | None = None) -> str:
        """Validate memory text as this store would on add or update, and return it stripped.

        Args:
            text: The candidate memory text.
            max_chars: A tighter length limit of the caller's own (a tool's, extraction's);
                the store's ``max_memory_chars`` when ``None``.

        Raises:
            InvalidMemoryError: If it is not a string, is empty, too long, or holds a secret.
        """
        stripped = check_memory_text(text, self.max_memory_chars if max_chars is None else max_chars)
        self.secret_filter.check(stripped)
        return stripped

    def check_field(self, name: str, value: object) -> str | None:
        """Validate an optional text field (``input``, ``feedback``) as this store would on a write.

        Args:
            name: The field's name, for the message.
            value: ``None``, or the text.

        Returns:
            The value, unchanged.

        Raises:
            InvalidMemoryError: If it is not text, is not valid Unicode, or holds a secret.
        """
        text = check_optional_text(name, value)
        if text is not None:
            self.secret_filter.check(text, what=name)
        return text

    def check_record(self, memory: UserMemory, *, user_id: str) -> UserMemory:
        """Run every check :meth:`add` runs on ``memory`` (ids, text, topics, input, feedback), with no I/O.

        What an import runs on every line before it writes anything, so a file is refused whole,
        naming each bad line, rather than half-written.

        Returns:
            The record as :meth:`add` would insert it.

        Raises:
            InvalidMemoryError: Naming what is not valid.
        """
        return self._new(memory, user_id, None, None, None, None)

    def _new(
        self,
        memory: str | UserMemory,
        user_id: str,
        agent_id: str | None,
        team_id: str | None,
        topics: Sequence[str] | None,
        input: str | None,
    ) -> UserMemory:
        return new_record(
            self.check_text,
            memory,
            user_id=user_id,
            agent_id=agent_id,
            team_id=team_id,
            topics=topics,
            input=input,
            check_field=self.check_field,
        )

    def redact(self, text: str) -> str:
        """``text`` with the secrets this store's filter finds replaced by ``[redacted: KIND]``.

        Extraction stores the user's message as a memory's ``input`` this way: the fact is
        kept, the password beside it is not. A lone UTF-16 surrogate, which no database
        can store, becomes U+FFFD.
        """
        return self.secret_filter.redact(_LONE_SURROGATE.sub("\ufffd", text), "[redacted: {kind}]")
