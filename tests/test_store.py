"""Records and word counts as stored: what goes in comes out. Word counts (store.pack_counts): a
worked example of the varint layout, and round trips through both decoders for records of any
shape: empty, one term, ids up to 2**31 - 1, large counts, many records to a batch. Records
(store.pack_record): any JSON and any text, lone surrogates and NULs included, and a passage's JSON
text written directly the same as json.dumps of its fields."""

from __future__ import annotations

import json
import zlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from planindex import store as store_module
from planindex.records import Passage
from planindex.store import pack_counts, pack_record, record_data, record_norm, unpack_counts, unpack_many, unpack_record

Record = dict[int, int]  # term id → count

TERM_IDS = st.one_of(st.integers(0, 300), st.integers(2**31 - 300, 2**31 - 1), st.integers(0, 2**31 - 1))
COUNTS = st.one_of(st.just(1), st.integers(1, 300), st.integers(1, 2**31 - 1))
RECORDS = st.lists(st.dictionaries(TERM_IDS, COUNTS, max_size=40), max_size=30)


def packed(records: list[Record]) -> list[bytes]:
    """pack_counts of records given as ingest gives them: local ids into the run's distinct terms,
    in the order first met, each record's terms in the order counted."""
    distinct = list(dict.fromkeys(term for record in records for term in record))
    local = {term: i for i, term in enumerate(distinct)}
    return pack_counts(
        distinct,
        [local[term] for record in records for term in record],
        [count for record in records for count in record.values()],
        [len(record) for record in records],
    )


def expected(record: Record) -> tuple[list[int], list[int]]:
    return sorted(record), [record[term] for term in sorted(record)]


def test_the_layout_worked_by_hand() -> None:
    # 3 terms; gaps 5, 2, 293 (0x25 with the high bit, then 2); the term at place 1 counted 3 times
    assert packed([{7: 3, 300: 1, 5: 1}]) == [bytes([3, 5, 2, 0xA5, 2, 1, 3])]
    assert packed([{}]) == [b"\x00"]  # an empty record is its count of terms


@settings(max_examples=300, derandomize=True, deadline=None)
@given(RECORDS)
def test_counts_come_back_from_either_decoder(records: list[Record]) -> None:
    blobs = packed(records)
    assert len(blobs) == len(records)
    for record, blob in zip(records, blobs):
        ids, counts = unpack_counts(blob)
        assert ids.dtype == counts.dtype == np.int32
        assert (ids.tolist(), counts.tolist()) == expected(record)
    ids, counts, sizes = unpack_many(blobs[::-1])  # any blobs, in any order: here the last record first
    assert sizes.tolist() == [len(record) for record in reversed(records)]
    assert ids.tolist() == [term for record in reversed(records) for term in expected(record)[0]]
    assert counts.tolist() == [count for record in reversed(records) for count in expected(record)[1]]


def test_a_block_of_records_decodes_as_each_alone() -> None:
    rng = np.random.default_rng(0)
    records = [
        dict(zip(rng.choice(2**31, size, replace=False).tolist(), rng.geometric(0.8, size).tolist())) for size in rng.integers(0, 200, 3000)
    ]
    blobs = packed(records)
    ids, counts, sizes = unpack_many(blobs)
    singles = [unpack_counts(blob) for blob in blobs]
    assert np.array_equal(ids, np.concatenate([ids for ids, _ in singles]))
    assert np.array_equal(counts, np.concatenate([counts for _, counts in singles]))
    assert sizes.tolist() == [len(ids) for ids, _ in singles] == [len(record) for record in records]
    assert [(i.tolist(), c.tolist()) for i, c in singles] == [expected(record) for record in records]


def _leb128(number: int) -> bytes:
    out = bytearray()
    while True:
        low, number = number & 0x7F, number >> 7
        out.append(low | (0x80 if number else 0))
        if not number:
            return bytes(out)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 127), st.integers(0, 2**62)), max_size=60))
def test_varints_are_leb128(numbers: list[int]) -> None:
    """One-byte numbers are written as they are, the others cut into 7-bit groups: both must be LEB128."""
    data, widths = store_module._varints(np.array(numbers, dtype=np.int64))
    assert data == b"".join(map(_leb128, numbers))
    assert widths.tolist() == [len(_leb128(n)) for n in numbers]


def test_nothing_to_decode() -> None:
    ids, counts, sizes = unpack_many([])
    assert len(ids) == len(counts) == len(sizes) == 0
    assert packed([]) == []


# Any code point, lone surrogates and NUL included: a command line's undecodable bytes arrive as
# surrogates, and a normalized text is stored after the JSON's first NUL.
ANY_TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=300)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False) | ANY_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=8), ANY_TEXT)
def test_a_stored_record_round_trips(data: dict, norm: str) -> None:
    blob = pack_record(json.dumps(data, ensure_ascii=False), norm)
    assert unpack_record(blob) == (data, norm)
    assert record_data(blob) == data and record_norm(blob) == norm


@settings(max_examples=300)
@given(
    st.builds(
        Passage,
        id=ANY_TEXT,
        doc_id=st.just("d"),
        page=st.integers(0, 10_000),
        kind=ANY_TEXT,
        text=ANY_TEXT,
        section=st.lists(ANY_TEXT, max_size=4).map(tuple),
        item=ANY_TEXT,
        bbox=st.none() | st.tuples(*[st.floats()] * 4),
        pages=st.lists(st.integers(0, 10_000), max_size=4).map(tuple),
    )
)
def test_a_passage_is_stored_as_json_dumps_would_write_it(passage: Passage) -> None:
    assert passage.json_text() == json.dumps(passage.to_json(), ensure_ascii=False)


def test_the_dictionary_shrinks_a_short_passage_to_under_60_percent() -> None:
    """The preset dictionary holds the keys, which zlib alone spelled out in every row: a short
    passage takes under 60% of the bytes of its zlib'd UTF-8 (74 against 127)."""
    data = {"id": "a-p1", "kind": "課題", "item": "", "section": ["施策1"], "page": 3, "pages": [3], "bbox": None, "text": "待機児童の解消"}
    plain = zlib.compress(f"{json.dumps(data, ensure_ascii=False)}\0待機児童の解消".encode())
    assert len(pack_record(json.dumps(data, ensure_ascii=False), "待機児童の解消")) <= len(plain) * 0.6
