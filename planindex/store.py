"""The index on disk: one SQLite database (WAL mode) holding documents, passages, KPIs, links,
the word vocabulary, per-record word counts and a manifest of what built it. Bigram counts are
not stored: they are a function of the normalized text, counted when the arrays are built.

A passage or KPI row keeps its JSON and its normalized text in one zstd frame (`data`): the
normalized text is mostly the JSON's text again, which the compressor stores as back-references,
so it costs a few percent where a column of its own cost as much as the JSON. The frame holds
UTF-16, where Japanese takes two bytes a character instead of three, compressed from a dictionary
trained on records of their shape, which holds the JSON keys that a frame of a few hundred bytes
would otherwise spell out in each row, and the entropy tables it would otherwise build: a passage
of the 100k benchmark takes 429 bytes instead of 570.

Every ingest or removal is one transaction: a process killed half-way leaves the previous
index intact, and readers are never blocked by a writer (WAL). Each commit bumps a generation
number that names the derived BM25 arrays cached beside the database.

A new index is the exception: it is built in a file of its own beside where it goes, without the
WAL, and linked into place whole once it is on disk. In WAL mode every page is written twice (to
the WAL, then by the checkpoint after the commit): the commit of a 100k-passage ingest took 0.5 s,
with nothing else left to do, and takes 0.15 s aside. Until the link there is no index, which is
what a reader is told, and a build killed half-way leaves a file that the next build removes.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import zstandard

from planindex.errors import IndexBusy, IndexDamaged, IndexError_, IndexMismatch, IndexMissing, UnknownRecord

DB_NAME = "planindex.db"
# A page holds whole records and leaves the rest unused when the next does not fit: in 4 KiB
# pages that was a sixth of the database; 16 KiB pages waste a quarter of that.
PAGE_SIZE = 16384
BUSY_TIMEOUT = 30  # seconds a writer waits for another writer before giving up
# Rows are read through a memory map: a search reads about ten records from random pages, each a
# read() system call into SQLite's page cache otherwise (0.09 -> 0.04 ms for ten rows at 100k).
# SQLite caps it at its compiled maximum (2 GB by default); it is address space, not memory.
MMAP_SIZE = 1 << 31
CACHE_FOLDER = "cache"  # derived arrays, per generation: cache/g<N>/ (index.py)
BUILDING = ".building"  # a new index being built: planindex.db.<pid>.building
SCHEMA_VERSION = "1"
# Records name their document by its number, a byte or two, where its 16-character id in every row
# and in the index over it took 4 MB at 100k passages; the views `passages` and `kpis` give the
# rows with their document's id, which is what every reader asks for and filters on.
SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (number INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passage_rows (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc INTEGER NOT NULL, kind TEXT NOT NULL,
    data BLOB NOT NULL, words BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS passage_rows_doc ON passage_rows (doc);
CREATE VIEW IF NOT EXISTS passages AS SELECT r.rowid AS rowid, r.id AS id, d.id AS doc_id, r.kind AS kind, r.data AS data,
    r.words AS words FROM passage_rows r JOIN documents d ON d.number = r.doc;
CREATE TABLE IF NOT EXISTS kpi_rows (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc INTEGER NOT NULL,
    data BLOB NOT NULL, words BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS kpi_rows_doc ON kpi_rows (doc);
CREATE VIEW IF NOT EXISTS kpis AS SELECT r.rowid AS rowid, r.id AS id, d.id AS doc_id, r.data AS data, r.words AS words
    FROM kpi_rows r JOIN documents d ON d.number = r.doc;
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    passage_id TEXT NOT NULL, kpi_id TEXT NOT NULL, doc_id TEXT NOT NULL, score REAL NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS links_passage ON links (passage_id);
CREATE INDEX IF NOT EXISTS links_kpi ON links (kpi_id);
"""
ROWS = {"passages": "passage_rows", "kpis": "kpi_rows"}  # the table under each view
_DOC_NUMBER = "(SELECT number FROM documents WHERE id = ?)"
STORE_FORMAT = "10"  # 3: record JSON and normalized text in one zlib stream; 4: postings in blocks (bm25.Postings);
# 5: term counts as gaps in the fewest bytes, 16 KiB pages; 6: one-byte weights (bm25.Weights); 7: no bigram counts
# stored (counted from the normalized texts when the arrays are built), terms are words only; 8: bigram postings
# without weights (bm25.Presence), records as UTF-16 deflated from a dictionary of their keys, word counts as
# varints; 9: records as zstd frames (the same dictionary, as raw content); 10: records from a trained dictionary.
# An index of another format must be rebuilt.
CHUNK = 500  # ids per IN (...) query, under SQLite's limit on bound parameters


def pack_counts(term_ids: Sequence[int], local_ids: Sequence[int], counts: Sequence[int], sizes: Sequence[int]) -> list[bytes]:
    """Records given as runs of (local term id, count) pairs, `sizes` pairs each, → per record its
    sorted index term ids (term_ids[local id]) and their counts as LEB128 varints (7 bits a byte,
    the low ones first, the high bit set on every byte of a number but its last): the number of
    terms n; the n gaps between the sorted ids (the first id whole); then, for each term counted
    more than once, a pair: its place among the n, as the gap from the previous such place (the
    first from 0), and its count. Every other count is 1, as 87% of them are. Not compressed: on
    records of some 130 bytes zlib's header and code tables cost more than they save (at 100k
    passages 176 bytes a record with zlib over gaps and counts in the fewest whole bytes, 134 as
    varints), and decoding a block's records is a few numpy calls over all of them (unpack_many).
    Everything per pair is done over all records at once: numpy calls per record cost more than
    the tokenizer. The sort key is (record, term id) in one int64, which a single argsort orders
    three times faster than lexsort does the two columns; a record holds each term once, so no tie
    needs a stable sort."""
    sizes_ = np.asarray(sizes, dtype=np.int64)
    terms = np.asarray(term_ids, dtype=np.int64)[np.asarray(local_ids, dtype=np.int64)]
    owners = np.repeat(np.arange(len(sizes_), dtype=np.int64), sizes_)
    order = np.argsort((owners << 32) | terms)  # by record, then by term id (ids are below 2**31)
    sorted_terms, sorted_counts = terms[order], np.asarray(counts, dtype=np.int64)[order]
    term_bounds = _bounds(sizes_)
    repeated = np.flatnonzero(sorted_counts > 1)  # by record, then by place
    repeats = np.bincount(owners[repeated], minlength=len(sizes_))
    pair_bounds = _bounds(repeats)
    value_bounds = _bounds(1 + sizes_ + 2 * repeats)
    values = np.empty(value_bounds[-1], np.int64)
    values[value_bounds[:-1]] = sizes_
    values[_gap_places(value_bounds, term_bounds, sizes_)] = _gaps(sorted_terms, term_bounds, sizes_)
    pairs = np.repeat(value_bounds[:-1] + 1 + sizes_ - 2 * pair_bounds[:-1], repeats) + 2 * np.arange(len(repeated))
    values[pairs] = _gaps(repeated - term_bounds[owners[repeated]], pair_bounds, repeats)
    values[pairs + 1] = sorted_counts[repeated]
    data, widths = _varints(values)
    byte_bounds = _bounds(widths)[value_bounds].tolist()
    return [data[a:b] for a, b in itertools.pairwise(byte_bounds)]


def unpack_counts(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    """(sorted term ids, counts), both int32, of a record packed by pack_counts. A reader of many
    records decodes them together (unpack_many): its numpy calls cost the same for one or 65,536."""
    ids, counts, _ = unpack_many([blob])
    return ids, counts


def unpack_many(blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The records packed by pack_counts one after another: their sorted term ids and counts (both
    int32), and how many terms each holds (int64). Decoded all at once, as the array build reads a
    block of 65,536 records: numpy calls per record would cost more than the decoding."""
    data = np.frombuffer(b"".join(blobs), np.uint8)
    last = np.flatnonzero(data < 0x80)  # each number's last byte
    values = _read_varints(data, last)
    value_bounds = np.searchsorted(last, _bounds(np.fromiter(map(len, blobs), np.int64, len(blobs))))
    sizes = values[value_bounds[:-1]]
    term_bounds = _bounds(sizes)
    gap_places = _gap_places(value_bounds, term_bounds, sizes)
    ids = _running_sums(values[gap_places], term_bounds, sizes)
    in_pairs = np.ones(len(values), bool)
    in_pairs[value_bounds[:-1]] = in_pairs[gap_places] = False
    pairs = values[in_pairs]
    repeats = (np.diff(value_bounds) - 1 - sizes) // 2
    places = _running_sums(pairs[0::2], _bounds(repeats), repeats) + np.repeat(term_bounds[:-1], repeats)
    counts = np.ones(len(ids), np.int32)
    counts[places] = pairs[1::2]
    return ids.astype(np.int32), counts, sizes


def _bounds(sizes: Sequence[int] | np.ndarray) -> np.ndarray:
    """Where each of consecutive runs of these sizes starts, and the end of the last (int64)."""
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


def _gap_places(value_bounds: np.ndarray, term_bounds: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Where each record's term id gaps are among the numbers of all records: after its count of terms."""
    return np.repeat(value_bounds[:-1] + 1 - term_bounds[:-1], sizes) + np.arange(term_bounds[-1])


def _gaps(values: np.ndarray, bounds: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Ascending runs (run i from bounds[i], sizes[i] long) as the gaps from each value to the one
    before it in its run, the first of a run whole."""
    gaps = np.diff(values, prepend=0)
    firsts = bounds[:-1][sizes > 0]
    gaps[firsts] = values[firsts]
    return gaps


def _running_sums(gaps: np.ndarray, bounds: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The values that _gaps made these gaps of, in one cumulative sum over all runs: each run's
    first gap less the sum of the run before (a run's sum is its last value) makes the sums restart
    there. Half the time of subtracting each run's offset from every value."""
    firsts = bounds[:-1][sizes > 0]
    restarted = gaps.copy()
    restarted[firsts[1:]] -= np.add.reduceat(gaps, firsts)[:-1]
    return np.cumsum(restarted)


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Non-negative numbers as LEB128 varints, one after another, and how many bytes each took.
    Most take one byte (at 100k passages seven in eight), which is the number itself: only the
    others are cut into 7-bit groups, half the time of cutting every number (4.2 -> 2.3 ms a run of
    500 passages, 55k numbers; fancy indexing costs 4 ns an element here)."""
    widths = np.ones(len(values), np.int64)
    threshold = 1 << 7
    while (more := values >= threshold).any():
        widths += more
        threshold <<= 7
    starts = _bounds(widths)
    data = np.empty(starts[-1], np.uint8)
    longer = np.flatnonzero(widths > 1)
    single = np.ones(len(values), bool)
    single[longer] = False
    data[starts[:-1][single]] = values[single]
    if len(longer):
        longer_widths = widths[longer]
        owners = np.repeat(longer, longer_widths)
        groups = np.arange(len(owners)) - np.repeat(_bounds(longer_widths)[:-1], longer_widths)  # 0 = the low 7 bits
        cut = ((values[owners] >> (7 * groups)) & 0x7F) | 0x80
        cut[np.cumsum(longer_widths) - 1] &= 0x7F  # a number's last byte says so
        data[starts[owners] + groups] = cut
    return data.tobytes(), widths


def _read_varints(data: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The numbers (int64) of LEB128 varints whose last bytes are at `last`: byte by byte, each
    step over the fewer numbers that are longer (at 100k passages seven in eight take one byte),
    twice as fast as shifting every byte into place for one np.add.reduceat."""
    starts = np.empty_like(last)
    starts[:1], starts[1:] = 0, last[:-1] + 1
    values = (data[starts] & 0x7F).astype(np.int64)
    longer, shift = np.flatnonzero(last > starts), 7
    while len(longer):
        at = starts[longer] + shift // 7
        values[longer] |= (data[at] & 0x7F).astype(np.int64) << shift
        longer, shift = longer[last[longer] > at], shift + 7
    return values


_UTF16 = "utf-16-le"
# zstd from a dictionary trained on records of their shape (tools/make_record_dictionary.py): their
# JSON keys, and the entropy tables of Japanese in UTF-16, which a frame of a kilobyte otherwise
# builds for itself (3.4 against 9 us a record at 100k passages, and 6% fewer bytes than from a
# dictionary of the keys alone). Level 1: level 3 took 1.6 us more a record for 2% fewer bytes. A
# fresh decompression context is not set up for each record read. Frames carry no magic number,
# checksum or dictionary id: 8 bytes a row that every row would repeat. A new dictionary changes
# every stored record: a new STORE_FORMAT.
_LEVEL = 1
_TYPICAL_RECORD = 1200  # bytes of UTF-16
_DICTIONARY_BYTES = (files("planindex") / "data" / "records.zdict").read_bytes()
_DICTIONARY = zstandard.ZstdCompressionDict(_DICTIONARY_BYTES, dict_type=zstandard.DICT_TYPE_FULLDICT)
_PACKING = zstandard.ZstdCompressionParameters.from_level(
    _LEVEL, source_size=_TYPICAL_RECORD, dict_size=len(_DICTIONARY_BYTES), format=zstandard.FORMAT_ZSTD1_MAGICLESS,
    write_checksum=0, write_dict_id=0, write_content_size=1,
)  # fmt: skip
# Digested once (0.1 ms) rather than loaded into the match tables for every record.
_DICTIONARY.precompute_compress(compression_params=_PACKING)
_PACKER = zstandard.ZstdCompressor(dict_data=_DICTIONARY, compression_params=_PACKING)
_UNPACKER = zstandard.ZstdDecompressor(dict_data=_DICTIONARY, format=zstandard.FORMAT_ZSTD1_MAGICLESS)


def encode_record(data: str, norm: str) -> bytes:
    """A record's JSON text (records.Passage.json_text) and normalized text, before compression.
    JSON escapes every control character, so the first NUL ends it."""
    # surrogatepass: a lone surrogate (an undecodable byte of a command line) is stored as it came
    return f"{data}\0{norm}".encode(_UTF16, "surrogatepass")


def pack_record(data: str, norm: str) -> bytes:
    """A record's JSON text and normalized text as stored."""
    return _PACKER.compress(encode_record(data, norm))


def _halves(blob: bytes) -> tuple[str, str]:
    """A stored record's JSON and its normalized text."""
    raw = _UNPACKER.decompress(blob).decode(_UTF16, "surrogatepass")
    cut = raw.index("\0")
    return raw[:cut], raw[cut + 1 :]


def unpack_record(blob: bytes) -> tuple[dict[str, Any], str]:
    """(record data, normalized text) of a stored record."""
    data, norm = _halves(blob)
    return json.loads(data), norm


def record_data(blob: bytes) -> dict[str, Any]:
    """The record data alone: a search decodes it for every hit it shows, never the text after it."""
    return json.loads(_halves(blob)[0])


def record_norm(blob: bytes) -> str:
    """The normalized text alone, without parsing the JSON: the array build reads every record's."""
    return _halves(blob)[1]


def _remove_if_abandoned(building: Path) -> None:
    """Delete a new index's file whose build is over (killed): nobody holds its lock."""
    probe = sqlite3.connect(building, isolation_level=None, timeout=0)
    try:
        probe.execute("BEGIN EXCLUSIVE")
    except sqlite3.OperationalError:  # locked: its build is running
        return
    except sqlite3.DatabaseError:  # killed before its first page was whole
        pass
    finally:
        probe.close()
    building.unlink(missing_ok=True)


def _open_error(path: Path, exc: sqlite3.DatabaseError) -> IndexError_:
    name = getattr(exc, "sqlite_errorname", "")
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
        return IndexDamaged(f"{path} is not a readable planindex index ({exc}): delete {path.parent} and ingest again")
    if name in ("SQLITE_BUSY", "SQLITE_LOCKED"):
        return IndexBusy(f"another process holds the index in {path.parent} ({exc}): run this again when it ends")
    return IndexError_(f"cannot open the index {path} ({exc})")


def _connect(path: Path | str, journal: str = "WAL") -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT)
    try:
        db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a no-op once the database exists
        db.execute(f"PRAGMA journal_mode={journal}")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA mmap_size={MMAP_SIZE}")
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


class Store:
    def __init__(self, folder: Path, connection: sqlite3.Connection) -> None:
        self.folder = folder
        self.db = connection
        self._layout: dict[str, str] | None = None  # the manifest to lay down fresh tables with, on the first write
        self._building = False  # whether that first write makes a new index, aside (the module's docstring)

    @classmethod
    def open(cls, folder: Path, expected: dict[str, str], create: bool = False, rebuild: bool = False) -> Store:
        """Open the index in `folder` and check its manifest.

        With create, a missing index is made, but only by the first write transaction: an ingest
        that writes nothing (every input failed) leaves no half-made index behind. With rebuild,
        the manifest is not checked and that first transaction replaces every table, so that a
        rebuild killed half-way leaves the old index as it was."""
        path = folder / DB_NAME
        if not path.exists() and not create:
            raise IndexMissing(f"no index in {folder}: build one with `planindex ingest corpora/`")
        folder.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # until the first write, an empty database stands in for the one to be built
            store = cls(folder, _connect(":memory:"))
            store._layout, store._building = expected, True
            return store
        try:
            db = _connect(path)
        except sqlite3.DatabaseError as exc:
            raise _open_error(path, exc) from exc
        store = cls(folder, db)
        try:
            manifest = store.manifest()
        except sqlite3.DatabaseError as exc:
            db.close()
            raise _open_error(path, exc) from exc
        if not manifest and not create:
            db.close()
            raise IndexMissing(f"no index in {folder}: build one with `planindex ingest corpora/`")
        if manifest and not rebuild:
            store._check(manifest, expected)
        store._layout = expected if rebuild or not manifest else None
        return store

    @property
    def fresh(self) -> bool:
        """Whether the next write lays down new tables (a new index, or a rebuild): until then the
        old tables, if any, are not this index's content."""
        return self._layout is not None

    def _check(self, manifest: dict[str, str], expected: dict[str, str]) -> None:
        wanted = {**expected, "schema": SCHEMA_VERSION}
        for key, value in wanted.items():
            if manifest.get(key) != value:
                raise IndexMismatch(
                    f"the index in {self.folder} was built with {key} {manifest.get(key)!r}, this planindex uses "
                    f"{value!r}: rebuild it with `planindex ingest --rebuild corpora/` (or delete {self.folder})"
                )

    def manifest(self) -> dict[str, str]:
        try:
            return dict(self.db.execute("SELECT key, value FROM manifest").fetchall())
        except sqlite3.OperationalError:
            return {}

    def generation(self) -> int:
        return int(self.db.execute("SELECT value FROM manifest WHERE key = 'generation'").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction: all of it lands, or none of it does. One that changed no row is
        rolled back: it is not a new generation, and the index stays byte for byte as it was."""
        building = self._start_building() if self._building else None
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # only "database is locked" can happen here
            self._stop_building(building)
            raise IndexBusy(
                f"another process has been writing to the index in {self.folder} for {BUSY_TIMEOUT} s ({exc}): run this again when it ends"
            ) from exc
        changes = self.db.total_changes
        try:
            if self._layout is not None:
                self._lay_out(self._layout)
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            self._stop_building(building)
            raise
        if self.db.total_changes == changes:
            self.db.execute("ROLLBACK")
            self._stop_building(building)
            return
        self.db.execute("UPDATE manifest SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        self.db.execute("COMMIT")
        if building:
            self._put_in_place(building)
        self._layout = None

    def _start_building(self) -> Path:
        """Connect to a new file for the new index, after removing those that builds killed
        half-way left (a running build holds its file's lock from here to its end). Its rollback
        journal is in memory: a journal holds nothing for pages added, which are all of them, and
        the file is thrown away if anything fails. The commit syncs it (synchronous=NORMAL), so
        that its name never points at half a file."""
        for left in self.folder.glob(f"{DB_NAME}.*{BUILDING}"):
            _remove_if_abandoned(left)
        building = self.folder / f"{DB_NAME}.{os.getpid()}{BUILDING}"
        building.unlink(missing_ok=True)
        self.db.close()
        try:
            self.db = _connect(building, journal="MEMORY")
        except sqlite3.DatabaseError as exc:
            self.db = _connect(":memory:")
            raise _open_error(building, exc) from exc
        return building

    def _stop_building(self, building: Path | None) -> None:
        if building:
            self.db.close()
            building.unlink(missing_ok=True)
            self.db = _connect(":memory:")

    def _put_in_place(self, building: Path) -> None:
        """Write the new index to disk, then give it its name: a link, which fails where another
        process put an index meanwhile (a rename would replace it, and could meet its WAL)."""
        self.db.close()
        self.db = _connect(":memory:")
        path = self.folder / DB_NAME
        try:
            os.link(building, path)
        except FileExistsError as exc:
            raise self._made_meanwhile() from exc
        except FileNotFoundError as exc:  # removed by a build started meanwhile, in the instant before this one held it
            raise IndexBusy(f"another process was building an index in {self.folder} too: run this again") from exc
        except OSError:  # a file system without hard links: the check and the rename are two steps
            if path.exists():
                raise self._made_meanwhile() from None
            os.replace(building, path)
        finally:
            building.unlink(missing_ok=True)
        self.db.close()
        self.db = _connect(path)
        self._building = False

    def _made_meanwhile(self) -> IndexBusy:
        return IndexBusy(f"another process made an index in {self.folder} meanwhile: run this again to add to it")

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """A read transaction: every query inside sees the same committed state, whatever a writer
        commits meanwhile (WAL keeps the old pages for it). A reader needs it to keep the BM25
        arrays, the generation that names their cache and the rows their positions point to in step."""
        self.db.execute("BEGIN")
        try:
            self.db.execute("SELECT COUNT(*) FROM manifest").fetchone()  # BEGIN is lazy: this pins the snapshot
            yield
        finally:
            self.db.execute("ROLLBACK")

    def _lay_out(self, expected: dict[str, str]) -> None:
        """Drop every table and create the schema, inside the open transaction (SQLite's DDL is
        transactional). The generation carries on from the old index, so no reader mistakes the
        cached arrays of the old index for those of the new one."""
        previous = self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'manifest'").fetchone()
        generation = self.generation() if previous else 0
        if not previous:  # a database made anew beside the cache of a deleted one would meet its g1, g2...
            shutil.rmtree(self.folder / CACHE_FOLDER, ignore_errors=True)
        for kind, name in self.db.execute("SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')").fetchall():
            self.db.execute(f'DROP {kind.upper()} "{name}"')
        for statement in SCHEMA.split(";"):
            if statement.strip():
                self.db.execute(statement)
        self.db.executemany(
            "INSERT INTO manifest VALUES (?, ?)", [*expected.items(), ("schema", SCHEMA_VERSION), ("generation", str(generation))]
        )

    # --- vocabulary (words; bigram ids are given when the arrays are built) ------------------
    def vocabulary(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT term, id FROM terms").fetchall())

    def term_count(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM terms").fetchone()[0])

    def intern(self, terms: list[str], known: dict[str, int]) -> np.ndarray:
        """The ids of terms (int64), new ones given theirs, updating `known` in place: one statement
        for a whole batch. Inside the caller's write transaction nobody else can add terms, so the
        ids are counted here rather than read back with a query per term."""
        new = sorted(set(terms).difference(known))
        if new:
            first = self.term_count() + 1
            known.update(zip(new, range(first, first + len(new))))
            self.db.executemany("INSERT INTO terms (id, term) VALUES (?, ?)", [(known[t], t) for t in new])
        return np.fromiter(map(known.__getitem__, terms), np.int64, len(terms))

    # --- records --------------------------------------------------------------------------
    def document_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT id FROM documents")}

    def owners(self, table: str, record_ids: list[str]) -> dict[str, str]:
        """record id → the document holding it, for those of the ids already indexed."""
        return dict(self._where_in(f"SELECT id, doc_id FROM {table} WHERE id IN ({{marks}})", record_ids))

    def put_document(self, doc_id: str, data: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO documents (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (doc_id, json.dumps(data, ensure_ascii=False)),
        )

    def put_records(self, table: str, rows: list[tuple[str, str, str, str, str, bytes]]) -> None:
        """rows of (id, doc_id, kind, JSON text, normalized text, packed words), of documents already put."""
        if table == "passages":
            self.db.executemany(
                f"INSERT OR REPLACE INTO passage_rows (id, doc, kind, data, words) VALUES (?, {_DOC_NUMBER}, ?, ?, ?)",
                [(i, d, k, pack_record(data, n), w) for i, d, k, data, n, w in rows],
            )
        else:
            self.db.executemany(
                f"INSERT OR REPLACE INTO kpi_rows (id, doc, data, words) VALUES (?, {_DOC_NUMBER}, ?, ?)",
                [(i, d, pack_record(data, n), w) for i, d, _, data, n, w in rows],
            )

    def put_links(self, rows: list[tuple[str, str, str, float, str]]) -> None:
        self.db.executemany("INSERT INTO links VALUES (?, ?, ?, ?, ?)", rows)

    def delete_document(self, doc_id: str) -> None:
        for table in ROWS.values():
            self.db.execute(f"DELETE FROM {table} WHERE doc = {_DOC_NUMBER}", (doc_id,))
        self.db.execute("DELETE FROM links WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def documents(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT data FROM documents ORDER BY json_extract(data, '$.path')").fetchall()
        return [json.loads(r[0]) for r in rows]

    def document(self, doc_id: str) -> dict[str, Any]:
        """The document with this id, or the only one whose id starts with it."""
        rows = self.db.execute("SELECT data FROM documents WHERE id = ?", (doc_id,)).fetchall()
        if not rows and doc_id:
            # substr, not LIKE: a % or _ typed by the user is not a wildcard
            rows = self.db.execute("SELECT data FROM documents WHERE substr(id, 1, ?) = ?", (len(doc_id), doc_id)).fetchall()
        if not rows:
            raise UnknownRecord(f"no document {doc_id!r} in the index: `planindex docs` lists them")
        if len(rows) > 1:
            raise UnknownRecord(f"{doc_id!r} starts the ids of {len(rows)} documents: type more of the id (`planindex docs` lists them)")
        return json.loads(rows[0][0])

    def count(self, table: str, doc_id: str | None = None) -> int:
        if doc_id:
            return int(self.db.execute(f"SELECT COUNT(*) FROM {table} WHERE doc_id = ?", (doc_id,)).fetchone()[0])
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def postings_rows(self, table: str) -> Iterator[tuple[int, str, str, bytes, bytes]]:
        """(rowid, doc_id, kind, words, data) in rowid order: the order of the BM25 arrays. data is
        the stored record (record_norm gives the normalized text its bigrams are counted from)."""
        kind = "kind" if table == "passages" else "'KPI'"
        yield from self.db.execute(f"SELECT rowid, doc_id, {kind}, words, data FROM {table} ORDER BY rowid")

    def records(self, table: str, rowids: list[int]) -> dict[int, dict[str, Any]]:
        """rowid → record data (the normalized text, for phrase checks, is norms()). Read from the
        rows' table, not the view: every search reads these, and the view would join each row to its
        document for an id nobody asked for."""
        rows = self._where_in(f"SELECT rowid, data FROM {ROWS[table]} WHERE rowid IN ({{marks}})", rowids)
        return {rowid: record_data(blob) for rowid, blob in rows}

    def _where_in(self, query: str, values: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        """Rows of a query whose `{marks}` is an IN list of the values, CHUNK of them at a time."""
        for start in range(0, len(values), CHUNK):
            chunk = values[start : start + CHUNK]
            yield from self.db.execute(query.format(marks=",".join("?" * len(chunk))), chunk)

    def norms(self, table: str, rowids: list[int]) -> dict[int, str]:
        """rowid → normalized text, without the record data: what a phrase or exclusion check reads."""
        rows = self._where_in(f"SELECT rowid, data FROM {ROWS[table]} WHERE rowid IN ({{marks}})", rowids)
        return {rowid: record_norm(blob) for rowid, blob in rows}

    def record_by_id(self, table: str, record_id: str) -> tuple[int, dict[str, Any]] | None:
        row = self.db.execute(f"SELECT rowid, data FROM {table} WHERE id = ?", (record_id,)).fetchone()
        return (row[0], record_data(row[1])) if row else None

    def all_records(self, table: str, doc_ids: list[str] | None = None) -> list[dict[str, Any]]:
        if doc_ids is None:
            rows = self.db.execute(f"SELECT data FROM {table} ORDER BY rowid").fetchall()
        else:
            marks = ",".join("?" * len(doc_ids))
            rows = self.db.execute(f"SELECT data FROM {table} WHERE doc_id IN ({marks}) ORDER BY rowid", doc_ids).fetchall()
        return [record_data(r[0]) for r in rows]

    def links_of(self, column: str, record_id: str) -> list[tuple[str, str, float, str]]:
        """(passage_id, kpi_id, score, reason) for one passage or KPI, best first."""
        rows = self.db.execute(f"SELECT passage_id, kpi_id, score, reason FROM links WHERE {column} = ? ORDER BY score DESC", (record_id,))
        return rows.fetchall()

    def linked_kpis(self, passage_ids: list[str], limit: int) -> dict[str, list[tuple[str, str, float]]]:
        """passage id → (KPI id, KPI name, score) of its best `limit` links, best first, for many
        passages in one query. A link whose KPI is gone takes its place in the `limit` but is left out."""
        out: dict[str, list[tuple[str, str, float]]] = {p: [] for p in passage_ids}
        seen: dict[str, int] = dict.fromkeys(passage_ids, 0)
        rows = self._where_in(
            "SELECT l.passage_id, l.kpi_id, k.data, l.score FROM links l "
            "LEFT JOIN kpi_rows k ON k.id = l.kpi_id WHERE l.passage_id IN ({marks}) ORDER BY l.passage_id, l.score DESC, l.rowid",
            passage_ids,
        )
        for passage_id, kpi_id, kpi, score in rows:
            seen[passage_id] += 1
            if seen[passage_id] <= limit and kpi is not None:
                out[passage_id].append((kpi_id, record_data(kpi)["name"], score))
        return out

    def close(self) -> None:
        self.db.close()
