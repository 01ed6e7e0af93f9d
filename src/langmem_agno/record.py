"""The memory record, in Agno's exact field layout, and its conversions.

One :class:`UserMemory` is one fact about one user. Its ten fields, their names
and types are the ones Agno 3.x reads and writes, so a MongoDB collection or a
SQLite table can be shared between Agno agents and LangGraph agents.
"""

from __future__ import annotations

import json
import logging
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from langmem_agno.checks import MAX_ID_CHARS, check_id
from langmem_agno.errors import InvalidMemoryError

logger = logging.getLogger(__name__)

#: Default maximum length of a memory's text, in characters. A memory is one
#: fact; a long text is almost always a model pasting the conversation.
DEFAULT_MAX_MEMORY_CHARS = 2_000
#: Maximum length of one topic tag, in characters.
MAX_TOPIC_CHARS = 64
#: Maximum number of topics on one memory.
MAX_TOPICS = 20
#: Most raw tags looked at before any cleaning: duplicates and blanks are forgiven up to this
#: many, and a longer list is refused before any work, so a 20,000-tag call costs nothing.
MAX_RAW_TOPICS = 5 * MAX_TOPICS

#: The ten fields of a memory, in the order Agno declares its columns.
MEMORY_FIELDS: tuple[str, ...] = (
    "memory_id",
    "memory",
    "input",
    "agent_id",
    "team_id",
    "user_id",
    "topics",
    "feedback",
    "created_at",
    "updated_at",
)


def now_epoch_s() -> int:
    """Return the current time as whole epoch seconds, UTC."""
    return int(time.time())


def new_memory_id() -> str:
    """Return a fresh memory id, ``str(uuid4())`` as Agno makes them."""
    return str(uuid.uuid4())


def check_unicode(name: str, value: str) -> str:
    r"""Refuse a string holding a lone UTF-16 surrogate, naming ``name`` and the position.

    A model's broken emoji escape (``"\ud83d"`` alone) decodes to such a character;
    no database driver can encode it, so it is refused here with our own error
    instead of a ``UnicodeEncodeError`` from deep inside a write.

    Args:
        name: What the string is ("memory text", "topics[2]", "memory_id"), for the message.
        value: The string.

    Returns:
        The string, unchanged.

    Raises:
        InvalidMemoryError: Naming ``name``, the position and the code point.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidMemoryError(
            f"{name} holds a lone UTF-16 surrogate U+{ord(value[exc.start]):04X} at position {exc.start}, "
            "which is not valid Unicode text (a broken emoji escape?)"
        ) from None
    return value


def check_record_ids(memory: UserMemory) -> None:
    """Check every id on a :class:`UserMemory` like an argument: non-blank, 200 characters at most, text.

    Reading is tolerant (Agno stores ids of any length), so a record built in code or read
    from a file is checked with this before it is written.

    Raises:
        InvalidMemoryError: Naming the first id that is not valid.
    """
    for name in ("memory_id", "user_id", "agent_id", "team_id"):
        value = getattr(memory, name)
        if value is not None:
            check_unicode(name, check_id(name, value))


def normalize_topics(topics: Sequence[str] | None, *, strict: bool = True) -> list[str] | None:
    """Normalise topic tags: stripped, lowercase, single-spaced, unique, in order.

    Args:
        topics: Raw tags, or ``None``.
        strict: Enforce the limits (:data:`MAX_TOPICS`, :data:`MAX_TOPIC_CHARS`, strings
            only), as every write does. Reads pass ``False``: a row another writer (Agno
            has no such limits) stored must stay readable, so nothing is refused and
            only non-string tags are dropped.

    Returns:
        The cleaned tags, or ``None`` when ``topics`` is ``None``.

    Raises:
        InvalidMemoryError: In strict mode, if a tag is not a string, is too long, or there are too many.
    """
    if topics is None:
        return None
    if isinstance(topics, (str, bytes)) or not isinstance(topics, Sequence):
        if not strict:
            logger.warning("ignoring topics that are not a list: %r", topics)
            return None
        raise InvalidMemoryError(f"topics must be a list of strings, got {topics!r:.80}")
    # The count first, before any per-tag work: the cost of a refusal must not grow with the list.
    if strict and len(topics) > MAX_RAW_TOPICS:
        raise InvalidMemoryError(f"{len(topics)} topics given; the limit is {MAX_TOPICS}")
    cleaned: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(topics):
        if not isinstance(raw, str):
            if not strict:
                logger.warning("ignoring a topic that is not a string: %r", raw)
                continue
            raise InvalidMemoryError(f"topic must be a string, got {raw!r:.80}")
        try:
            check_unicode(f"topics[{position}]", raw)
        except InvalidMemoryError:
            if strict:
                raise
            logger.warning("ignoring topics[%d], which is not valid Unicode text", position)
            continue
        tag = " ".join(unicodedata.normalize("NFC", raw).split()).lower()
        if not tag or tag in seen:
            continue
        seen.add(tag)
        if strict and len(tag) > MAX_TOPIC_CHARS:
            raise InvalidMemoryError(
                f"topic {tag[:40]!r}... is {len(tag)} characters; the limit is {MAX_TOPIC_CHARS}"
            )
        cleaned.append(tag)
    if strict and len(cleaned) > MAX_TOPICS:
        raise InvalidMemoryError(f"{len(cleaned)} topics given; the limit is {MAX_TOPICS}")
    return cleaned


def check_memory_text(text: object, max_chars: int | None = DEFAULT_MAX_MEMORY_CHARS) -> str:
    """Validate a memory's text and return it stripped.

    Args:
        text: The candidate text.
        max_chars: The length limit, or ``None`` for none.

    Returns:
        The stripped text.

    Raises:
        InvalidMemoryError: If ``text`` is not a string, is empty after stripping, or is too long.
    """
    if not isinstance(text, str):
        raise InvalidMemoryError(f"memory text must be a string, got {type(text).__name__} {text!r:.80}")
    check_unicode("memory text", text)
    stripped = text.strip()
    if not stripped:
        raise InvalidMemoryError(f"memory text is empty: {text!r:.80}")
    if max_chars is not None and len(stripped) > max_chars:
        raise InvalidMemoryError(
            f"memory text is {len(stripped)} characters ({stripped[:40]!r}...); the limit is {max_chars}"
        )
    return stripped


def _to_epoch_s(value: Any) -> int | None:
    """Accept the timestamp forms Agno has written over time: int, float, datetime, ISO string."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidMemoryError(f"timestamp must be epoch seconds, got {value!r}")
    if isinstance(value, int):
        # Some writers stored milliseconds; a value past year 33658 in seconds is surely ms.
        return value // 1000 if value > 10**12 else value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    if isinstance(value, str):
        try:
            return _to_epoch_s(datetime.fromisoformat(value))
        except ValueError:
            pass
        try:
            return int(float(value))
        except ValueError:
            pass
    raise InvalidMemoryError(f"timestamp must be epoch seconds, got {value!r}")


class UserMemory(BaseModel):
    """One fact about one user, in Agno's field layout.

    Attributes:
        memory_id: ``str(uuid4())``; the logical key everywhere (never MongoDB's ``_id``).
        memory: The fact, in the third person; non-empty after stripping.
        topics: Short lowercase tags, or ``None``.
        input: The user text the memory came from.
        user_id: The user the fact is about.
        agent_id: The agent that wrote it.
        team_id: The team that wrote it.
        feedback: Free-form feedback on the memory.
        created_at: Epoch seconds, UTC.
        updated_at: Epoch seconds, UTC; always written.

    Example:
        >>> m = UserMemory(memory="Sarah prefers email", topics=["Contact "], user_id="u1")
        >>> m.topics
        ['contact']
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_strip_whitespace=False)

    memory_id: str = Field(default_factory=new_memory_id, min_length=1, max_length=200)
    memory: str
    topics: list[str] | None = None
    input: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    team_id: str | None = None
    feedback: str | None = None
    created_at: int = Field(default_factory=now_epoch_s)
    updated_at: int | None = None

    @field_validator("memory", mode="before")
    @classmethod
    def _check_memory(cls, value: object) -> str:
        return check_memory_text(value, max_chars=None)

    @field_validator("topics", mode="before")
    @classmethod
    def _check_topics(cls, value: object, info: ValidationInfo) -> list[str] | None:
        # Documents and rows read from the database are validated with
        # context={"read": True}: what another writer stored must stay readable.
        reading = bool((info.context or {}).get("read"))
        return normalize_topics(value, strict=not reading)  # type: ignore[arg-type]

    @field_validator("created_at", "updated_at", mode="before")
    @classmethod
    def _check_time(cls, value: object) -> int | None:
        return _to_epoch_s(value)

    def model_post_init(self, __context: Any) -> None:
        """Fill ``updated_at`` from ``created_at``: Agno expects it always written."""
        if self.updated_at is None:
            object.__setattr__(self, "updated_at", self.created_at)

    # ------------------------------------------------------------------ MongoDB
    def to_document(self) -> dict[str, Any]:
        """Return the MongoDB document Agno's ``MongoDb`` writes: the ten fields, no more."""
        return {name: getattr(self, name) for name in MEMORY_FIELDS}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> UserMemory:
        """Build a memory from a MongoDB document written by us or by Agno.

        Tolerates MongoDB's ``_id``, a missing ``created_at`` (Agno's single-memory
        upsert does not write it: ``updated_at`` is used instead) and missing
        optional fields. Unknown keys are ignored, so a document another tool
        annotated still reads.

        Args:
            doc: The stored document.

        Returns:
            The memory.

        Raises:
            InvalidMemoryError: If the document lacks a usable ``memory_id`` or ``memory``.
        """
        data = {name: doc.get(name) for name in MEMORY_FIELDS}
        if data["created_at"] is None:
            data["created_at"] = data["updated_at"] if data["updated_at"] is not None else 0
        return _validated(data, where=f"document {doc.get('memory_id')!r:.80}")

    # ------------------------------------------------------------------ SQLite
    def to_row(self) -> dict[str, Any]:
        """Return the SQLite row Agno's ``SqliteDb`` writes.

        ``memory`` and ``topics`` are JSON-encoded, as SQLAlchemy's ``JSON`` type
        stores them: the text becomes a JSON string literal, quotes included.
        """
        row = self.to_document()
        row["memory"] = json.dumps(self.memory, ensure_ascii=False)
        row["topics"] = None if self.topics is None else json.dumps(self.topics, ensure_ascii=False)
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> UserMemory:
        """Build a memory from an ``agno_memories`` SQLite row (ours or Agno's).

        Args:
            row: A mapping of column name to value.

        Returns:
            The memory.

        Raises:
            InvalidMemoryError: If the row lacks a usable ``memory_id`` or ``memory``.
        """
        data = decode_row(row)
        if data["created_at"] is None:
            data["created_at"] = data["updated_at"] if data["updated_at"] is not None else 0
        return _validated(data, where=f"row {data['memory_id']!r:.80}")

    def for_agno(self) -> dict[str, Any]:
        """Return keyword arguments for ``agno.db.schemas.memory.UserMemory(**...)``."""
        return self.to_document()


def decode_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The ten fields of a SQLite row, its JSON columns decoded as Agno's ``SqliteDb`` encodes them.

    The result has the shape of a MongoDB document, so both backends' raw rows read the same way.
    """
    data = {name: row[name] if name in row.keys() else None for name in MEMORY_FIELDS}  # noqa: SIM118 - sqlite3.Row has keys() but no __contains__ by name
    decoded = _json_or_text(data["memory"])
    # A hand-written plain-text row such as 42 or true parses as JSON but is
    # still the memory's text, so only a decoded string replaces the raw value.
    if isinstance(decoded, str):
        data["memory"] = decoded
    if isinstance(data["topics"], str):
        data["topics"] = _json_or_text(data["topics"])
    return data


RowReader = Callable[[Mapping[str, Any]], "UserMemory"]


def read_all(rows: Iterable[Mapping[str, Any]], build: RowReader) -> list[UserMemory]:
    """Build a memory from each stored row, skipping (with one warning each) the rows that cannot be read.

    Agno writes rows our checks refuse (an empty text, a 250-character id, a field
    of the wrong type): one such row must not hide all of its user's other memories.
    ``langmem-agno doctor`` lists and repairs the rows skipped here.

    Args:
        rows: Stored rows or documents.
        build: :meth:`UserMemory.from_row` or :meth:`UserMemory.from_document`.

    Returns:
        The readable memories, in the rows' order.
    """
    memories: list[UserMemory] = []
    for row in rows:
        try:
            memories.append(build(row))
        except InvalidMemoryError as exc:
            logger.warning("skipping an unreadable memory (run `langmem-agno doctor` to repair it): %s", exc)
    return memories


def unreadable_reason(data: Mapping[str, Any], build: RowReader) -> str | None:
    """Why a stored row cannot be read (the error's message), or ``None`` if it reads."""
    try:
        build(data)
    except InvalidMemoryError as exc:
        return str(exc)
    return None


def repair_record(data: Mapping[str, Any]) -> UserMemory | None:
    """A readable record with what can be kept of an unreadable stored row, or ``None`` if it holds no text.

    The text is kept as stored (only stripped); an id outside the limits gets a fresh
    ``memory_id``; an agent or team id out of limits, a field of the wrong type and
    tags beyond the limits are dropped; a timestamp that cannot be read becomes now.

    Args:
        data: The row's ten fields, as :func:`decode_row` or a MongoDB document gives them.

    Returns:
        The repaired record, or ``None`` when the row has no usable text (nothing to keep).
    """
    text = data.get("memory")
    if not isinstance(text, str) or not text.strip():
        return None

    def valid_id(value: object) -> str | None:
        try:
            return check_unicode("id", check_id("id", value))
        except InvalidMemoryError:
            return None

    def optional_text(value: object) -> str | None:
        return value if isinstance(value, str) else None

    def epoch(value: object) -> int | None:
        try:
            return _to_epoch_s(value)
        except InvalidMemoryError:
            return None

    topics = normalize_topics(data.get("topics"), strict=False)
    if topics is not None:
        topics = [t for t in topics if len(t) <= MAX_TOPIC_CHARS][:MAX_TOPICS]
    created = epoch(data.get("created_at"))
    updated = epoch(data.get("updated_at"))
    now = now_epoch_s()
    return UserMemory(
        memory_id=valid_id(data.get("memory_id")) or new_memory_id(),
        memory=text.strip(),
        topics=topics,
        input=optional_text(data.get("input")),
        user_id=optional_text(data.get("user_id")),
        agent_id=valid_id(data.get("agent_id")),
        team_id=valid_id(data.get("team_id")),
        feedback=optional_text(data.get("feedback")),
        created_at=created if created is not None else (updated if updated is not None else now),
        updated_at=updated if updated is not None else now,
    )


def _json_or_text(value: Any) -> Any:
    """Decode a JSON column; a hand-written row may hold plain text instead."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _validated(data: dict[str, Any], *, where: str) -> UserMemory:
    memory_id = data["memory_id"]
    # An id outside the limits every write applies could be listed but never named in a
    # later call (get, update, delete), so such a row is out of limits, as unreadable.
    if isinstance(memory_id, str) and (not memory_id.strip() or len(memory_id) > MAX_ID_CHARS):
        raise InvalidMemoryError(
            f"cannot read {where}: memory_id is {len(memory_id)} characters, blank or over {MAX_ID_CHARS}"
        )
    try:
        return UserMemory.model_validate(data, context={"read": True})
    except ValidationError as exc:
        err = exc.errors()[0]
        field_name = ".".join(str(part) for part in err["loc"])
        raise InvalidMemoryError(f"cannot read {where}: {field_name}: {err['msg']}") from exc
