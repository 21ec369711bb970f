"""Records → index: extract or read each input, analyze its text, and write everything in one
transaction. A document whose content hash is already indexed is skipped without re-tokenizing;
a changed file replaces its previous version; a file that cannot be used is reported and the
rest still lands."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from planindex.errors import InputError, NotFound
from planindex.extract import extract
from planindex.index import default_folder, expected_manifest
from planindex.jsonl import read_jsonl
from planindex.linking import relink
from planindex.normalize import normalize
from planindex.pdf import sha256_of
from planindex.records import Extraction, Kpi, Passage
from planindex.store import Store, pack_counts
from planindex.tokens import bigrams, tokenizer

INPUT_SUFFIXES = (".pdf", ".jsonl")


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
    """PDFs and .jsonl files named or found (recursively) in the folders named."""
    files: list[Path] = []
    missing: list[Event] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix.lower() in INPUT_SUFFIXES and p.is_file())
        elif path.exists():
            files.append(path)
        else:
            missing.append(Event("failed", str(path), NotFound(path, "no such file").problem))
    return files, missing


def passage_text(passage: Passage) -> str:
    """What a passage is searched by: its text, and its item label (農業) so that the label finds it."""
    return f"{passage.item}\n{passage.text}" if passage.item and passage.item not in passage.text else passage.text


def kpi_text(kpi: Kpi) -> str:
    return " ".join([kpi.name, kpi.unit, *kpi.section, *kpi.attributes.values()])


def _analyzed(texts: list[str]) -> list[tuple[str, list[str], list[str]]]:
    tok = tokenizer()
    out = []
    for text in texts:
        norm = normalize(text)
        out.append((norm, tok.words(norm), bigrams(norm)))
    return out


@dataclass
class _Prepared:
    extraction: Extraction
    passages: list[tuple[str, list[str], list[str]]]
    kpis: list[tuple[str, list[str], list[str]]]


def _prepare(path: Path, store: Store, overrides: dict[str, object], on_progress: ProgressCallback | None) -> list[Extraction] | None:
    """The extractions of one input, or None when it is indexed already, unchanged."""
    if path.suffix.lower() == ".jsonl":
        extractions = read_jsonl(path)
        return None if all(store.has_document(e.document.id) for e in extractions) else extractions
    if store.has_document(sha256_of(path)[:16]):
        return None

    def page_done(number: int, total: int) -> None:
        if on_progress:
            on_progress(str(path), number, total)

    return [extract(path, on_page=page_done, **overrides)]  # type: ignore[arg-type]


def _write(store: Store, prepared: list[_Prepared]) -> list[Event]:
    events: list[Event] = []
    vocab = {"words": store.vocabulary("words"), "grams": store.vocabulary("grams")}
    existing = {d["path"]: d["id"] for d in store.documents()}
    with store.transaction():
        for item in prepared:
            doc = item.extraction.document
            old = existing.get(doc.path)
            status = "added"
            if old and old != doc.id and item.extraction.document.pages:  # a PDF whose content changed
                store.delete_document(old)
                status = "replaced"
            store.delete_document(doc.id)
            store.put_document(doc.id, doc.to_json())
            for table, records, analyzed in (
                ("passages", item.extraction.passages, item.passages),
                ("kpis", item.extraction.kpis, item.kpis),
            ):
                rows = []
                for record, (norm, words, grams) in zip(records, analyzed):
                    store.intern("words", words, vocab["words"])
                    store.intern("grams", grams, vocab["grams"])
                    rows.append(
                        (
                            record.id,
                            doc.id,
                            getattr(record, "kind", "KPI") if table == "passages" else "KPI",
                            record.to_json(),
                            norm,
                            pack_counts([vocab["words"][w] for w in words]),
                            pack_counts([vocab["grams"][g] for g in grams]),
                        )
                    )
                store.put_records(table, rows)
            events.append(Event(status, doc.path, doc.title, doc.id, len(item.extraction.passages), len(item.extraction.kpis)))
        relink(store)  # a new report can link to an old plan of the same city: links are per city
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
    """Add the inputs to the index in `folder` (created when absent). With rebuild, start a fresh
    index beside the old one and swap it in only when it is complete."""
    folder = folder or default_folder()
    target = folder.with_name(folder.name + ".rebuild") if rebuild else folder
    if rebuild:
        shutil.rmtree(target, ignore_errors=True)
    report = Report()

    def emit(event: Event) -> None:
        report.events.append(event)
        if on_event:
            on_event(event)

    store = Store.open(target, expected_manifest(), create=True)
    try:
        files, missing = input_files(paths)
        for event in missing:
            emit(event)
        overrides = {k: v for k, v in {"city": city, "year": year, "title": title}.items() if v is not None}
        prepared: list[_Prepared] = []
        for path in files:
            try:
                extractions = _prepare(path, store, overrides, on_progress)
            except InputError as exc:
                emit(Event("failed", exc.path, exc.problem))
                continue
            if extractions is None:
                emit(Event("unchanged", str(path)))
                continue
            for extraction in extractions:
                for warning in extraction.warnings:
                    emit(Event("warning", str(path), warning))
                prepared.append(
                    _Prepared(
                        extraction,
                        _analyzed([passage_text(p) for p in extraction.passages]),
                        _analyzed([kpi_text(k) for k in extraction.kpis]),
                    )
                )
        if prepared:
            for event in _write(store, prepared):
                emit(event)
    finally:
        store.close()
    if rebuild:
        old = folder.with_name(folder.name + ".old")
        if folder.exists():
            folder.rename(old)
        target.rename(folder)
        shutil.rmtree(old, ignore_errors=True)
    return report


def remove(doc_id: str, folder: Path | None = None) -> dict[str, object]:
    """Remove one document (by id or id prefix) and everything extracted from it."""
    store = Store.open(folder or default_folder(), expected_manifest())
    try:
        document = store.document(doc_id)
        with store.transaction():
            store.delete_document(document["id"])
            relink(store)
        return document
    finally:
        store.close()
