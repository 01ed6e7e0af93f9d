"""Turn the public LoCoMo conversations into a recall set for ``recall_eval.py`` and ``recall_variants.py``.

Usage::

    python benchmarks/make_locomo_set.py --data PATH --out /tmp/locomo_set.json
    python benchmarks/recall_eval.py --set /tmp/locomo_set.json --no-latency
    python benchmarks/recall_variants.py --set /tmp/locomo_set.json

``PATH`` is the ``locomo10.zip`` of the LoCoMo repository (or the folder it unpacks to,
``data/multimodal_dialog/locomo10_v2/*.json``). The data is not part of this project (it
has its own licence) and nothing here downloads it: it is read from where you put it, and
the set written goes wherever ``--out`` says, outside the repository.

How the conversations become memories and questions:

* each conversation is one user (``conv-<n>``); each of its dialogue turns is one memory,
  ``"<speaker>: <text>"``, plus ``" [shares <caption>]"`` when the turn shares a photo,
  created on its session's date;
* each question with evidence becomes a labelled question whose answers are its evidence
  turns (a question citing two turns needs both, as the set's multi questions do),
  asked at the conversation's last session;
* the adversarial questions (category 5, whose answer is not in the conversation) are
  left out, and so are evidence ids naming no turn;
* kinds follow LoCoMo's categories as its evaluations read them: 1 multi-hop, 2 temporal,
  3 open-domain, 4 single-hop.

Nothing is tuned on this set: it is the held-out check of a ranking chosen on
``recall_set.json``. The users split into halves like that set's (the first five
conversations and the last five), so a figure can also be read on each half.
"""

from __future__ import annotations

import argparse
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

KIND_OF_CATEGORY = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
_SESSION = re.compile(r"^session_(\d+)$")
_EVIDENCE = re.compile(r"D\d+:\d+")


def conversations(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each conversation's number and its JSON, from the zip or the folder it unpacks to."""
    if path.is_file():
        with zipfile.ZipFile(path) as archive:
            names = sorted(n for n in archive.namelist() if n.endswith(".json"))
            for name in names:
                yield Path(name).stem, json.loads(archive.read(name))
        return
    for file in sorted(path.rglob("*.json")):
        yield file.stem, json.loads(file.read_text(encoding="utf-8"))


def session_time(text: str) -> datetime:
    """``"1:47 pm on 18 May, 2023"`` as a datetime."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")


def convert(number: str, conversation: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One conversation as a user of the recall set and its labelled questions."""
    user_id = f"conv-{number}"
    memories: list[dict[str, Any]] = []
    ids: dict[str, str] = {}
    last = datetime.min
    sessions = sorted(int(m.group(1)) for k in conversation if (m := _SESSION.match(k)))
    for n in sessions:
        when = session_time(conversation[f"session_{n}_date_time"])
        last = max(last, when)
        for turn in conversation[f"session_{n}"]:
            text = f"{turn['speaker']}: {turn['text']}"
            if caption := turn.get("blip_caption"):
                text += f" [shares {caption}]"
            memory_id = f"{user_id}-{turn['dia_id'].replace(':', '-')}"
            ids[turn["dia_id"]] = memory_id
            memories.append(
                {"id": memory_id, "memory": text, "topics": [], "created_at": when.date().isoformat()}
            )
    questions = []
    for qa in conversation["qa"]:
        kind = KIND_OF_CATEGORY.get(qa["category"])
        answers = sorted({ids[e] for e in _EVIDENCE.findall(" ".join(qa.get("evidence", []))) if e in ids})
        if kind is None or not answers:
            continue
        questions.append(
            {
                "user_id": user_id,
                "question": qa["question"],
                "answers": answers,
                "kind": kind,
                "asked_at": last.isoformat(timespec="seconds"),
            }
        )
    return {"user_id": user_id, "memories": memories}, questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="locomo10.zip or the folder it unpacks to")
    parser.add_argument("--out", type=Path, required=True, help="where to write the set (outside the repo)")
    args = parser.parse_args()
    users, questions = [], []
    for number, conversation in conversations(args.data):
        user, asked = convert(number, conversation)
        users.append(user)
        questions.extend(asked)
    if not users:
        raise SystemExit(f"no LoCoMo conversation found in {args.data}")
    memories = sum(len(u["memories"]) for u in users)
    description = f"LoCoMo: {len(users)} conversations, {memories} turns, {len(questions)} questions"
    out = {"description": description, "stats": {}, "users": users, "questions": questions}
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"{description} -> {args.out}")


if __name__ == "__main__":
    main()
