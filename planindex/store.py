"""The index on disk: one SQLite database (WAL mode) holding documents, passages, KPIs, links,
the term vocabulary, per-record term counts and a manifest of what built it.

Every ingest or removal is one transaction: a process killed half-way leaves the previous
index intact, and readers are never blocked by a writer (WAL). Each commit bumps a generation
number that names the derived BM25 arrays cached beside the database.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from planindex.errors import IndexMismatch, IndexMissing, UnknownRecord

DB_NAME = "planindex.db"
SCHEMA_VERSION = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS manifest (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS passages (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL, kind TEXT NOT NULL,
    data TEXT NOT NULL, norm TEXT NOT NULL, words BLOB NOT NULL, grams BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS passages_doc ON passages (doc_id);
CREATE TABLE IF NOT EXISTS kpis (
    rowid INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc_id TEXT NOT NULL,
    data TEXT NOT NULL, norm TEXT NOT NULL, words BLOB NOT NULL, grams BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS kpis_doc ON kpis (doc_id);
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, field TEXT NOT NULL, term TEXT NOT NULL, UNIQUE (field, term));
CREATE TABLE IF NOT EXISTS links (
    passage_id TEXT NOT NULL, kpi_id TEXT NOT NULL, doc_id TEXT NOT NULL, score REAL NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS links_passage ON links (passage_id);
CREATE INDEX IF NOT EXISTS links_kpi ON links (kpi_id);
"""
TABLES = ("passages", "kpis")


def pack_counts(term_ids: list[int]) -> bytes:
    """Term ids (with repeats) → bytes of sorted unique ids followed by their counts (int32)."""
    ids, counts = np.unique(np.asarray(term_ids, dtype=np.int32), return_counts=True)
    return ids.astype(np.int32).tobytes() + counts.astype(np.int32).tobytes()


def unpack_counts(blob: bytes) -> tuple[np.ndarray, np.ndarray]:
    data = np.frombuffer(blob, dtype=np.int32)
    half = len(data) // 2
    return data[:half], data[half:]


class Store:
    def __init__(self, folder: Path, connection: sqlite3.Connection) -> None:
        self.folder = folder
        self.db = connection

    @classmethod
    def open(cls, folder: Path, expected: dict[str, str], create: bool = False) -> Store:
        """Open the index in `folder`; with create, make it when absent. Checks the manifest."""
        path = folder / DB_NAME
        if not path.exists():
            if not create:
                raise IndexMissing(f"no index in {folder}: build one with `planindex ingest corpora/`")
            folder.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        store = cls(folder, db)
        manifest = store.manifest()
        if not manifest:
            if not create:
                raise IndexMissing(f"no index in {folder}: build one with `planindex ingest corpora/`")
            db.executescript(SCHEMA)  # idempotent; executescript commits on its own
            with store.transaction():
                db.executemany("INSERT INTO manifest VALUES (?, ?)", [*expected.items(), ("schema", SCHEMA_VERSION), ("generation", "0")])
        else:
            store._check(manifest, expected)
        return store

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
        """One write transaction: all of it lands, or none of it does."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        else:
            self.db.execute("UPDATE manifest SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
            self.db.execute("COMMIT")

    # --- vocabulary -----------------------------------------------------------------------
    def vocabulary(self, field: str) -> dict[str, int]:
        return dict(self.db.execute("SELECT term, id FROM terms WHERE field = ?", (field,)).fetchall())

    def term_count(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(id), 0) FROM terms").fetchone()[0])

    def intern(self, field: str, terms: Iterable[str], known: dict[str, int]) -> None:
        """Give new terms ids (inside the caller's transaction), updating `known` in place."""
        new = sorted({t for t in terms if t not in known})
        if not new:
            return
        self.db.executemany("INSERT OR IGNORE INTO terms (field, term) VALUES (?, ?)", [(field, t) for t in new])
        for chunk_start in range(0, len(new), 500):
            chunk = new[chunk_start : chunk_start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT term, id FROM terms WHERE field = ? AND term IN ({marks})", (field, *chunk))
            known.update(rows.fetchall())

    # --- records --------------------------------------------------------------------------
    def has_document(self, doc_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM documents WHERE id = ?", (doc_id,)).fetchone() is not None

    def put_document(self, doc_id: str, data: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO documents VALUES (?, ?)", (doc_id, json.dumps(data, ensure_ascii=False)))

    def put_records(self, table: str, rows: list[tuple[str, str, str, dict[str, Any], str, bytes, bytes]]) -> None:
        """rows of (id, doc_id, kind, data, normalized text, packed words, packed grams)."""
        if table == "passages":
            self.db.executemany(
                "INSERT OR REPLACE INTO passages (id, doc_id, kind, data, norm, words, grams) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(i, d, k, json.dumps(data, ensure_ascii=False), n, w, g) for i, d, k, data, n, w, g in rows],
            )
        else:
            self.db.executemany(
                "INSERT OR REPLACE INTO kpis (id, doc_id, data, norm, words, grams) VALUES (?, ?, ?, ?, ?, ?)",
                [(i, d, json.dumps(data, ensure_ascii=False), n, w, g) for i, d, _, data, n, w, g in rows],
            )

    def put_links(self, rows: list[tuple[str, str, str, float, str]]) -> None:
        self.db.executemany("INSERT INTO links VALUES (?, ?, ?, ?, ?)", rows)

    def delete_document(self, doc_id: str) -> None:
        for table in ("passages", "kpis", "links"):
            self.db.execute(f"DELETE FROM {table} WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def documents(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT data FROM documents ORDER BY json_extract(data, '$.path')").fetchall()
        return [json.loads(r[0]) for r in rows]

    def document(self, doc_id: str) -> dict[str, Any]:
        row = self.db.execute("SELECT data FROM documents WHERE id = ? OR id LIKE ?", (doc_id, doc_id + "%")).fetchone()
        if row is None:
            raise UnknownRecord(f"no document {doc_id!r} in the index: `planindex docs` lists them")
        return json.loads(row[0])

    def count(self, table: str, doc_id: str | None = None) -> int:
        if doc_id:
            return int(self.db.execute(f"SELECT COUNT(*) FROM {table} WHERE doc_id = ?", (doc_id,)).fetchone()[0])
        return int(self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def postings_rows(self, table: str) -> Iterator[tuple[int, str, str, bytes, bytes]]:
        """(rowid, doc_id, kind, words, grams) in rowid order: the order of the BM25 arrays."""
        kind = "kind" if table == "passages" else "'KPI'"
        yield from self.db.execute(f"SELECT rowid, doc_id, {kind}, words, grams FROM {table} ORDER BY rowid")

    def records(self, table: str, rowids: list[int]) -> dict[int, tuple[dict[str, Any], str]]:
        """rowid → (record data, normalized text)."""
        if not rowids:
            return {}
        marks = ",".join("?" * len(rowids))
        rows = self.db.execute(f"SELECT rowid, data, norm FROM {table} WHERE rowid IN ({marks})", rowids).fetchall()
        return {r[0]: (json.loads(r[1]), r[2]) for r in rows}

    def record_by_id(self, table: str, record_id: str) -> tuple[int, dict[str, Any]] | None:
        row = self.db.execute(f"SELECT rowid, data FROM {table} WHERE id = ?", (record_id,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def all_records(self, table: str, doc_ids: list[str] | None = None) -> list[dict[str, Any]]:
        if doc_ids is None:
            rows = self.db.execute(f"SELECT data FROM {table} ORDER BY rowid").fetchall()
        else:
            marks = ",".join("?" * len(doc_ids))
            rows = self.db.execute(f"SELECT data FROM {table} WHERE doc_id IN ({marks}) ORDER BY rowid", doc_ids).fetchall()
        return [json.loads(r[0]) for r in rows]

    def links_of(self, column: str, record_id: str) -> list[tuple[str, str, float, str]]:
        """(passage_id, kpi_id, score, reason) for one passage or KPI, best first."""
        rows = self.db.execute(f"SELECT passage_id, kpi_id, score, reason FROM links WHERE {column} = ? ORDER BY score DESC", (record_id,))
        return rows.fetchall()

    def close(self) -> None:
        self.db.close()
