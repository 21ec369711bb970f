"""Query syntax ("phrase", -exclude, OR, the soft AND) on passages written for it, hostile queries
that must end in a clear QueryError (one line from the CLI, never a traceback), and properties
over arbitrary text: parse returns a Query or raises QueryError, search returns at most k hits
best first and raises nothing else."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planindex.errors import QueryError
from planindex.index import Index
from planindex.ingest import ingest
from planindex.query import MAX_QUERY, Query, parse
from planindex.search import GROUPS, _best_first, search
from tests.support import assert_one_line_error, cli_env, invoke, run_cli

PASSAGES = {
    "both": "待機児童の解消に向けて学童クラブを整備する。",
    "waiting-only": "待機児童の解消に努める。",
    "club-only": "学童クラブの利用者アンケートを実施した。",
    "apart": "児童の送迎を待機する場所を確保した。",  # 待機 and 児童, never side by side
    "nursery": "待機児童対策として保育園を新設した。",
    "farm": "農業の担い手を育成する。",
}


@pytest.fixture(scope="module")
def syntax_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Index]:
    folder = tmp_path_factory.mktemp("syntax")
    source = folder / "passages.jsonl"
    source.write_text("\n".join(json.dumps({"id": k, "text": v}, ensure_ascii=False) for k, v in PASSAGES.items()), encoding="utf-8")
    assert not ingest([source], folder / "index").failed
    index = Index.open(folder / "index")
    yield index
    index.close()


@pytest.fixture(scope="module")
def corpus(corpus_index: Path) -> Iterator[Index]:
    index = Index.open(corpus_index)
    yield index
    index.close()


def ids(index: Index, query: str) -> list[str]:
    return [h.id for h in search(index, query, 50).hits]


# --- syntax --------------------------------------------------------------------------------


def test_words_are_anded_softly_a_passage_with_every_word_ranks_first(syntax_index: Index) -> None:
    found = ids(syntax_index, "待機児童 学童クラブ")
    assert found[0] == "both"
    assert {"waiting-only", "club-only"} <= set(found)  # soft: a passage with one word still comes
    scores = {h.id: h.score for h in search(syntax_index, "待機児童 学童クラブ", 50).hits}
    assert scores["both"] > max(scores["waiting-only"], scores["club-only"])


def test_a_quoted_phrase_must_appear_as_written(syntax_index: Index) -> None:
    assert "apart" in ids(syntax_index, "待機 児童")
    assert set(ids(syntax_index, '"待機児童"')) == {"both", "waiting-only", "nursery"}
    assert ids(syntax_index, '"児童待機"') == []


def test_a_minus_word_excludes_its_passages(syntax_index: Index) -> None:
    assert set(ids(syntax_index, "待機児童 -保育園")) >= {"both", "waiting-only"}
    assert "nursery" not in ids(syntax_index, "待機児童 -保育園")
    assert "nursery" not in ids(syntax_index, '待機児童 -"保育園を新設"')
    result = search(syntax_index, "待機児童 -保育園", 50)
    assert result.total == len(result.hits)  # the count leaves the excluded out too


def test_or_makes_words_alternatives(syntax_index: Index) -> None:
    assert set(ids(syntax_index, "保育園 OR 農業")) == {"nursery", "farm"}
    assert ids(syntax_index, "保育園 農業")[:2] != []  # without OR both still come (soft AND) ...
    either = {h.id: h.score for h in search(syntax_index, "保育園 OR 農業", 50).hits}
    anded = {h.id: h.score for h in search(syntax_index, "保育園 農業", 50).hits}
    assert either["farm"] > anded["farm"]  # ... but a passage with one of two alternatives is not halved


def test_the_parsed_query_shows_its_parts() -> None:
    query = parse('待機児童 "学童クラブ" -保育園 公園 OR 緑地')
    assert [[t.raw for t in group] for group in query.groups] == [["待機児童"], ["学童クラブ"], ["公園", "緑地"]]
    assert query.phrases == ("学童クラブ",) and query.excludes == ("保育園",)


def test_full_width_and_variant_spellings_meet_the_same_passages(syntax_index: Index) -> None:
    assert ids(syntax_index, "待機児童") == ids(syntax_index, "待機児童　")  # an ideographic space
    assert set(ids(syntax_index, "ｸﾗﾌﾞ")) == set(ids(syntax_index, "クラブ"))


# --- hostile queries ---------------------------------------------------------------------------

REFUSED = {
    "empty": ("", "empty"),
    "spaces": ("   \t ", "empty"),
    "ideographic spaces": ("\u3000\u3000", "empty"),
    "particles": ("の を", "particles"),
    "one particle": ("は", "particles"),
    "long": ("待機児童" * 2500, "10,000 characters"),
    "control": ("待機\x07児童", "control characters"),
    "escape sequence": ("\x1b[31m待機児童", "control characters"),
    "nul": ("待機\x00児童", "control characters"),
    "binary as latin-1": (b"\x00\xff\xfe\x89PNG".decode("latin-1"), "control characters"),
    "binary as surrogateescape": (b"\xff\xfe\x89PNG".decode("utf-8", "surrogateescape"), "binary"),
    "replacement characters": (b"\xff\xfe".decode("utf-8", "replace"), "binary"),
    "lone surrogate": ("待機\ud800児童", "binary"),
    "emoji only": ("😀🏫", "no searchable words"),
    "symbols only": ("（）「」・※", "no searchable words"),
    "only an exclusion": ("-待機児童", "only excludes"),
    "empty phrase": ('""', "no searchable words"),
    "a bare OR": ("OR", "no searchable words"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_query_that_cannot_be_run_gets_a_clear_query_error(case: str, corpus: Index) -> None:
    text, words = REFUSED[case]
    with pytest.raises(QueryError, match=words) as raised:
        search(corpus, text, 10)
    message = str(raised.value)
    assert ":" in message and len(message) < 200  # what is wrong: what to do, in one short line


@pytest.mark.parametrize(
    "text",
    [
        "'; DROP TABLE passages; --",
        "a.*b[",
        "(待機|児童)+",
        "\\d{3}",
        "%_%",
        "待機児童 😀",
        "<script>alert(1)</script>",
        '"待機',
        "- -- ---",
    ],
)
def test_harmless_oddities_give_results_or_a_clear_error_and_leave_the_index_alone(text: str, corpus: Index) -> None:
    try:
        result = search(corpus, text, 10)
    except QueryError as exc:
        assert ":" in str(exc)
    else:
        assert len(result.hits) <= 10
    assert search(corpus, "待機児童", 10).hits  # nothing was dropped


def test_sql_and_regex_look_alikes_are_searched_as_text(corpus: Index) -> None:
    """Metacharacters are punctuation like any other: they neither match nor break anything."""
    assert ids(corpus, "(待機|児童)+") == ids(corpus, "待機|児童") != []
    assert ids(corpus, "待機児童 😀") == ids(corpus, "待機児童")


def test_a_query_of_the_longest_allowed_length_runs(corpus: Index) -> None:
    sentence = "待機児童の解消に向けて保育園の定員を拡大し、学童クラブを整備する。"
    text = (sentence * (MAX_QUERY // len(sentence) + 1))[:MAX_QUERY]
    assert search(corpus, text, 10).hits


@pytest.mark.parametrize("case", ["empty", "particles", "long", "control", "emoji only", "only an exclusion"])
def test_through_the_cli_a_refused_query_is_one_line_on_stderr(case: str, corpus_index: Path) -> None:
    """After --, so that a query starting with - is not taken for an option."""
    text, words = REFUSED[case]
    assert_one_line_error(run_cli("search", "--index", corpus_index, "--", text), "error", words)


def test_binary_bytes_on_the_command_line_are_one_line_on_stderr(corpus_index: Path) -> None:
    """Python decodes argv with surrogateescape: the bytes arrive as lone surrogates."""
    result = subprocess.run(
        [sys.executable.encode(), b"-m", b"planindex.cli", b"search", b"\xff\xfe\x89PNG\r\n", b"--index", str(corpus_index).encode()],
        capture_output=True,
        env=cli_env(),
        timeout=120,
    )
    decoded = subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())
    assert_one_line_error(decoded, "binary")


def test_a_missing_query_is_one_line_on_stderr(corpus_index: Path) -> None:
    assert_one_line_error(run_cli("search", "--index", corpus_index), "empty")


def test_batch_reports_a_refused_query_in_its_line_and_goes_on(corpus_index: Path, tmp_path: Path) -> None:
    batch = tmp_path / "queries.txt"
    batch.write_text("待機児童\nの を\n" + "x" * 5000 + "\n農業\n", encoding="utf-8")
    result = invoke("search", "--batch", batch, "--index", corpus_index)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [bool(line["hits"]) for line in lines] == [True, False, False, True]
    assert "particles" in lines[1]["error"] and "characters" in lines[2]["error"]


# --- properties ------------------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=60)  # surrogates included
WORDS = ["待機児童", "保育", "学童クラブ", "農業", "地域づくり協議会", "DX", "ＤＸ", "三ケ島", "の", "を", "KPI", "12号線"]
OPERATORS = ["OR", "-", '"', "-保育", '"待機児童"', "(", ")", "*", "%"]
QUERY_LIKE = st.lists(st.sampled_from(WORDS + OPERATORS) | ANY_TEXT, max_size=8).map(" ".join)


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.one_of(ANY_TEXT, QUERY_LIKE))
def test_parse_returns_a_query_or_raises_query_error(text: str) -> None:
    try:
        query = parse(text)
    except QueryError as exc:
        assert str(exc)
    else:
        assert isinstance(query, Query) and query.groups


@settings(max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(QUERY_LIKE, ANY_TEXT), k=st.integers(0, 30))
def test_search_returns_at_most_k_hits_best_first_or_a_query_error(corpus_index: Path, text: str, k: int) -> None:
    index = Index.open(corpus_index)
    try:
        result = search(index, text, k)
    except QueryError:
        return
    finally:
        index.close()
    scores = [h.score for h in result.hits]
    assert len(scores) <= k and result.total >= len(scores)
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


# Scores as a search leaves them: mostly zero, often tied (one term's weight in many passages), in
# vectors shorter than, equal to and longer than the groups whose maxima bound the k-th best.
# Drawn by numpy from a seed: hypothesis builds a list of thousands of floats slowly.
@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    length=st.sampled_from([0, 1, 9, GROUPS - 1, GROUPS, GROUPS + 1, 3 * GROUPS + 7, 40_000]),
    positive_share=st.sampled_from([0.0, 0.001, 0.01, 0.3, 1.0]),
    distinct=st.sampled_from([1, 3, 1000]),
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(1, 40),
)
def test_the_first_batch_is_the_k_best_positive_scores_ties_by_position(
    length: int, positive_share: float, distinct: int, seed: int, k: int
) -> None:
    rng = np.random.default_rng(seed)
    levels = rng.uniform(0.1, 30, distinct).astype(np.float32)
    scores = np.where(rng.random(length) < positive_share, levels[rng.integers(0, distinct, length)], 0).astype(np.float32)
    positive = np.flatnonzero(scores > 0)
    expected = positive[np.argsort(-scores[positive], kind="stable")][:k]
    first = next(_best_first(scores, k), np.zeros(0, np.intp))
    assert first.tolist() == expected.tolist()
