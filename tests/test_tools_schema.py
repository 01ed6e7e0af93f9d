"""What the model sees of the memory tools: strict-mode-valid schemas with no scope in them."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool

from langmem_agno import SQLiteMemoryStore
from langmem_agno.scripted import ScriptedChatModel
from langmem_agno.tools import create_memory_tools

SCOPE_WORDS = ("user_id", "agent_id", "team_id", "runtime", "langgraph_user_id")
# The JSON Schema keywords OpenAI's strict mode accepts (structured outputs guide).
STRICT_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "anyOf",
    "enum",
    "const",
    "description",
    "title",
    "$ref",
    "$defs",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
}
EXPECTED_ARGS = {
    "add_memory": ["memory", "topics"],
    "update_memory": ["memory_id", "memory", "topics"],
    "delete_memory": ["memory_id"],
    "search_memories": ["query", "limit"],
}
# Valid calls a model could send under strict mode (every property present).
VALID_CALLS = {
    "add_memory": [{"memory": "Likes tea", "topics": None}, {"memory": "Likes tea", "topics": ["drinks"]}],
    "update_memory": [{"memory_id": "m1", "memory": "Likes coffee", "topics": None}],
    "delete_memory": [{"memory_id": "m1"}],
    "search_memories": [{"query": "tea", "limit": None}, {"query": "tea", "limit": 3}],
}
# Every model-sent property that may be left out when not in strict mode.
NULLABLE = {"topics", "limit"}


@pytest.fixture(scope="module")
def tools() -> list[BaseTool]:
    return create_memory_tools(SQLiteMemoryStore(":memory:"))


def _walk(schema: Any) -> Any:
    """Yield every sub-schema (dicts) of a JSON schema."""
    if isinstance(schema, dict):
        yield schema
        for key, value in schema.items():
            if key in ("properties", "$defs"):
                for sub in value.values():
                    yield from _walk(sub)
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                yield from _walk(value)
            elif key == "anyOf":
                for sub in value:
                    yield from _walk(sub)


def assert_strict_valid(parameters: dict[str, Any]) -> None:
    """Check a function's parameters against OpenAI's strict-mode rules."""
    jsonschema.Draft202012Validator.check_schema(parameters)
    assert parameters["type"] == "object"
    assert "anyOf" not in parameters
    for sub in _walk(parameters):
        assert set(sub) <= STRICT_KEYWORDS, f"unsupported keywords {set(sub) - STRICT_KEYWORDS} in {sub}"
        if sub.get("type") == "object":
            assert sub.get("additionalProperties") is False, sub
            assert sorted(sub.get("required", [])) == sorted(sub.get("properties", {})), sub


@pytest.mark.parametrize("name", list(EXPECTED_ARGS))
def test_strict_openai_schema_is_valid(tools: list[BaseTool], name: str) -> None:
    tool = next(t for t in tools if t.name == name)
    spec = convert_to_openai_tool(tool, strict=True)
    assert spec["function"]["name"] == name
    assert spec["function"]["strict"] is True
    params = spec["function"]["parameters"]
    assert_strict_valid(params)
    assert list(params["properties"]) == EXPECTED_ARGS[name]
    for prop_name, prop in params["properties"].items():
        types = [alt.get("type") for alt in prop.get("anyOf", [prop])]
        assert ("null" in types) == (prop_name in NULLABLE), (prop_name, prop)
        assert prop.get("description"), prop_name
    validator = jsonschema.Draft202012Validator(params)
    for call in VALID_CALLS[name]:
        validator.validate(call)
    # A model cannot, under strict mode, send a scope or drop a property.
    forged = {**VALID_CALLS[name][0], "user_id": "someone-else"}
    assert not validator.is_valid(forged)
    first = EXPECTED_ARGS[name][0]
    assert not validator.is_valid({k: v for k, v in VALID_CALLS[name][0].items() if k != first})


@pytest.mark.parametrize("name", list(EXPECTED_ARGS))
def test_non_strict_schema_also_forbids_extra_properties(tools: list[BaseTool], name: str) -> None:
    tool = next(t for t in tools if t.name == name)
    params = convert_to_openai_tool(tool)["function"]["parameters"]
    assert params["additionalProperties"] is False
    assert list(params["properties"]) == EXPECTED_ARGS[name]
    # Outside strict mode only the non-nullable arguments are required.
    assert params["required"] == [a for a in EXPECTED_ARGS[name] if a not in NULLABLE]


@pytest.mark.parametrize("name", list(EXPECTED_ARGS))
def test_scope_never_appears_in_what_the_model_sees(tools: list[BaseTool], name: str) -> None:
    tool = next(t for t in tools if t.name == name)
    seen = [
        str(tool.tool_call_schema.model_json_schema()),  # type: ignore[union-attr]
        str(convert_to_openai_tool(tool)),
        str(convert_to_openai_tool(tool, strict=True)),
        str(tool.args),
    ]
    for text in seen:
        for word in SCOPE_WORDS:
            assert word not in text, (word, text)
    # The injected runtime stays in the full input schema, hidden from the model.
    assert "runtime" in tool.get_input_schema().model_fields


def test_tools_bound_to_a_model_carry_no_scope(tools: list[BaseTool]) -> None:
    model = ScriptedChatModel()
    bound = model.bind_tools(tools)
    sent = bound.kwargs["tools"]  # type: ignore[attr-defined]
    assert [s["function"]["name"] for s in sent] == list(EXPECTED_ARGS)
    for word in SCOPE_WORDS:
        assert word not in str(sent)


def test_renamed_tools_keep_valid_strict_schemas() -> None:
    tools = create_memory_tools(
        SQLiteMemoryStore(":memory:"),
        names={"add": "remember", "search": "recall"},
        include=["add", "search"],
    )
    for tool in tools:
        spec = convert_to_openai_tool(tool, strict=True)["function"]
        assert spec["name"] == tool.name
        assert_strict_valid(spec["parameters"])
