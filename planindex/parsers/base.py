"""What every parser shares: the reading context (section path, announced kind) and the record sink."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field, replace

from planindex.layout import BBox
from planindex.records import Kpi, Passage

SPACES = re.compile(r"[ \t\u3000]+")


def clean(text: str) -> str:
    """Cell or heading text with runs of spaces folded; line breaks between items kept."""
    return "\n".join(SPACES.sub(" ", line).strip() for line in text.split("\n") if line.strip())


def fold(text: str) -> str:
    """NFKC with all whitespace removed: for comparing labels, never for output."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@dataclass
class Context:
    """Where the walker is in the document: the section path, and the kind of passage announced.

    A section's own heading may announce a kind (６．…自己評価 → 評価) that its subsections
    inherit; a pure label (10年後の姿) announces a kind until the next heading.
    """

    sections: list[tuple[int, str, str | None]] = field(default_factory=list)
    label_kind: str | None = None
    item: str = ""  # the item the last label announced (基本目標, 関連する重点プロジェクト...)

    def section(self) -> tuple[str, ...]:
        return tuple(text for _, text, _ in self.sections)

    @property
    def kind(self) -> str | None:
        if self.label_kind:
            return self.label_kind
        return next((kind for _, _, kind in reversed(self.sections) if kind), None)

    def enter(self, level: int, text: str, kind: str | None = None) -> None:
        self.sections = [entry for entry in self.sections if entry[0] < level]
        self.sections.append((level, text, kind))
        self.label_kind, self.item = None, ""

    def announce(self, kind: str | None, item: str = "") -> None:
        self.label_kind, self.item = kind, item


@dataclass
class Sink:
    """Collects records with ids that are stable for a given document."""

    doc_id: str
    passages: list[Passage] = field(default_factory=list)
    kpis: list[Kpi] = field(default_factory=list)

    def passage(
        self,
        kind: str,
        text: str,
        page: int,
        section: tuple[str, ...],
        item: str = "",
        bbox: BBox | None = None,
        pages: tuple[int, ...] = (),
    ) -> None:
        text = clean(text)
        if not text:
            return
        pid = f"{self.doc_id}-p{len(self.passages) + 1:04d}"
        self.passages.append(Passage(pid, self.doc_id, page, kind, text, section, item, bbox, pages or (page,)))

    def extend_last_passage(self, text: str) -> None:
        last = self.passages[-1]
        self.passages[-1] = replace(last, text=last.text + "\n" + clean(text))

    def kpi(self, kpi: Kpi) -> Kpi:
        kpi = replace(kpi, id=f"{self.doc_id}-k{len(self.kpis) + 1:03d}", doc_id=self.doc_id)
        self.kpis.append(kpi)
        return kpi

    def update_kpi(self, index: int, **changes: object) -> None:
        self.kpis[index] = replace(self.kpis[index], **changes)
