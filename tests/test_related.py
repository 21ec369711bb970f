"""Related initiatives across cities (issue 6), on hand-judged pairs (tests/data/related_pairs.yaml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from planindex.errors import QueryError, UnknownRecord
from planindex.eval_related import DEFAULT_PAIRS, evaluate, find_passage
from planindex.index import Index
from planindex.related import SECTION_CONTEXT, _context, related
from planindex.related_terms import index_term, related_groups, related_terms

REQUIRED = ("r01", "r03", "r04")  # 12号線, こども家庭センター, 学校給食の地場産農産物: named in the issue
RECALL_AT_3 = 0.90  # the goal of issue 6, reached with section context: the floor that keeps it from regressing
RECALL_AT_3_WITHOUT_TABLE = 0.82  # the same without planindex/data/related_terms.tsv


@pytest.fixture(scope="module")
def index(corpus_index: Path) -> Index:
    opened = Index.open(corpus_index)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def pairs() -> list[dict]:
    return yaml.safe_load(DEFAULT_PAIRS.read_text(encoding="utf-8"))


def test_recall_on_hand_judged_cross_city_pairs(index: Index, pairs: list[dict]) -> None:
    assert len(pairs) >= 15
    scores = evaluate(index, pairs)
    print(f"related recall@3 {scores.recall:.3f} ({scores.found}/{scores.pairs})")
    missed = {m["id"] for m in scores.misses}
    assert not missed & set(REQUIRED), f"required pairs missed: {missed & set(REQUIRED)}"
    assert scores.recall >= RECALL_AT_3


def test_groups_by_city_with_shared_terms(index: Index, pairs: list[dict]) -> None:
    pair = next(p for p in pairs if p["id"] == "r01")
    source = find_passage(index, pair["source"]["doc"], pair["source"]["contains"])
    result = related(index, source, k=3)
    cities = [city for city, _ in result.groups]
    assert set(cities) == {"所沢市", "清瀬市"}
    other = related(index, source, other_cities=True, k=3)
    assert [city for city, _ in other.groups] == ["清瀬市"]
    best = other.groups[0][1][0]
    assert {"延伸", "鉄道"} <= set(best.shared_terms)
    assert source not in {h.hit.id for _, hits in result.groups for h in hits}


def test_related_text_and_errors(index: Index) -> None:
    result = related(index, text="こども家庭センターで妊産婦と子育て世帯の相談を受ける", city="清瀬市", k=2)
    assert result.groups and result.groups[0][0] == "清瀬市"
    assert "こども家庭センター" in result.groups[0][1][0].hit.text
    with pytest.raises(UnknownRecord):
        related(index, "no-such-passage")
    with pytest.raises(QueryError):
        related(index, text="   ")


def test_cli_json_schema(corpus_index: Path, index: Index, pairs: list[dict]) -> None:
    pair = next(p for p in pairs if p["id"] == "r03")
    source = find_passage(index, pair["source"]["doc"], pair["source"]["contains"])
    out = subprocess.run(
        [sys.executable, "-m", "planindex.cli", "related", source, "--other-cities", "--json", "--index", str(corpus_index)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["source"]["id"] == source
    hit = data["groups"][0]["hits"][0]
    assert {"id", "score", "kind", "item", "text", "snippet", "city", "year", "doc", "page", "section", "kpis", "shared_terms"} <= set(hit)


def test_salient_terms_do_not_depend_on_the_hash_seed(corpus_index: Path, index: Index, pairs: list[dict]) -> None:
    # r10's source has terms of equal weight at the cut of SALIENT_TERMS: which were kept once followed set order
    pair = next(p for p in pairs if p["id"] == "r10")
    source = find_passage(index, pair["source"]["doc"], pair["source"]["contains"])
    command = [sys.executable, "-m", "planindex.cli", "related", source, "--other-cities", "--json", "--index", str(corpus_index)]
    runs = [subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed}) for seed in ("1", "4")]
    assert all(run.returncode == 0 for run in runs), runs[0].stderr
    first, second = (json.loads(run.stdout) for run in runs)
    assert first["source"]["salient_terms"] == second["source"]["salient_terms"]


def test_section_context_lends_the_best_of_the_other_passages_of_a_section(index: Index) -> None:
    collection = index.collection("passages")

    def position(contains: str) -> int:
        rowid, _ = index.store.record_by_id("passages", find_passage(index, "kiyose_5ji_sogo_keikaku", contains))
        return int(np.flatnonzero(collection.rowids == rowid)[0])

    # 清瀬市 施策3-311: its 10年後の姿 and a ● direction; the editorial note sits alone under 計画の体系
    texts = ["幹線道路には沿道空間の活用を促進し", "都市計画道路等の都市施設や都市機能の充実を図り", "表形式で挿入予定"]
    vision, direction, note = map(position, texts)
    scores = np.zeros(len(collection), np.float32)
    scores[[vision, direction, note]] = [10.0, 4.0, 8.0]
    context = _context(index, scores)
    assert context[direction] == pytest.approx(SECTION_CONTEXT * 10.0)
    assert context[vision] == pytest.approx(SECTION_CONTEXT * 4.0)
    assert context[note] == 0


def test_recall_without_the_related_words_table(index: Index, pairs: list[dict]) -> None:
    # the table's figure overstates new pairs (its groups were written reading these misses): hold both
    scores = evaluate(index, pairs, expand=False)
    assert not {m["id"] for m in scores.misses} & set(REQUIRED)
    assert scores.recall >= RECALL_AT_3_WITHOUT_TABLE


def test_related_words_table_is_index_terms() -> None:
    groups = related_groups()
    assert all(index_term(word) for group in groups for word in group), "a word that is several index terms never matches"
    table = related_terms()
    assert "大学" in table["官学"] and "見守る" in table["生活支援"]
