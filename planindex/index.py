"""The index as a reader sees it: the on-disk store plus BM25 arrays for passages and KPIs,
built on first use from the stored word counts and the bigrams of the stored normalized texts,
and cached beside the database per generation."""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from planindex import __version__, bm25
from planindex.store import CACHE_FOLDER, STORE_FORMAT, Store, record_norm, unpack_many
from planindex.tokens import bigram_counts, bigram_term, keys_holding

DEFAULT_FOLDER = Path("index")
FIELDS = ("words", "grams")
# The arrays cached for each field: bigrams weigh their idf alone (bm25.Presence), with no codes.
WEIGHT_ARRAYS = ("single", "repeated", "places", "codes", "idf", "grid")  # bm25.Weights, in order
FIELD_ARRAYS = {"words": ("segments", "indices", "lengths", *WEIGHT_ARRAYS), "grams": ("segments", "indices", "lengths", "idf")}
CACHE_ARRAYS = ("rowids", "doc_index", "kind_index", "gram_keys")


def default_folder() -> Path:
    return Path(os.environ.get("PLANINDEX_INDEX") or DEFAULT_FOLDER)


def expected_manifest() -> dict[str, str]:
    """What the index must have been built with to be read by this planindex."""
    from planindex.tokens import Tokenizer

    return {
        "planindex": __version__,
        "store": STORE_FORMAT,
        "tokenizer": Tokenizer.version(),
        "bm25": f"lucene k1={bm25.K1} b={bm25.B}",
    }


@dataclass(frozen=True, slots=True)
class Field:
    postings: bm25.Postings
    weights: bm25.Weights | bm25.Presence


@dataclass(frozen=True, slots=True)
class Collection:
    """BM25 arrays of one table; position i is the i-th record in rowid order. Word ids are the
    store's; bigram ids are this table's own, given when its arrays were built: the id of a bigram
    is its place in gram_keys."""

    rowids: np.ndarray
    doc_index: np.ndarray  # position → index into Index.doc_ids
    kind_index: np.ndarray  # position → index into kinds
    gram_keys: np.ndarray  # int64 keys (tokens.bigram_keys) of the bigrams of the table's texts, ascending
    kinds: tuple[str, ...]
    fields: dict[str, Field]
    _scratch: dict[tuple[str, type], np.ndarray] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    _holding: dict[str, list[int]] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    _grams: dict[str, int] = dataclasses.field(default_factory=dict, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.rowids)

    def gram_vocabulary(self) -> dict[str, int]:
        """bigram → id, made on first use: a query looks its bigrams up in it as in the words' (a
        binary search in gram_keys per call cost numpy's set-up, 3% of search() at 100k)."""
        if not self._grams and len(self.gram_keys):
            self._grams.update((bigram_term(key), i) for i, key in enumerate(self.gram_keys.tolist()))
        return self._grams

    def gram_ids(self, grams: list[str]) -> list[int]:
        """Ids of the bigrams that the table holds, one per bigram given."""
        vocab = self.gram_vocabulary()
        return [vocab[gram] for gram in grams if gram in vocab]

    def grams_holding(self, char: str) -> list[int]:
        """Ids of the bigrams that contain one character, ascending (the bigrams' order): a scan of
        the keys, paid once per character by one-character queries."""
        if char not in self._holding:
            self._holding[char] = np.flatnonzero(keys_holding(self.gram_keys, char)).tolist()
        return self._holding[char]

    def scratch(self, name: str, dtype: type = np.float32) -> np.ndarray:
        """A vector of one value per record, kept for the next query to reuse: at a million records
        a fresh one costs about a thousand page faults, more than the arithmetic done on it (a
        virtual machine makes each fault dear). Its content is whatever the last user left. Queries
        on one Index must run one at a time: they share these."""
        key = (name, dtype)
        if key not in self._scratch:
            self._scratch[key] = np.zeros(len(self), dtype)
        return self._scratch[key]


class Index:
    """A consistent view of the index: everything it reads comes from one snapshot, held until close."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._reading = ExitStack()
        self._reading.enter_context(store.snapshot())
        self.folder = store.folder
        self.generation = store.generation()
        self.documents: dict[str, dict[str, Any]] = {d["id"]: d for d in store.documents()}
        self.doc_ids: list[str] = sorted(self.documents)
        self._words: dict[str, int] | None = None
        self._collections: dict[str, Collection] = {}

    @classmethod
    def open(cls, folder: Path | None = None) -> Index:
        return cls(Store.open(folder or default_folder(), expected_manifest()))

    def close(self) -> None:
        self._reading.close()
        self.store.close()

    def vocabulary(self) -> dict[str, int]:
        """word → id, for every table (a table's bigrams are its Collection's: gram_vocabulary)."""
        if self._words is None:
            self._words = self.store.vocabulary()
        return self._words

    def collection(self, table: str) -> Collection:
        if table not in self._collections:
            self._collections[table] = self._load(table)
        return self._collections[table]

    # --- building and caching the arrays ---------------------------------------------------
    def _cache_dir(self, table: str) -> Path:
        return self.folder / CACHE_FOLDER / f"g{self.generation}" / table

    def _load(self, table: str) -> Collection:
        cached = self._read_cache(table)
        if cached is not None:
            return cached
        rowids, doc_index, kind_index = [], [], []
        doc_pos = {d: i for i, d in enumerate(self.doc_ids)}
        kind_pos: dict[str, int] = {}
        words: list[bm25.Block] = []
        grams: list[tuple[np.ndarray, bm25.Block]] = []  # per block: its bigram keys, and its postings by local id
        rows = self.store.postings_rows(table)
        while part := list(itertools.islice(rows, bm25.BLOCK)):
            for rowid, doc_id, kind, _, _ in part:
                rowids.append(rowid)
                doc_index.append(doc_pos.get(doc_id, -1))
                kind_index.append(kind_pos.setdefault(kind, len(kind_pos)))
            words.append(bm25.block(*unpack_many([row[3] for row in part])))
            grams.append(_gram_block([record_norm(row[4]) for row in part]))
            del part
        n = len(rowids)
        gram_keys = np.unique(np.concatenate([keys for keys, _ in grams])) if grams else np.zeros(0, np.int64)
        blocks = {
            "words": words,
            "grams": [bm25.Block(np.searchsorted(gram_keys, keys).astype(np.int32)[b.terms], b.offsets, b.counts) for keys, b in grams],
        }
        del words, grams
        n_terms = {"words": self.store.term_count() + 1, "grams": len(gram_keys)}
        arrays = {
            "rowids": np.asarray(rowids, dtype=np.int64),
            "doc_index": np.asarray(doc_index, dtype=np.int32),
            "kind_index": np.asarray(kind_index, dtype=np.int16),
            "gram_keys": gram_keys,
        }
        for field in FIELDS:
            weighted = "codes" in FIELD_ARRAYS[field]  # words; bigrams weigh their idf alone
            # each field's blocks freed once built
            postings, tfs = bm25.build(blocks.pop(field), n, n_terms[field], frequencies=weighted)
            arrays[f"{field}.segments"] = postings.segments
            arrays[f"{field}.indices"] = postings.indices
            arrays[f"{field}.lengths"] = postings.lengths
            if tfs is None:
                arrays[f"{field}.idf"] = bm25.presence(postings).idf
                continue
            weights = bm25.weights(postings, tfs)
            arrays.update({f"{field}.{name}": getattr(weights, name) for name in WEIGHT_ARRAYS})
        kinds = sorted(kind_pos, key=kind_pos.get)
        self._write_cache(table, arrays, kinds)
        return self._collection(arrays, kinds)

    def _collection(self, arrays: dict[str, np.ndarray], kinds: list[str]) -> Collection:
        fields = {
            f: Field(
                bm25.Postings(arrays[f"{f}.segments"], arrays[f"{f}.indices"], arrays[f"{f}.lengths"]),
                bm25.Weights(*(arrays[f"{f}.{name}"] for name in WEIGHT_ARRAYS))
                if "codes" in FIELD_ARRAYS[f]
                else bm25.Presence(arrays[f"{f}.idf"]),
            )
            for f in FIELDS
        }
        return Collection(arrays["rowids"], arrays["doc_index"], arrays["kind_index"], arrays["gram_keys"], tuple(kinds), fields)

    def _write_cache(self, table: str, arrays: dict[str, np.ndarray], kinds: list[str]) -> None:
        """Write to a temporary folder, then rename: a reader sees a whole cache or none."""
        target = self._cache_dir(table)
        if target.exists():
            return
        temporary = target.with_name(f"{table}.tmp{os.getpid()}")
        try:
            temporary.mkdir(parents=True, exist_ok=True)
            for name, array in arrays.items():
                np.save(temporary / f"{name}.npy", array)
            (temporary / "kinds.txt").write_text("\n".join(kinds), encoding="utf-8")
            temporary.rename(target)
        except OSError:
            shutil.rmtree(temporary, ignore_errors=True)  # a read-only index still works, uncached
        # Only older generations go: a reader still on an old snapshot must not delete a newer cache.
        for old in (self.folder / CACHE_FOLDER).glob("g*"):
            if old.name[1:].isdigit() and int(old.name[1:]) < self.generation:
                shutil.rmtree(old, ignore_errors=True)

    def _read_cache(self, table: str) -> Collection | None:
        folder = self._cache_dir(table)
        if not (folder / "kinds.txt").exists():
            return None
        names = [*CACHE_ARRAYS, *(f"{f}.{a}" for f in FIELDS for a in FIELD_ARRAYS[f])]
        try:
            # Plain arrays over the mapped files: np.memmap's Python-level slicing costs a few
            # microseconds a slice, and a query slices postings thousands of times.
            arrays = {name: np.asarray(np.load(folder / f"{name}.npy", mmap_mode="r")) for name in names}
            kinds = (folder / "kinds.txt").read_text(encoding="utf-8").split("\n")
        except (OSError, ValueError):  # removed by a newer reader, or damaged: rebuild from the database
            return None
        return self._collection(arrays, [k for k in kinds if k])

    # --- lookups ---------------------------------------------------------------------------
    def word_ids(self, words: list[str]) -> list[int]:
        """Ids of the words that the index holds, one per word given."""
        vocab = self.vocabulary()
        return [vocab[w] for w in words if w in vocab]


def _gram_block(norms: list[str]) -> tuple[np.ndarray, bm25.Block]:
    """The bigram postings of a block's passages, from their normalized texts: the block's distinct
    bigram keys (ascending), and its postings with each bigram's place among those as its id, for
    build time to renumber once every block's bigrams are known."""
    keys, owners, counts = bigram_counts(norms)
    new = np.ones(len(keys), bool)
    new[1:] = keys[1:] != keys[:-1]
    local = (np.cumsum(new) - 1).astype(np.int32)  # keys come ascending: a new one is the next id
    return keys[new], bm25.Block(local, owners.astype(np.uint16), counts.astype(np.int32))
