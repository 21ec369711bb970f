"""The index on disk (issue 4, item 3): incremental ingest, replacement, removal, the manifest check,
crash safety and readers that a writer never blocks."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planindex import ingest as ingest_module
from planindex import store as store_module
from planindex.errors import IndexBusy, IndexMismatch
from planindex.index import Index
from planindex.ingest import ingest
from planindex.search import search
from planindex.store import DB_NAME, STORE_FORMAT, unpack_counts
from planindex.tokens import Tokenizer, tokenizer
from tests.conftest import CORPUS, PDFS
from tests.support import assert_one_line_error, cli_env, corpus_sentences, index_state, invoke, run_cli, write_passages

QUERIES = ("待機児童", "地域づくり協議会", "農業", "ＤＸ")


def ranked(folder: Path) -> dict[str, list[tuple[str, float]]]:
    """(id, score) of the top hits of a few queries: what a user of the index would see."""
    index = Index.open(folder)
    try:
        return {q: [(h.id, h.score) for h in search(index, q, 10).hits] for q in QUERIES}
    finally:
        index.close()


def test_reingesting_the_same_corpus_changes_nothing_and_tokenizes_nothing(index_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = index_state(index_copy)

    def refuse(*_: object, **__: object) -> list[str]:
        raise AssertionError("an unchanged document was tokenized again")

    monkeypatch.setattr(Tokenizer, "words", refuse)
    report = ingest([CORPUS], index_copy)
    assert {e.status for e in report.events} == {"unchanged"}
    assert len(report.events) == len(PDFS)
    assert index_state(index_copy) == before  # not even the generation moved: no write at all


def test_a_changed_pdf_replaces_its_previous_version(tmp_path: Path) -> None:
    folder, pdf = tmp_path / "index", tmp_path / "report.pdf"
    pdf.write_bytes(PDFS["hyoka"].read_bytes())
    [first] = ingest([pdf], folder).events
    pdf.write_bytes(PDFS["gaiyo"].read_bytes())  # the same file name, new content
    [second] = ingest([pdf], folder).events
    assert (first.status, second.status) == ("added", "replaced")
    documents = index_state(folder).docs["documents"]
    assert [(d["id"], d["path"]) for d in documents] == [(second.doc_id, str(pdf.resolve()))]
    rows = index_state(folder).rows
    assert {r[2] for r in rows["passages"]} == {second.doc_id}  # no passage of the old version is left
    assert not [r for r in rows["kpis"] if r[2] == first.doc_id]


def test_a_changed_pdf_is_found_again_from_another_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents keep the absolute path: the same relative name typed elsewhere is another file."""
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "r.pdf").write_bytes(PDFS["hyoka"].read_bytes())
    monkeypatch.chdir(tmp_path / "a")
    ingest([Path("r.pdf")], tmp_path / "index")
    (tmp_path / "a" / "r.pdf").write_bytes(PDFS["gaiyo"].read_bytes())
    monkeypatch.chdir(tmp_path)
    assert [e.status for e in ingest([Path("a/r.pdf")], tmp_path / "index").events] == ["replaced"]
    assert len(index_state(tmp_path / "index").docs["documents"]) == 1


def test_a_changed_jsonl_replaces_every_document_it_made(tmp_path: Path) -> None:
    folder, source = tmp_path / "index", tmp_path / "passages.jsonl"
    lines = [{"id": "a1", "text": "待機児童の解消", "city": "所沢市"}, {"id": "b1", "text": "農業の担い手", "city": "清瀬市"}]
    source.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    assert [e.status for e in ingest([source], folder).events] == ["added", "added"]
    source.write_text(json.dumps({"id": "c1", "text": "公園の整備"}, ensure_ascii=False), encoding="utf-8")
    assert [e.status for e in ingest([source], folder).events] == ["replaced"]
    assert [r[1] for r in index_state(folder).rows["passages"]] == ["c1"]
    assert len(index_state(folder).docs["documents"]) == 1


def test_a_passage_id_already_used_by_another_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text('{"id": "p1", "text": "待機児童の解消"}\n', encoding="utf-8")
    second.write_text('{"id": "p1", "text": "農業の担い手"}\n', encoding="utf-8")
    ingest([first], folder)
    before = index_state(folder)
    [event] = ingest([second], folder).events
    assert event.status == "failed" and "'p1'" in event.message and "unique" in event.message
    assert index_state(folder) == before


def test_remove_takes_a_document_out_of_docs_and_search(index_copy: Path) -> None:
    [doc] = [d for d in index_state(index_copy).docs["documents"] if d["city"] == "清瀬市"]
    assert any(
        h["doc"]["id"] == doc["id"] for h in json.loads(invoke("search", "待機児童", "--json", "--index", index_copy).stdout)["hits"]
    )
    removed = invoke("remove", doc["id"][:8], "--json", "--index", index_copy)
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout)["removed"]["id"] == doc["id"]
    state = index_state(index_copy)
    assert doc["id"] not in [d["id"] for d in state.docs["documents"]]
    assert not [r for r in state.rows["passages"] if r[2] == doc["id"]]
    hits = json.loads(invoke("search", "待機児童", "--json", "--index", index_copy).stdout)["hits"]
    assert hits and all(h["doc"]["id"] != doc["id"] for h in hits)


@pytest.mark.parametrize("doc_id", ["0000000000000000", "%", "_", ""])
def test_remove_of_an_unknown_document_is_one_line_and_changes_nothing(index_copy: Path, doc_id: str) -> None:
    """% and _ are not wildcards, and an empty id matches nothing (a LIKE prefix would take all)."""
    before = index_state(index_copy)
    assert_one_line_error(run_cli("remove", doc_id, "--index", index_copy), "no document", "planindex docs")
    assert index_state(index_copy) == before


def test_docs_lists_every_document_with_its_counts(corpus_index: Path) -> None:
    documents = index_state(corpus_index).docs["documents"]
    assert sorted(Path(d["path"]).name for d in documents) == sorted(p.name for p in PDFS.values())
    by_name = {Path(d["path"]).name: d for d in documents}
    senryaku = by_name[PDFS["senryaku"].name]
    assert (senryaku["city"], senryaku["fiscal_year"], senryaku["kind"]) == ("所沢市", 2023, "総合戦略進捗管理表")
    assert all(d["passages"] > 0 for d in documents) and senryaku["kpis"] > 0
    table = invoke("docs", "--index", corpus_index)
    assert table.exit_code == 0 and "所沢市" in table.stdout


def tamper(folder: Path, key: str, value: str) -> None:
    db = sqlite3.connect(folder / DB_NAME)
    with db:
        db.execute("UPDATE manifest SET value = ? WHERE key = ?", (value, key))
    db.close()


def test_a_manifest_from_another_tokenizer_is_refused_until_a_rebuild(index_copy: Path) -> None:
    tamper(index_copy, "tokenizer", "fugashi-0.0+unidic-lite-0.0+norm-0")
    with pytest.raises(IndexMismatch) as raised:
        Index.open(index_copy)
    message = str(raised.value)
    assert "tokenizer" in message and "fugashi-0.0" in message and "planindex ingest --rebuild" in message
    assert_one_line_error(run_cli("search", "待機児童", "--index", index_copy), "tokenizer", "--rebuild")
    assert_one_line_error(run_cli("docs", "--index", index_copy), "--rebuild")
    generation = index_state_generation(index_copy)

    rebuilt = invoke("ingest", "--rebuild", CORPUS, "--index", index_copy, "--json")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert {e["status"] for e in json.loads(rebuilt.stdout)["events"]} == {"added"}
    assert index_state_generation(index_copy) > generation  # the arrays cached for the old index are never reused
    assert ranked(index_copy)["待機児童"]


def test_an_index_of_the_previous_format_is_refused_until_a_rebuild(index_copy: Path) -> None:
    """Format 6 stored bigram counts and gave bigrams ids in the terms table: its rows are not what
    this planindex builds arrays from."""
    tamper(index_copy, "store", "6")
    with pytest.raises(IndexMismatch) as raised:
        Index.open(index_copy)
    assert "store '6'" in str(raised.value) and f"'{STORE_FORMAT}'" in str(raised.value)
    assert_one_line_error(run_cli("search", "待機児童", "--index", index_copy), "store", "--rebuild")


def index_state_generation(folder: Path) -> int:
    db = sqlite3.connect(folder / DB_NAME)
    try:
        return int(db.execute("SELECT value FROM manifest WHERE key = 'generation'").fetchone()[0])
    finally:
        db.close()


def test_an_index_made_again_beside_a_stale_cache_does_not_read_it(index_copy: Path, tmp_path: Path) -> None:
    """Deleting planindex.db but not cache/ restarts the generations: the new index's g1 must not be
    the old index's g1, whose arrays point at rows that are not there any more."""
    assert index_state_generation(index_copy) == 1
    ranked(index_copy)  # writes cache/g1 for the corpus
    (index_copy / DB_NAME).unlink()
    ingest([write_passages(tmp_path / "other.jsonl", ["公園の整備を進めます。", "待機児童の解消に努めます。"], 20)], index_copy)
    assert index_state_generation(index_copy) == 1
    hits = ranked(index_copy)["待機児童"]
    assert hits and all(i.startswith("s0000") for i, _ in hits)


def test_worker_processes_store_exactly_what_one_process_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sentences: list[str]
) -> None:
    """Runs of texts analyzed apart, each worker numbering the terms it meets, must come out as one
    process makes them: the same term ids, counts and rows. The workers are forked from a process
    whose tokenizer has numbered terms already: each carries that numbering on in its own way."""
    source = write_passages(tmp_path / "p.jsonl", sentences, 60)
    tokenizer().counts(["待機児童の解消に努めます。"])
    monkeypatch.setattr(ingest_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(ingest_module, "CHUNK", 7)  # nine runs, the last one short
    ingest([source], tmp_path / "many")
    monkeypatch.undo()
    ingest([source], tmp_path / "one")
    assert stored_words(tmp_path / "one") == stored_words(tmp_path / "many")
    one, many = index_state(tmp_path / "one").rows, index_state(tmp_path / "many").rows
    assert sorted(t for _, t in one["terms"]) == sorted(t for _, t in many["terms"])  # ids follow the order terms came in
    assert [row[:5] for row in one["passages"]] == [row[:5] for row in many["passages"]]  # all but the words


def stored_words(folder: Path) -> dict[str, dict[str, int]]:
    """Passage id → its stored word counts, by term."""
    db = sqlite3.connect(folder / DB_NAME)
    try:
        terms = dict(db.execute("SELECT id, term FROM terms").fetchall())
        rows = db.execute("SELECT id, words FROM passages").fetchall()
    finally:
        db.close()
    words = {pid: unpack_counts(blob) for pid, blob in rows}
    return {pid: dict(zip([terms[t] for t in ids.tolist()], counts.tolist())) for pid, (ids, counts) in words.items()}


def test_a_file_refused_at_a_late_line_leaves_the_texts_after_it_aligned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSONL file's texts go to the workers as its lines are read, so a bad line comes after some
    of them were analysed: their analyses must be skipped, not given to the next file's records."""
    monkeypatch.setattr(ingest_module, "PARALLEL_FROM", 1)
    monkeypatch.setattr(ingest_module, "CHUNK", 7)
    bad = write_passages(tmp_path / "a.jsonl", ["農業の担い手を育てます。", "公園を整備します。"], 30)
    with bad.open("a", encoding="utf-8") as handle:
        handle.write('{"id": "late", "text": 5}\n')
    good = write_passages(tmp_path / "b.jsonl", ["待機児童の解消に努めます。", "地域づくり協議会を支援します。"], 30, seed=1)
    texts = {json.loads(line)["id"]: json.loads(line)["text"] for line in good.read_text(encoding="utf-8").splitlines()}
    report = ingest([bad, good], tmp_path / "both")
    assert [(e.status, Path(e.path).name) for e in report.events] == [("failed", "a.jsonl"), ("added", "b.jsonl")]
    assert "line 31" in report.events[0].message
    ingest([good], tmp_path / "alone")
    assert ranked(tmp_path / "both") == ranked(tmp_path / "alone")
    index = Index.open(tmp_path / "both")
    try:
        hits = search(index, "待機児童", 100).hits
        assert len(hits) == sum("待機児童" in text for text in texts.values()) and all(texts[h.id] == h.text for h in hits)
    finally:
        index.close()


def test_an_unchanged_jsonl_file_is_not_tokenized_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_passages(tmp_path / "p.jsonl", ["待機児童の解消に努めます。", "公園を整備します。"], 20)
    ingest([source], tmp_path / "index")

    def refuse(*_: object, **__: object) -> list[str]:
        raise AssertionError("an unchanged file was tokenized again")

    monkeypatch.setattr(Tokenizer, "counts", refuse)  # what ingest tokenizes runs of texts with
    monkeypatch.setattr(Tokenizer, "words", refuse)
    report = ingest([source], tmp_path / "index")
    assert [e.status for e in report.events] == ["unchanged"]


def test_a_pdf_is_hashed_once_per_ingest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whether a PDF is indexed already is its content hash, which its document then carries: the
    hash taken to decide is handed to the extraction, not taken again."""
    from planindex import pdf as pdf_module
    from planindex.records import sha256_of

    hashed: list[Path] = []

    def counting(path: Path) -> str:
        hashed.append(path)
        return sha256_of(path)

    monkeypatch.setattr(ingest_module, "sha256_of", counting)
    monkeypatch.setattr(pdf_module, "sha256_of", counting)
    report = ingest([PDFS["hyoka"]], tmp_path / "index")
    assert [e.status for e in report.events] == ["added"]
    assert hashed == [PDFS["hyoka"].resolve()]
    assert report.events[0].doc_id == sha256_of(PDFS["hyoka"])[:16]


def test_a_file_that_is_not_an_index_is_one_line_for_every_command(tmp_path: Path) -> None:
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / DB_NAME).write_bytes(b"not a database, whatever its name says" * 100)
    for args in (["search", "待機児童"], ["docs"], ["ingest", str(PDFS["hyoka"])]):
        assert_one_line_error(run_cli(*args, "--index", tmp_path / "index"), "not a readable planindex index", "delete")


def test_a_writer_waiting_too_long_for_another_gives_up_with_a_clear_error(
    index_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT", 0.2)
    other = sqlite3.connect(index_copy / DB_NAME, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        source = write_passages(tmp_path / "p.jsonl", ["公園を整備します。"], 3)
        with pytest.raises(IndexBusy, match="another process"):
            ingest([source], index_copy)
    finally:
        other.execute("ROLLBACK")
        other.close()


# --- crash safety --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sentences(corpus_index: Path) -> list[str]:
    return corpus_sentences(corpus_index)


def start_ingest(*args: str | Path) -> subprocess.Popen[bytes]:
    """`planindex ingest ARGS` in its own process group, so that its workers die with it."""
    return subprocess.Popen(
        [sys.executable, "-m", "planindex.cli", "ingest", *map(str, args), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=cli_env(),
        start_new_session=True,
    )


def kill(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def wait_for_the_write(folder: Path, process: subprocess.Popen[bytes], timeout: float = 300) -> None:
    """Until the ingest is inside its write transaction: the WAL grows as SQLite spills the pages
    of the unfinished transaction (far more than its page cache holds). Then the process is
    stopped where it is, so that the checks run while the transaction is open."""
    wal = folder / (DB_NAME + "-wal")
    start = wal.stat().st_size if wal.exists() else 0
    deadline = time.monotonic() + timeout
    while (wal.stat().st_size if wal.exists() else 0) <= start:
        assert process.poll() is None, "the ingest ended before it was caught writing"
        assert time.monotonic() < deadline, "the ingest never started writing"
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGSTOP)


@pytest.mark.slow
def test_an_ingest_killed_at_any_point_leaves_the_previous_index_as_it_was(index_copy: Path, tmp_path: Path, sentences: list[str]) -> None:
    """SIGKILL at three moments of a 50,000-passage ingest (starting up, reading and tokenizing),
    and twice inside the write transaction itself (an ingest, and a --rebuild that has already
    dropped every table), from a smaller input so that the write comes soon, yet writes several
    times SQLite's 2 MB page cache: its pages spill to the WAL long before the commit, which is
    what wait_for_the_write sees (1,500 passages fitted the cache, so that the WAL first grew in
    the commit itself, which the check could then miss). Each time, the index reads and searches
    exactly as before; then it still takes a new ingest."""
    big = write_passages(tmp_path / "big.jsonl", sentences, 50_000, seed=1)
    small = write_passages(tmp_path / "small.jsonl", sentences, 10_000, seed=2)
    before, results = index_state(index_copy), ranked(index_copy)

    for delay in (0.3, 1.5, 4.0):
        process = start_ingest(big, "--index", index_copy)
        time.sleep(delay)
        assert process.poll() is None, f"the ingest ended within {delay} s: nothing was killed"
        kill(process)
        assert index_state(index_copy) == before
        assert ranked(index_copy) == results

    for extra in ((), ("--rebuild",)):
        process = start_ingest(small, "--index", index_copy, *extra)
        try:
            wait_for_the_write(index_copy, process)
            assert index_state(index_copy) == before  # a reader meanwhile sees the old index, unblocked
        finally:
            kill(process)  # a stopped ingest left behind would hold the index for the tests after
        assert index_state(index_copy) == before
        assert ranked(index_copy) == results

    check = sqlite3.connect(index_copy / DB_NAME)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()
    tiny = write_passages(tmp_path / "tiny.jsonl", sentences, 10, seed=3)
    assert [e.status for e in ingest([tiny], index_copy).events] == ["added"]


def building_files(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{DB_NAME}.*{store_module.BUILDING}"))


def test_a_new_index_is_built_aside_and_put_in_place_in_wal_mode(tmp_path: Path, sentences: list[str]) -> None:
    folder = tmp_path / "index"
    ingest([write_passages(tmp_path / "p.jsonl", sentences, 50)], folder)
    assert building_files(folder) == []
    db = sqlite3.connect(folder / DB_NAME)
    try:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # readers are not blocked by the next writer
        assert db.execute("SELECT COUNT(*) FROM passages").fetchone() == (50,)
    finally:
        db.close()


@pytest.mark.slow
def test_a_new_index_killed_while_written_leaves_no_index_and_the_next_build_clears_its_file(tmp_path: Path, sentences: list[str]) -> None:
    """Until it is put in place there is no index, which a reader is told at once; the file of the
    killed build is removed by the next one, which a build still running is not (it holds its lock)."""
    folder = tmp_path / "index"
    process = start_ingest(write_passages(tmp_path / "p.jsonl", sentences, 10_000, seed=2), "--index", folder)
    try:
        deadline = time.monotonic() + 300
        while not any(path.stat().st_size > 4 * store_module.PAGE_SIZE for path in building_files(folder)):
            assert process.poll() is None, "the ingest ended before it was caught writing"
            assert time.monotonic() < deadline, "the ingest never started writing"
            time.sleep(0.002)
        os.killpg(process.pid, signal.SIGSTOP)
        assert not (folder / DB_NAME).exists()
        assert_one_line_error(run_cli("search", "待機児童", "--index", folder, timeout=60), "no index in")
    finally:
        kill(process)
    [abandoned] = building_files(folder)
    running = folder / f"{DB_NAME}.1{store_module.BUILDING}"
    holder = sqlite3.connect(running, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        assert [e.status for e in ingest([write_passages(tmp_path / "q.jsonl", sentences, 20)], folder).events] == ["added"]
        assert building_files(folder) == [running]
    finally:
        holder.close()
    assert not abandoned.exists()
    assert [doc["passages"] for doc in index_state(folder).docs["documents"]] == [20]


def test_a_new_index_made_by_another_process_meanwhile_is_kept(tmp_path: Path, sentences: list[str]) -> None:
    """Two first ingests into one folder: the one that puts its index in place last refuses to
    replace the other's (a rename could also meet that index's WAL) and leaves no file behind."""
    folder = tmp_path / "index"
    late = store_module.Store.open(folder, ingest_module.expected_manifest(), create=True)
    try:
        ingest([write_passages(tmp_path / "p.jsonl", sentences, 20)], folder)
        made = index_state(folder)
        with pytest.raises(IndexBusy, match="another process made an index"), late.transaction():
            late.put_document("d", {"id": "d"})
    finally:
        late.close()
    assert index_state(folder) == made
    assert building_files(folder) == []


def test_a_new_index_on_a_file_system_without_hard_links_is_renamed_into_place(
    tmp_path: Path, sentences: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(*_: object) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(store_module.os, "link", no_links)
    folder = tmp_path / "index"
    assert [e.status for e in ingest([write_passages(tmp_path / "p.jsonl", sentences, 20)], folder).events] == ["added"]
    assert building_files(folder) == []
    assert [doc["passages"] for doc in index_state(folder).docs["documents"]] == [20]


def test_a_reader_is_not_blocked_by_an_open_write_transaction(index_copy: Path) -> None:
    before = ranked(index_copy)
    writer = sqlite3.connect(index_copy / DB_NAME, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("DELETE FROM passage_rows")
        writer.execute("UPDATE manifest SET value = 'changed' WHERE key = 'tokenizer'")
        started = time.monotonic()
        assert ranked(index_copy) == before  # sees the last commit, not the open transaction
        result = run_cli("search", "待機児童", "--json", "--index", index_copy, timeout=60)
        assert result.returncode == 0, result.stderr
        assert json.loads(result.stdout)["hits"]
        assert time.monotonic() - started < 30  # under the 30 s busy timeout: nothing waited on a lock
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_an_open_index_keeps_its_snapshot_while_another_process_commits(index_copy: Path) -> None:
    """The arrays, the generation and the rows they point to must come from one state: a search
    through an Index opened before a removal still finds (and can display) the removed passages."""
    index = Index.open(index_copy)
    try:
        first = search(index, "待機児童", 5)
        [doc] = [d for d in index.documents.values() if d["city"] == "清瀬市"]
        assert invoke("remove", doc["id"], "--index", index_copy).exit_code == 0
        again = search(index, "待機児童", 5)
        assert [(h.id, h.text) for h in again.hits] == [(h.id, h.text) for h in first.hits]
    finally:
        index.close()
    assert all(h.doc["id"] != doc["id"] for h in search_fresh(index_copy, "待機児童"))


def search_fresh(folder: Path, query: str) -> list:
    index = Index.open(folder)
    try:
        return search(index, query, 10).hits
    finally:
        index.close()
