"""Records → index: extract or read each input, analyze its text, and write everything in one
transaction. A document whose content hash is already indexed is skipped without re-tokenizing;
a changed file replaces its previous version; a file that cannot be used is reported and the
rest still lands. Tokenizing is most of the work: with many passages it is shared by the caller
and worker processes (workers.py), each with its own MeCab tagger. Bigrams are not counted here:
the stored normalized text is their source when the arrays are built (index.py)."""

from __future__ import annotations

import collections
import functools
import gc
import itertools
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from planindex.errors import InputError, NotFound
from planindex.index import default_folder, expected_manifest
from planindex.jsonl import read_jsonl
from planindex.linking import relink
from planindex.normalize import normalize
from planindex.records import Extraction, Kpi, Passage, sha256_of
from planindex.store import Store, pack_counts
from planindex.tokens import TermIds, WordCounts, tokenizer
from planindex.workers import Workers

INPUT_SUFFIXES = (".pdf", ".jsonl")
PARALLEL_FROM = 2000  # passages: below this, starting worker processes costs more than it saves
CHUNK = 500  # texts per task sent to a worker: large enough that pickling is noise


@dataclass(frozen=True, slots=True)
class Event:
    """What happened to one input, for the caller to show: added, replaced, unchanged, failed, warning."""

    status: str
    path: str
    message: str = ""
    doc_id: str = ""
    passages: int = 0
    kpis: int = 0


@dataclass
class Report:
    events: list[Event] = field(default_factory=list)

    @property
    def failed(self) -> list[Event]:
        return [e for e in self.events if e.status == "failed"]

    def to_json(self) -> dict[str, object]:
        return {"events": [_event_json(e) for e in self.events], "failed": len(self.failed)}


def _event_json(event: Event) -> dict[str, object]:
    return {
        "status": event.status,
        "path": event.path,
        "message": event.message,
        "doc_id": event.doc_id,
        "passages": event.passages,
        "kpis": event.kpis,
    }


EventCallback = Callable[[Event], None]
ProgressCallback = Callable[[str, int, int], None]


def input_files(paths: list[Path]) -> tuple[list[Path], list[Event]]:
    """PDFs and .jsonl files named or found (recursively) in the folders named, and a failure for
    each path that names nothing usable."""
    files: list[Path] = []
    failures: list[Event] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in INPUT_SUFFIXES and p.is_file())
            if not found:
                failures.append(Event("failed", str(path), "is a folder with no .pdf or .jsonl file in it"))
            files += found
        elif path.exists():
            files.append(path)
        else:
            failures.append(Event("failed", str(path), NotFound(path, "no such file").problem))
    return files, failures


def passage_text(passage: Passage) -> str:
    """What a passage is searched by: its text, its item label (農業) and its innermost heading
    (施策4-421 清瀬の未来の創造, 姉妹都市): many passages are about what their heading names and
    never repeat it."""
    labels = [passage.item, passage.section[-1] if passage.section else ""]
    extra = [label for i, label in enumerate(labels) if label and label not in passage.text and label not in labels[:i]]
    return "\n".join([*extra, passage.text])


def kpi_text(kpi: Kpi) -> str:
    return " ".join([kpi.name, kpi.unit, *kpi.section, *kpi.attributes.values()])


@dataclass(frozen=True, slots=True)
class Analysis:
    """Normalized texts and their word counts, run after run, in the order of the texts."""

    norms: list[str]
    runs: list[WordCounts]


def analyze_chunk(texts: list[str], session: str | None = None) -> Analysis:
    """Normalize, tokenize and count the words of texts in this process (a worker builds its own
    tagger on first use). Everything per occurrence happens here, in parallel. session: the
    ingest's, whose reader is sent each term once (tokens.WordCounts)."""
    norms = [normalize(text) for text in texts]
    return Analysis(norms, [tokenizer().counts(norms, session)])


class Analyzer:
    """analyze_chunk over texts as they are read, in runs of CHUNK texts, then (parts) the analyses
    in order, so that the caller writes one while the next ones are analysed. Once there are enough
    texts, runs go to worker processes, one fewer than the cores: the caller is the last analyser,
    taking the next run itself whenever every worker holds all it can, between the parts it writes.
    While the inputs are read it only feeds the workers. A context manager: the workers end with it.

    On Linux the workers are forked: they start in a fraction of a second and, unlike spawned
    ones, do not import the caller's main module again, so that a script calling ingest() needs
    no `if __name__ == "__main__"` guard. They only tokenize: neither the open database nor the
    progress bar's thread is touched in them. Elsewhere fork is unsafe or absent, so they are
    spawned (and the usual guard applies). The caller analyses nothing of a session before its
    workers are forked: a worker would inherit its record of the terms sent (tokens.WordCounts)."""

    def __init__(self, on_progress: ProgressCallback | None = None) -> None:
        self.texts = 0
        self.session = uuid.uuid4().hex
        self._waiting: list[str] = []  # texts not yet in a run
        self._unsent: collections.deque[tuple[int, list[str]]] = collections.deque()  # numbered runs
        self._runs = 0
        self._ready: dict[int, Analysis] = {}  # analyses not yet yielded, by run number
        self._workers: Workers | None = None
        self._on_progress = on_progress

    def __enter__(self) -> Analyzer:
        return self

    def __exit__(self, *_: object) -> None:
        if self._workers is not None:
            self._workers.close()

    def add(self, text: str) -> None:
        self.texts += 1
        self._waiting.append(text)
        if len(self._waiting) < CHUNK or (self._workers is None and len(self._waiting) < PARALLEL_FROM):
            return
        if self._workers is None:
            if (os.cpu_count() or 1) < 2:
                return
            self._workers = Workers((os.cpu_count() or 2) - 1, analyze_chunk)
        self._queue()
        self._feed()

    def _queue(self) -> None:
        for start in range(0, len(self._waiting), CHUNK):
            self._unsent.append((self._runs, self._waiting[start : start + CHUNK]))
            self._runs += 1
        self._waiting = []

    def _feed(self) -> None:
        """Take the analyses that are ready and send runs to the workers with room."""
        assert self._workers is not None
        self._ready.update(self._workers.ready())
        while self._unsent and self._workers.submit(self._unsent[0][0], (self._unsent[0][1], self.session)):
            self._unsent.popleft()

    def parts(self) -> Iterator[Analysis]:
        if self._workers is None:
            if self._waiting:
                yield analyze_chunk(self._waiting, self.session)
            return
        self._queue()
        done = 0
        for number in range(self._runs):
            self._feed()  # before every part: the caller writes it while the workers go on
            while number not in self._ready:
                if self._unsent:  # every worker is full: the caller analyses the next run
                    run, texts = self._unsent.popleft()
                    self._ready[run] = analyze_chunk(texts, self.session)
                else:
                    self._ready.update(self._workers.ready(block=True))
                self._feed()
            part = self._ready.pop(number)
            done += len(part.norms)
            if self._on_progress:
                self._on_progress(f"analyzing {self.texts} texts", done, self.texts)
            yield part


def _packed(part: Analysis, term_ids: TermIds) -> list[bytes]:
    """Each text's word counts as stored."""
    packed: list[bytes] = []
    for run in part.runs:
        packed += pack_counts(term_ids.of(run), run.ids, run.counts, run.sizes)
    return packed


# Where a text's analysis goes: its table, its document and its record; None for a refused input.
_Slot = tuple[str, str, Passage | Kpi] | None


@dataclass(slots=True)
class _Input:
    """One file to write: its extractions (none when it was refused while being read) and the slot of
    each of its texts sent to the analyzer, in the order they were sent."""

    path: Path
    extractions: list[Extraction] = field(default_factory=list)
    slots: list[_Slot] = field(default_factory=list)

    def send(self, analyzer: Analyzer, passage: Passage) -> None:
        analyzer.add(passage_text(passage))
        self.slots.append(("passages", passage.doc_id, passage))

    def send_all(self, analyzer: Analyzer) -> None:
        """Per document, its passages then its KPIs."""
        for extraction in self.extractions:
            for passage in extraction.passages:
                self.send(analyzer, passage)
            for kpi in extraction.kpis:
                analyzer.add(kpi_text(kpi))
                self.slots.append(("kpis", kpi.doc_id, kpi))


def _read(
    item: _Input,
    analyzer: Analyzer,
    indexed: set[str],
    digests: set[str],
    overrides: dict[str, object],
    on_progress: ProgressCallback | None,
) -> bool:
    """Read one input into item and send its texts to the analyzer; False when it is indexed
    already, unchanged. A JSONL file's passages are sent as they are read, unless the index holds
    documents of a file with its content, which may then be skipped whole. Documents record the
    absolute path, so that a changed file is found again from any working folder."""
    absolute = item.path.resolve()
    digest = sha256_of(absolute)
    if item.path.suffix.lower() == ".jsonl":
        if digest not in digests:
            item.extractions = read_jsonl(absolute, functools.partial(item.send, analyzer), digest)
            return True
        item.extractions = read_jsonl(absolute, digest=digest)
        if all(e.document.id in indexed for e in item.extractions):
            return False
    elif digest[:16] in indexed:
        return False
    else:
        from planindex.extract import extract  # PyMuPDF and the layout code: 0.3 s that a JSONL ingest never needs

        on_page = functools.partial(on_progress, str(item.path)) if on_progress else None
        item.extractions = [extract(absolute, on_page=on_page, digest=digest, **overrides)]  # type: ignore[arg-type]
    item.send_all(analyzer)
    return True


def _taken_ids(store: Store, item: _Input, replaced: set[str], claimed: dict[str, str]) -> list[str]:
    """Ids of this input's records that another document (indexed, or earlier in this batch) holds:
    writing them would silently move a record out of that document."""
    own = replaced | {e.document.id for e in item.extractions}
    ids = [r.id for e in item.extractions for r in (*e.passages, *e.kpis)]
    holders = store.owners("passages", ids) | store.owners("kpis", ids) | {i: claimed[i] for i in ids if i in claimed}
    return [i for i in ids if i in holders and holders[i] not in own]


def _write(store: Store, inputs: list[_Input], parts: Iterable[Analysis]) -> list[Event]:
    """Every input in one transaction: a kill at any point leaves the index as it was."""
    events: list[Event] = []
    with store.transaction():
        by_path: dict[str, set[str]] = {}
        for doc in store.documents():
            by_path.setdefault(doc["path"], set()).add(doc["id"])
        claimed: dict[str, str] = {}
        slots: list[_Slot] = []
        touched_cities: set[str | None] = set()
        for item in inputs:
            if not item.extractions:  # refused while read: the failure is reported already
                slots += [None] * len(item.slots)
                continue
            new_ids = {e.document.id for e in item.extractions}
            replaced = by_path.get(str(item.path.resolve()), set()) - new_ids
            taken = _taken_ids(store, item, replaced, claimed)
            if taken:
                events.append(Event("failed", str(item.path), f"id {taken[0]!r} is already used by another document: ids must be unique"))
                slots += [None] * len(item.slots)
                continue
            claimed.update((r.id, e.document.id) for e in item.extractions for r in (*e.passages, *e.kpis))
            for doc_id in replaced:
                store.delete_document(doc_id)
            status = "replaced" if replaced else "added"
            slots += item.slots
            for extraction in item.extractions:
                doc = extraction.document
                store.delete_document(doc.id)
                store.put_document(doc.id, doc.to_json())
                touched_cities.add(doc.city)
                events.append(Event(status, str(item.path), doc.title, doc.id, len(extraction.passages), len(extraction.kpis)))
        if not touched_cities:
            return events
        term_ids = TermIds(functools.partial(store.intern, known=store.vocabulary()))
        # An iterator: a slice per part would copy every slot still ahead of it, work that grows with
        # the square of the slots (2,000 parts at 1M passages).
        pending = iter(slots)
        for part in parts:
            # Words of every text get ids, a refused input's included: an unused word costs one row.
            packed = _packed(part, term_ids)
            rows: dict[str, list[tuple[str, str, str, str, str, bytes]]] = {"passages": [], "kpis": []}
            for slot, norm, words in zip(itertools.islice(pending, len(part.norms)), part.norms, packed):
                if slot is not None:
                    table, doc_id, record = slot
                    kind = record.kind if isinstance(record, Passage) else "KPI"
                    rows[table].append((record.id, doc_id, kind, record.json_text(), norm, words))
            for table, table_rows in rows.items():
                store.put_records(table, table_rows)
        # a new report can link to an old plan of the same city: every touched city is relinked whole
        relink(store, touched_cities)
    return events


def ingest(
    paths: list[Path],
    folder: Path | None = None,
    *,
    rebuild: bool = False,
    city: str | None = None,
    year: int | None = None,
    title: str | None = None,
    on_event: EventCallback | None = None,
    on_progress: ProgressCallback | None = None,
) -> Report:
    """Add the inputs to the index in `folder` (created when absent). With rebuild, the index is
    replaced by one made of these inputs alone, in the same single transaction: until it commits,
    readers see (and a crash leaves) the old index. Nothing is written when no input can be used."""
    folder = folder or default_folder()
    report = Report()

    def emit(event: Event) -> None:
        report.events.append(event)
        if on_event:
            on_event(event)

    store = Store.open(folder, expected_manifest(), create=True, rebuild=rebuild)
    try:
        indexed = set() if store.fresh else store.document_ids()
        digests = set() if store.fresh else {doc["sha256"] for doc in store.documents()}
        files, failures = input_files(paths)
        for event in failures:
            emit(event)
        overrides = {k: v for k, v in {"city": city, "year": year, "title": title}.items() if v is not None}
        inputs: list[_Input] = []
        with Analyzer(on_progress) as analyzer:
            for path in files:
                item = _Input(path)
                try:
                    changed = _read(item, analyzer, indexed, digests, overrides, on_progress)
                except InputError as exc:
                    emit(Event("failed", str(path), exc.problem))
                    if item.slots:  # texts sent before the bad line: their analyses are skipped
                        inputs.append(item)
                    continue
                if not changed:
                    emit(Event("unchanged", str(path)))
                    continue
                for warning in (w for e in item.extractions for w in e.warnings):
                    emit(Event("warning", str(path), warning))
                inputs.append(item)
            if any(item.extractions for item in inputs):
                with _frozen_heap():
                    for event in _write(store, inputs, analyzer.parts()):
                        emit(event)
    finally:
        store.close()
    return report


@contextmanager
def _frozen_heap() -> Iterator[None]:
    """Leave the objects alive now (every record read, a few per text) out of garbage collection
    while the texts are analysed and written: they live to the end anyway, yet each full
    collection walked them all (a quarter of a second at 20k passages) in the writer and in every
    forked worker, where touching them also copies their pages. A caller who froze objects of
    their own is left as they were."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def remove(doc_id: str, folder: Path | None = None) -> dict[str, object]:
    """Remove one document (by id or id prefix) and everything extracted from it."""
    store = Store.open(folder or default_folder(), expected_manifest())
    try:
        document = store.document(doc_id)
        with store.transaction():
            store.delete_document(document["id"])
            relink(store, {document.get("city")})
        return document
    finally:
        store.close()
