import pytest

from langmem_agno.errors import InvalidMemoryError
from langmem_agno.secrets_filter import SecretFilter

F = SecretFilter()

SECRETS = {
    "OpenAI/Anthropic-style API key": "My OpenAI key is sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD",
    "Stripe key": "the stripe key sk_live_abcdefghijklmnopqrstuvwx",
    "AWS access key": "AWS key AKIAIOSFODNN7EXAMPLE for the backups",
    "GitHub token": "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "Slack token": "bot xoxb-123456789012-1234567890123-abcdefghij",
    "Google API key": "maps key AIzaSyA1234567890abcdefghijklmnopqrstuv",
    "JSON Web Token": "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9",
    "private key": "-----BEGIN RSA PRIVATE KEY----- MIIEow...",
    "bearer token": "use Authorization: Bearer abcdefghijklmnopqrstuvwxyz012345",
    "credentials in a URL": "the db is postgres://admin:s3cret@db.example.com/app",
    "password": "Sarah's password is hunter2!",
    "card number": "Her card is 4111 1111 1111 1111, expiring soon",
}


@pytest.mark.parametrize("kind", sorted(SECRETS))
def test_each_kind_is_found_and_named_without_leaking_the_secret(kind):
    text = SECRETS[kind]
    assert kind in [f.kind for f in F.find(text)]
    with pytest.raises(InvalidMemoryError) as info:
        F.check(text)
    assert kind in str(info.value)
    secret = text[F.find(text)[0].start : F.find(text)[0].end]
    assert secret not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "Sarah prefers email",
        "Sarah's password is stored in 1Password",
        "Sarah changed her password last week",
        "Sarah's phone number is +1 555 123 4567",
        "Order number 1234567890123 shipped",  # 13 digits, fails Luhn
        "Sarah was born in 1987 and has 2 kids",
        "Sarah works on the skeleton crew",
    ],
)
def test_ordinary_facts_pass(text):
    assert F.find(text) == []
    F.check(text)


@pytest.mark.parametrize(
    "text",
    ["pwd: Tr0ub4dor&3", "PIN is 4821", "my API key = abcd1234efgh", "passcode -> 'zebra-42'"],
)
def test_password_phrasings(text):
    assert [f.kind for f in F.find(text)] == ["password"]


def test_disabled_filter_finds_nothing():
    off = SecretFilter(enabled=False)
    assert off.find(SECRETS["password"]) == []
    off.check(SECRETS["card number"])


def test_redact_replaces_only_the_secret():
    assert F.redact("Sarah's password is hunter2 and she likes tea") == (
        "Sarah's password is [redacted] and she likes tea"
    )
    assert F.redact("card 4111-1111-1111-1111.") == "card [redacted]."


async def test_stores_refuse_secrets_and_keep_what_they_had(api):
    kept = await api.add("Sarah prefers email", user_id="u1")
    for text in (SECRETS["password"], SECRETS["card number"], SECRETS["GitHub token"]):
        with pytest.raises(InvalidMemoryError, match="secret"):
            await api.add(text, user_id="u1")
        with pytest.raises(InvalidMemoryError, match="secret"):
            await api.update(kept.memory_id, user_id="u1", memory=text)
    page = await api.list_memories(user_id="u1")
    assert [m.memory for m in page.items] == ["Sarah prefers email"]


def test_secret_filter_can_be_turned_off(tmp_path):
    from langmem_agno import SQLiteMemoryStore

    with SQLiteMemoryStore(tmp_path / "a.db", secret_filter=False) as store:
        assert store.add(SECRETS["password"], user_id="u1").memory == SECRETS["password"]
