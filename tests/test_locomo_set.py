"""benchmarks/make_locomo_set.py: LoCoMo's conversation layout becomes a recall set that recall_eval reads.

The real data is not shipped; a two-session conversation written here in LoCoMo's
layout (sessions with date lines, turns with ``dia_id``, a shared photo, questions
with evidence lists, one adversarial question, one evidence id naming no turn)
stands in for it.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        # dataclasses look their module up by name while the class is being built.
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCHMARKS))


CONVERSATION = {
    "speaker_a": "Caroline",
    "speaker_b": "Melanie",
    "session_1_date_time": "1:56 pm on 8 May, 2023",
    "session_1": [
        {"speaker": "Caroline", "dia_id": "D1:1", "text": "I went to a support group yesterday."},
        {
            "speaker": "Melanie",
            "dia_id": "D1:2",
            "text": "Look at this!",
            "blip_caption": "a photo of a sunrise",
        },
    ],
    "session_2_date_time": "7:11 pm on 24 May, 2023",
    "session_2": [{"speaker": "Caroline", "dia_id": "D2:1", "text": "I am researching adoption agencies."}],
    "qa": [
        {
            "question": "When did Caroline go to the group?",
            "answer": "7 May",
            "evidence": ["D1:1"],
            "category": 2,
        },
        {"question": "What did they both do?", "answer": "x", "evidence": ["D1:2; D2:1"], "category": 1},
        {
            "question": "What did Melanie research?",
            "evidence": ["D2:1"],
            "category": 5,
            "adversarial_answer": "y",
        },
        {"question": "What is lost?", "answer": "z", "evidence": ["D9:9"], "category": 4},
    ],
}


@pytest.fixture(scope="module")
def make() -> ModuleType:
    return _module("make_locomo_set")


def test_turns_become_dated_memories_and_evidence_becomes_answers(make: ModuleType) -> None:
    user, questions = make.convert("26", CONVERSATION)
    assert user["user_id"] == "conv-26"
    assert [(m["id"], m["memory"], m["created_at"]) for m in user["memories"]] == [
        ("conv-26-D1-1", "Caroline: I went to a support group yesterday.", "2023-05-08"),
        ("conv-26-D1-2", "Melanie: Look at this! [shares a photo of a sunrise]", "2023-05-08"),
        ("conv-26-D2-1", "Caroline: I am researching adoption agencies.", "2023-05-24"),
    ]
    # The adversarial question and the one whose evidence names no turn are left out.
    assert [(q["question"], q["answers"], q["kind"]) for q in questions] == [
        ("When did Caroline go to the group?", ["conv-26-D1-1"], "temporal"),
        ("What did they both do?", ["conv-26-D1-2", "conv-26-D2-1"], "multi-hop"),
    ]
    assert {q["asked_at"] for q in questions} == {"2023-05-24T19:11:00"}


def test_the_zip_becomes_a_set_that_recall_common_loads(
    make: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "locomo10.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("data/multimodal_dialog/locomo10_v2/26.json", json.dumps(CONVERSATION))
    out = tmp_path / "set.json"
    monkeypatch.setattr(sys, "argv", ["make_locomo_set.py", "--data", str(archive), "--out", str(out)])
    make.main()
    common = _module("recall_common")
    data = common.load_set(out)
    assert list(data.memories) == ["conv-26"]
    assert len(data.all_memories) == 3
    assert data.kinds == ("temporal", "multi-hop")


def test_no_conversation_found_is_said(
    make: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["make_locomo_set.py", "--data", str(tmp_path), "--out", str(tmp_path / "x.json")]
    )
    with pytest.raises(SystemExit, match="no LoCoMo conversation found"):
        make.main()
