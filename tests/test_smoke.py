async def test_add_then_get(api):
    added = await api.add("Sarah prefers email", user_id="u1", topics=["Contact"])
    got = await api.get(added.memory_id, user_id="u1")
    assert got == added
    assert got.topics == ["contact"]
    assert await api.get(added.memory_id, user_id="u2") is None
