"""Unit tests of the scripted brains that the notebooks and the demo use (no kernel needed)."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from langmem_agno.scripted_brains import agentic_memory_brain, keywords


def test_keywords_drop_words_that_name_no_memory() -> None:
    assert keywords("Actually, I live in Porto now, not Lisbon.") == "live porto lisbon"
    assert keywords("Where do I live?") == "live"


def test_agentic_brain_plans_from_the_request() -> None:
    add = agentic_memory_brain([HumanMessage("Remember that I have a cat called Miso.")])
    assert add.tool_calls[0]["name"] == "add_memory"
    assert add.tool_calls[0]["args"] == {"memory": "User has a cat called Miso", "topics": ["pets"]}
    search = agentic_memory_brain([HumanMessage("Forget that I have a cat.")])
    assert search.tool_calls[0]["name"] == "search_memories"
    assert search.tool_calls[0]["args"] == {"query": "cat", "limit": 1}


def test_agentic_brain_acts_on_the_search_hit_or_says_there_is_none() -> None:
    request = HumanMessage("Actually, I live in Porto now, not Lisbon.")
    found = ToolMessage(
        "1 memory matches 'live porto lisbon', best first:\n- id: m-1 | User lives in Lisbon [topics: home]",
        name="search_memories",
        tool_call_id="call_1",
    )
    update = agentic_memory_brain([request, AIMessage(""), found])
    assert update.tool_calls[0]["name"] == "update_memory"
    assert update.tool_calls[0]["args"] == {
        "memory_id": "m-1",
        "memory": "User lives in Porto now",
        "topics": None,
    }
    nothing = ToolMessage("No memories match 'cat'.", name="search_memories", tool_call_id="call_1")
    reply = agentic_memory_brain([HumanMessage("Forget that I have a cat."), AIMessage(""), nothing])
    assert not reply.tool_calls
    assert reply.text == "I had nothing stored about that."


def test_agentic_brain_reports_a_tool_error_instead_of_success() -> None:
    failed = ToolMessage(
        "Error: no memory with id 'x'.", name="delete_memory", tool_call_id="call_2", status="error"
    )
    reply = agentic_memory_brain([HumanMessage("Forget that I have a cat."), AIMessage(""), failed])
    assert reply.text == "That did not work: Error: no memory with id 'x'."
