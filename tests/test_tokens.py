"""Table-driven tests of planindex.tokens, in the manner of fugashi's WAKATI_TESTS: raw text in,
index terms out, through the same normalize → tokenize path that passages and queries take.

The tables hold for unidic-lite 1.0.8 (UniDic 2.1.2), the version pyproject.toml pins: another
dictionary may split or tag words differently, and test_the_tables_hold_for_the_pinned_dictionary
says so in one line before the tables fail one by one.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planindex import tokens
from planindex.index import Index
from planindex.ingest import analyze_chunk
from planindex.normalize import normalize
from planindex.search import search
from planindex.store import record_norm
from planindex.tokens import TermIds, Tokenizer, WordCounts, _pos_kind, analyze, bigram_counts, bigram_keys, bigram_term, bigrams, tokenizer

UNIDIC_LITE = "1.0.8"

# (text, content words in order): particles, auxiliaries (ます, た, たい), symbols and the light verbs
# する/なる are dropped; what is left is what a planner would search for.
CONTENT_WORDS = [
    ("待機児童を解消します。", ["待機", "児童", "解消"]),
    ("適切な指導を行う", ["適切", "指導", "行う"]),
    ("多様な主体と連携", ["多様", "主体", "連携"]),
    ("こどもと若者", ["こども", "若者"]),
    ("「音まち」推奨制度", ["音", "まち", "推奨", "制度"]),
    ("（１）まちの魅力をＵＰ", ["1", "まち", "魅力", "up"]),
    ("いじめ", ["いじめ"]),
]

# Latin letters and digits survive as words (lower-cased by normalization), kept whole when UniDic
# splits them (covid + 19), and full-width forms meet half-width ones.
ALPHANUMERICS = [
    ("ＤＸ推進", ["dx", "推進"]),
    ("SNSで情報発信", ["sns", "情報", "発信"]),
    ("ICTを活用した授業", ["ict", "活用", "授業"]),
    ("防犯灯のLED化", ["防犯", "灯", "led", "化"]),
    ("KPIの達成状況", ["kpi", "達成", "状況"]),
    ("都市高速鉄道１２号線", ["都市", "高速", "鉄道", "12", "号", "線"]),
    ("covid19", ["covid19"]),
    ("1,830人", ["1830", "人"]),
]

# Nouns keep their written form: UniDic's lemma would turn ひと into 一 (one) and a place name into
# its katakana reading, merging words a planner keeps apart.
SURFACE_NOT_LEMMA = [
    ("まち・ひと・しごと創生", ["まち", "ひと", "しごと", "創生"]),
    ("ひとり親家庭", ["ひとり親", "家庭"]),
    ("三ケ島工業団地", ["三ヶ島", "工業", "団地"]),
    ("取組を推進", ["取組", "推進"]),
]

# Verbs and adjectives by their written base form (orthBase), so that every inflection meets.
VERBS_BY_BASE_FORM = [
    ("子育て支援を進めた", ["子育て", "支援", "進める"]),
    ("進めています", ["進める"]),
    ("取り組んだ", ["取り組む"]),
    ("歩きたくなるまちなか", ["歩く", "まちなか"]),
    ("新しい交通手段", ["新しい", "交通", "手段"]),
]

# A compound noun is indexed whole, by its parts and by each pair of adjacent parts, so that a query
# naming the whole, a part or a pair meets it.
COMPOUNDS = [
    (
        "地域づくり協議会",
        ["地域", "づくり", "協議", "会", "地域づくり", "づくり協議", "協議会", "地域づくり協議会"],
    ),
    ("待機児童", ["待機", "児童", "待機児童"]),
    ("障害者支援", ["障害", "者", "支援", "障害者", "者支援", "障害者支援"]),
    ("三ヶ島工業団地", ["三ヶ島", "工業", "団地", "三ヶ島工業", "工業団地", "三ヶ島工業団地"]),
    ("ＤＸ推進", ["dx", "推進", "dx推進"]),
    ("適切な指導", ["適切", "指導"]),  # な stands between: not a compound
]

# Character bigrams of the normalized text, spaces and symbols removed; a lone character stands alone.
BIGRAMS = [
    ("待機児童", ["待機", "機児", "児童"]),
    ("ＤＸ 推進", ["dx", "x推", "推進"]),
    ("市", ["市"]),
    ("三ケ島", ["三ヶ", "ヶ島"]),
    ("・", []),
]


def content_words(text: str) -> list[str]:
    return [token.term for token in tokenizer().tokens(normalize(text))]


def test_the_tables_hold_for_the_pinned_dictionary() -> None:
    assert metadata.version("unidic-lite") == UNIDIC_LITE, "the tables below were written for unidic-lite 1.0.8"


@pytest.mark.parametrize(("text", "expected"), CONTENT_WORDS + ALPHANUMERICS + SURFACE_NOT_LEMMA + VERBS_BY_BASE_FORM)
def test_content_words(text: str, expected: list[str]) -> None:
    assert content_words(text) == expected


@pytest.mark.parametrize(("text", "expected"), COMPOUNDS)
def test_compounds_are_indexed_whole_and_by_their_parts(text: str, expected: list[str]) -> None:
    assert analyze(text)[0] == expected


@pytest.mark.parametrize(("text", "expected"), BIGRAMS)
def test_bigrams(text: str, expected: list[str]) -> None:
    assert bigrams(normalize(text)) == expected


# Japanese and Latin letters, digits, spaces, symbols and a lone surrogate, as texts mix them.
MIXED_CHARS = st.sampled_from("待機児童の三ケ島ヶ工業団地ＤＸdx 12３、。・「」ー-～\u3000\t\n\ud800")
MIXED_TEXT = st.text(st.one_of(MIXED_CHARS, st.characters()), max_size=40)
# What MeCab can be given: UTF-8 has no lone surrogate (the query layer refuses them before).
TAGGABLE_TEXT = MIXED_TEXT.map(lambda text: "".join(ch for ch in text if not "\ud800" <= ch <= "\udfff"))


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(MIXED_TEXT, max_size=6))
def test_the_bigram_keys_of_many_texts_are_the_bigrams_of_each(texts: list[str]) -> None:
    norms = [normalize(text) for text in texts]
    owners, keys = bigram_keys(norms)
    found: list[list[str]] = [[] for _ in norms]
    for owner, key in zip(owners.tolist(), keys.tolist()):
        found[owner].append(bigram_term(key))
    assert found == [bigrams(norm) for norm in norms]


# Texts that make compounds, pairs and joined alphanumerics, for the tests of counting in arrays.
COMPOUND_TEXT = st.lists(
    TAGGABLE_TEXT | st.sampled_from(["covid19対策", "地域づくり協議会", "都市高速鉄道12号線延伸促進協議会", "DX推進計画", " 2-561番地"]),
    max_size=4,
).map("".join)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(COMPOUND_TEXT, max_size=6))
def test_a_chunk_counts_each_text_like_a_counter(texts: list[str]) -> None:
    """analyze_chunk counts the words of every text of a chunk at once, in numpy over all their
    words: the same counts as words() walking each text's tokens, and no run or join crosses from
    one text into the next."""
    [run] = analyze_chunk(texts).runs
    assert _per_text(run) == [Counter(analyze(text)[0]) for text in texts]


@pytest.mark.parametrize("narrow_bits", [32, 0])
def test_counts_are_the_same_with_keys_of_32_or_64_bits(monkeypatch: pytest.MonkeyPatch, corpus_texts: list[str], narrow_bits: int) -> None:
    """A run's (text, term) keys are packed in 32 bits when they fit, else 64: both count alike."""
    monkeypatch.setattr(tokens, "NARROW_KEY_BITS", narrow_bits)
    run = [normalize(text) for text in corpus_texts[:60]]
    assert _per_text(Tokenizer().counts(run)) == [Counter(Tokenizer().words(text)) for text in run]


class _Names:
    """A reader of WordCounts (TermIds) whose ids are places in a list of the terms sent."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.reader = TermIds(self._ids_of)

    def _ids_of(self, new: list[str]) -> np.ndarray:
        self.terms += new
        return np.arange(len(self.terms) - len(new), len(self.terms))

    def of(self, found: WordCounts) -> list[str]:
        """Term number → term, for found's numbering so far ("" for a number not sent)."""
        return [self.terms[i] if i >= 0 else "" for i in self.reader.of(found).tolist()]


def _per_text(found: WordCounts, names: _Names | None = None) -> list[dict[str, int]]:
    """Each text's term counts, from a run's (term number, count) pairs; names: the reader of the
    runs counted before in the same session (a new one for a session's first run)."""
    terms = (names or _Names()).of(found)
    bounds = [0, *itertools.accumulate(found.sizes.tolist())]
    pairs = zip(found.ids.tolist(), found.counts.tolist())
    return [{terms[i]: count for i, count in itertools.islice(pairs, b - a)} for a, b in itertools.pairwise(bounds)]


def test_a_session_sends_each_term_once_and_its_reader_needs_every_run(corpus_texts: list[str]) -> None:
    runs = [[normalize(text) for text in corpus_texts[start : start + 10]] for start in range(0, 40, 10)]
    tok, names = Tokenizer(), _Names()
    found = [tok.counts(run, "a") for run in runs]
    assert [_per_text(f, names) for f in found] == [[Counter(Tokenizer().words(text)) for text in run] for run in runs]
    sent = [term for f in found for term in f.new]
    assert len(sent) == len(set(sent)) == len(set().union(*(c for run in runs for c in map(Tokenizer().words, run))))
    everything = len(found[0].new)  # each term once, and only the terms counted
    assert len(tok.counts(runs[0], "b").new) == everything  # a new session (a new reader) is sent them again
    assert len(tok.counts(runs[0]).new) == len(tok.counts(runs[0]).new) == everything  # as is a call without one
    with pytest.raises(ValueError, match="out of order"):
        _Names().of(found[1])


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.lists(MIXED_TEXT, max_size=6))
def test_the_bigram_counts_of_many_texts_are_those_of_each(texts: list[str]) -> None:
    """bigram_counts, what the index builds its bigram postings from, counts each text's bigrams
    as a Counter does, and gives them term after term: by key (the bigrams' own order), then by text."""
    norms = [normalize(text) for text in texts]
    keys, owners, counts = bigram_counts(norms)
    found: list[Counter[str]] = [Counter() for _ in norms]
    for key, owner, count in zip(keys.tolist(), owners.tolist(), counts.tolist()):
        found[owner][bigram_term(key)] += count
    assert found == [Counter(bigrams(norm)) for norm in norms]
    assert list(zip(keys.tolist(), owners.tolist())) == sorted(set(zip(keys.tolist(), owners.tolist())))
    assert [bigram_term(key) for key in keys.tolist()] == sorted(bigram_term(key) for key in keys.tolist())


@pytest.mark.parametrize(
    ("query", "passage"),
    [
        ("域づく", "地域づくり協議会"),  # cuts two words in half: no word of the query is a word of the passage
        ("り協議", "地域づくり協議会"),
        ("島工", "三ヶ島工業団地"),
        ("三ケ島工", "三ヶ島工業団地"),  # ケ and ヶ meet: bigrams are taken after normalization
    ],
)
def test_a_substring_has_every_bigram_in_the_passage(query: str, passage: str) -> None:
    assert set(analyze(query)[1]) <= set(analyze(passage)[1])


def test_a_substring_across_words_is_not_a_word_of_the_passage() -> None:
    assert not set(analyze("域づく")[0]) & set(analyze("地域づくり協議会")[0])


@pytest.fixture(scope="module")
def corpus(corpus_index: Path) -> Iterator[Index]:
    index = Index.open(corpus_index)
    yield index
    index.close()


@pytest.mark.parametrize(("query", "expected"), [("島", "三ヶ島"), ("茶", "狭山茶"), ("域づく", "地域づくり"), ("ＤＸ", "dx")])
def test_short_and_substring_queries_find_their_passages(corpus: Index, query: str, expected: str) -> None:
    """A one-character query, a substring across words and a two-letter word find every passage that
    holds them, mostly ranked above the passages that share only part of them."""
    hits = search(corpus, query, k=1000).hits
    # a passage is indexed with its item and innermost heading too (planindex.ingest.passage_text)
    holds = [normalize(query) in normalize("\n".join([hit.item, *hit.section[-1:], hit.text])) for hit in hits]
    holders = sum(normalize(query) in record_norm(blob) for (blob,) in corpus.store.db.execute("SELECT data FROM passages"))
    assert sum(holds) == holders > 0 and holds[0]
    # passages that hold the query only in their heading weigh less than those that hold it in their text,
    # so a few partial matches may come between them: most holders still come first
    assert sum(holds[:holders]) >= 0.8 * holders
    assert any(expected in normalize(hit.text) for hit in hits)


def test_offsets_point_at_the_words_in_the_normalized_text() -> None:
    text = normalize("待機児童を解消し、ＤＸを推進します")
    for token in tokenizer().tokens(text):
        assert text[token.start : token.end] in (token.term, token.term.lower()) or token.term == "推進"


@settings(max_examples=300, derandomize=True, deadline=None)
@given(TAGGABLE_TEXT)
def test_offsets_laid_from_the_surfaces_point_at_each_noun(text: str) -> None:
    """Offsets come from the surfaces MeCab writes with the whitespace before them, tabs, newlines
    and NULs included: a noun is indexed as written, so its span is its term."""
    for token in tokenizer().tokens(text):
        assert not token.noun or text[token.start : token.end] == token.term


# --- context ids for POS: what MeCab's feature strings would say, read from a table -----------------
@pytest.fixture(scope="module")
def corpus_texts(corpus: Index) -> list[str]:
    return [record_norm(blob) for (blob,) in corpus.store.db.execute("SELECT data FROM passages UNION ALL SELECT data FROM kpis")]


def _feature_pos(oracle: Any, text: str) -> list[tuple[int, str, str]]:
    """(context id, pos1, pos2) of each word of the dictionary, from MeCab's own feature strings
    (which %f writes empty where the dictionary has *)."""
    lines = oracle.parse(text).split("\n")[:-1]
    return [(int(ident), pos1, pos2 or "*") for ident, pos1, pos2 in (line.split("\t") for line in lines if line)]


def test_a_context_id_stands_for_the_pos_of_its_words(corpus_texts: list[str]) -> None:
    """The word loop reads a word's POS from its left context id (left-id.def): on every corpus
    text, each word's id gives what its feature string says."""
    tok = tokenizer()
    oracle = tok._new_tagger(r"%phl\t%f[0]\t%f[1]\n", r"\n")  # unknown words: no line
    pairs = {triple for text in corpus_texts for triple in _feature_pos(oracle, text)}
    kinds = tok._kinds
    assert len(pairs) > 300
    assert [p for p in pairs if kinds[p[0]] != _pos_kind(p[1], p[2])] == []


@settings(max_examples=200, derandomize=True, deadline=None)
@given(TAGGABLE_TEXT)
def test_remembered_words_are_those_tagged_with_base_forms(text: str) -> None:
    """Words read from the memo (POS from the context id, base forms remembered from earlier
    texts) are those of the same text tagged with its base forms."""
    tok = tokenizer()
    tok._entries_with_bases(text)  # remembers its verbs' base forms
    assert tok._entries(text)[1] == Tokenizer()._entries_with_bases(text)


def test_the_corpus_words_from_the_memo_are_those_tagged_with_base_forms(corpus_texts: list[str]) -> None:
    tok, fresh = Tokenizer(), Tokenizer()
    assert [tok._entries(text)[1] for text in corpus_texts] == [fresh._entries_with_bases(text) for text in corpus_texts]
    assert 0 < len(tok._memo) < sum(len(text) for text in corpus_texts)


def test_a_word_that_gave_two_base_forms_is_always_tagged_again() -> None:
    tok = Tokenizer()
    text = "事業を進めた"
    right = tok._entries_with_bases(text)
    [key] = [key for key, number in tok._memo.items() if (tok._table[number] or ("",))[0] == "進める"]
    tok._memo[key] = tok._number(("進む", False, False, False, "進め", False))  # as if another text had said so
    assert tok._entries_with_bases(text) == right
    assert key not in tok._memo and key in tok._ambiguous
    assert tok._entries(text)[1] == right
    assert key not in tok._memo


def test_a_full_memo_is_forgotten_and_the_words_stay_the_same(monkeypatch: pytest.MonkeyPatch, corpus_texts: list[str]) -> None:
    texts = corpus_texts[:50]
    unbounded = Tokenizer()
    expected = [unbounded.words(text) for text in texts]
    monkeypatch.setattr(tokens, "MEMO_LIMIT", 20)
    tok = Tokenizer()
    assert [tok.words(text) for text in texts] == expected
    # cleared before a text once past the limit, then filled by that one text's words alone
    assert len(tok._memo) <= 20 + len(set(tok._lines(tok._tagger, texts[-1]))) < len(unbounded._memo)


def test_numbered_terms_stay_right_when_the_numbering_starts_afresh(monkeypatch: pytest.MonkeyPatch, corpus_texts: list[str]) -> None:
    """counts() numbers entries, terms, pairs and wholes; once past a limit all of it is forgotten
    before the next run of texts, and a number from before must never name another term after."""
    runs = [corpus_texts[start : start + 7] for start in range(0, 70, 7)]
    expected = [[Counter(words) for words in map(Tokenizer().words, run)] for run in runs]
    monkeypatch.setattr(tokens, "TERM_LIMIT", 50)
    tok, names = Tokenizer(), _Names()
    for run, counters in zip(runs, expected):
        assert _per_text(tok.counts(run, "s"), names) == counters
    assert len(tok._terms) < sum(len(c) for counters in expected for c in counters)  # it did start afresh


def test_a_run_met_before_is_found_by_line_hashes_alone(monkeypatch: pytest.MonkeyPatch, corpus_texts: list[str]) -> None:
    """counts() looks a run's words up in the line table first: once its texts have been through
    the memo, none of them goes that way again."""
    run = [normalize(text) for text in corpus_texts[:40]]
    tok, names = Tokenizer(), _Names()
    first = _per_text(tok.counts(run, "s"), names)

    def refuse(*_: object) -> None:
        raise AssertionError("a text went the memo's way")

    monkeypatch.setattr(tok, "_numbers", refuse)
    assert _per_text(tok.counts(run, "s"), names) == first


def test_a_word_found_to_give_two_base_forms_mid_run_is_tagged_again_in_every_text_of_it() -> None:
    """The line table answers for the whole run before any text goes the memo's way; a text that
    then finds a word ambiguous (進めた, remembered wrongly here) sends the run back to the table,
    which has forgotten the word, so that the text before it is tagged again too."""
    texts = ["事業を進めた", "事業を進めた。新たに走った"]
    expected = [Counter(Tokenizer().words(text)) for text in texts]
    tok, names = Tokenizer(), _Names()
    names.of(tok.counts(texts[:1], "s"))
    [key] = [key for key, number in tok._memo.items() if (tok._table[number] or ("",))[0] == "進める"]
    wrong = tok._number(("進む", False, False, False, "進め", False))
    tok._memo[key] = wrong  # as if another text had said so
    tok._known_lines.put(tokens.line_hashes([key]), np.array([wrong]))
    assert _per_text(tok.counts(texts, "s"), names) == expected
    assert key in tok._ambiguous
