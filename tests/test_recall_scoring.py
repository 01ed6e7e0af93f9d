"""Recall's array work: the top k with ties, the dense matrix product, the blend."""

from __future__ import annotations

import numpy as np

from langmem_agno.recall.scoring import blend, top
from langmem_agno.recall.view import DenseMatrix


def test_top_takes_the_best_finite_scores_best_first() -> None:
    scores = np.array([0.9, *([0.5] * 50), 0.7, -np.inf], dtype=np.float64)
    assert top(scores, 2) == [0, 51]
    picked = top(scores, 3)
    assert picked[:2] == [0, 51] and scores[picked[2]] == 0.5  # one of the tied, whichever
    assert top(np.array([-np.inf, 0.2, -np.inf]), 5) == [1]
    assert top(np.array([-np.inf, -np.inf, 0.1, 0.3]), 2) == [3, 2]
    assert top(np.zeros(0), 3) == []


def test_top_matches_a_full_sort_on_random_scores() -> None:
    rng = np.random.default_rng(5)
    for _ in range(50):
        scores = np.round(rng.standard_normal(300), 1)  # rounded: many ties
        scores[rng.integers(0, 300, 40)] = -np.inf
        k = int(rng.integers(1, 20))
        expected = sorted((i for i in range(300) if np.isfinite(scores[i])), key=lambda i: (-scores[i], i))
        got = top(scores, k)
        assert [scores[i] for i in got] == [scores[i] for i in expected[:k]]
        assert got == sorted(got, key=lambda i: (-scores[i], i))  # ties among the returned: by position


def test_dense_scores_equal_the_plain_product_and_mark_missing_vectors() -> None:
    rng = np.random.default_rng(1)
    vectors = [rng.standard_normal(16).astype(np.float32) for _ in range(6)]
    query = rng.standard_normal(16).astype(np.float32)
    full = DenseMatrix.build(range(6), vectors)
    q = query / np.linalg.norm(query) - full.mean
    expected = full.matrix @ (q / np.linalg.norm(q))
    assert np.allclose(full.scores(query, 6), expected, atol=1e-6)
    # Memories 1 and 4 have no vector (say, another width): they score -inf, the rest as before.
    partial = DenseMatrix.build([0, 2, 3, 5], [vectors[i] for i in (0, 2, 3, 5)])
    got = partial.scores(query, 6)
    assert np.isneginf(got[[1, 4]]).all()
    assert np.isfinite(got[[0, 2, 3, 5]]).all()


def test_blend_puts_the_dense_best_first_unless_a_rare_word_match_outweighs_it() -> None:
    dense = np.array([0.30, 0.29, 0.10, 0.05])
    lexical = np.array([0.0, 0.0, 0.0, 0.0])
    assert top(blend(dense, lexical), 1) == [0]
    lexical = np.array([0.0, 6.0, 0.0, 0.0])  # only the second memory has the query's rare word
    assert top(blend(dense, lexical), 2) == [1, 0]
