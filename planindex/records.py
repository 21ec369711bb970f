"""The records planindex extracts and indexes: documents, passages and KPIs with their yearly series."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("取り組み状況", "課題", "方向性", "目標", "評価", "本文")
DOCUMENT_KINDS = ("総合戦略進捗管理表", "総括表", "政策評価表", "総合計画", "市政概要", "other")
# What the index stores records as. Made once: json.dumps with options makes one a call. Records are trees:
# no cycle to look for.
_JSON = json.JSONEncoder(ensure_ascii=False, check_circular=False)


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    path: str
    sha256: str
    pages: int
    title: str
    kind: str
    city: str | None = None
    fiscal_year: int | None = None
    period: tuple[int, int] | None = None  # first and last fiscal year of a plan

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["period"] = list(self.period) if self.period else None
        return data


@dataclass(frozen=True, slots=True)
class Passage:
    id: str
    doc_id: str
    page: int
    kind: str
    text: str
    section: tuple[str, ...] = ()
    item: str = ""
    bbox: tuple[float, float, float, float] | None = None
    pages: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "item": self.item,
            "section": list(self.section),
            "page": self.page,
            "pages": list(self.pages or (self.page,)),
            "bbox": [round(v, 1) for v in self.bbox] if self.bbox else None,
            "text": self.text,
        }

    def json_text(self) -> str:
        """``json.dumps(self.to_json(), ensure_ascii=False)``, written directly: an ingest stores every
        passage so, and the dict and the encoder took 4-6 us a passage where this takes 2.3."""
        string = _JSON.encode  # a str is JSON-escaped without the encoder's set-up
        section = ", ".join(map(string, self.section))
        pages = ", ".join(map(str, self.pages or (self.page,)))
        bbox = string([round(v, 1) for v in self.bbox]) if self.bbox else "null"
        return (
            f'{{"id": {string(self.id)}, "kind": {string(self.kind)}, "item": {string(self.item)}, "section": [{section}], '
            f'"page": {self.page}, "pages": [{pages}], "bbox": {bbox}, "text": {string(self.text)}}}'
        )


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One year column of a KPI: the numbers parsed, the strings as printed."""

    label: str
    fiscal_year: int | None
    target: float | None = None
    actual: float | None = None
    rate: float | None = None
    as_of_fiscal_year: int | None = None
    raw_target: str = ""
    raw_actual: str = ""
    raw_rate: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "fiscal_year": self.fiscal_year,
            "target": self.target,
            "actual": self.actual,
            "rate": self.rate,
            "as_of_fiscal_year": self.as_of_fiscal_year,
            "raw": {"target": self.raw_target, "actual": self.raw_actual, "rate": self.raw_rate},
        }


@dataclass(frozen=True, slots=True)
class Kpi:
    id: str
    doc_id: str
    page: int
    name: str
    kind: str  # 戦略指標, KPI, 目標指標, 成果指標
    unit: str = ""
    direction: str = "up"  # "down" where lower is better (※値の削減, 件数 of crimes...)
    label: str = ""  # ①, ②...
    section: tuple[str, ...] = ()
    base: str | None = None  # 【基準値】R1：79.6% as printed
    series: tuple[SeriesPoint, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)  # other columns: 事業名, 決算額...

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "name": self.name,
            "kind": self.kind,
            "unit": self.unit,
            "direction": self.direction,
            "section": list(self.section),
            "page": self.page,
            "base": self.base,
            "attributes": dict(self.attributes),
            "series": [point.to_json() for point in self.series],
        }

    def json_text(self) -> str:
        return _JSON.encode(self.to_json())


@dataclass(frozen=True, slots=True)
class Extraction:
    """What one PDF yields, plus the per-page warnings met on the way."""

    document: Document
    passages: tuple[Passage, ...]
    kpis: tuple[Kpi, ...]
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document.to_json(),
            "passages": [p.to_json() for p in self.passages],
            "kpis": [k.to_json() for k in self.kpis],
            "warnings": list(self.warnings),
        }


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's content, read a megabyte at a time: what identifies a document's
    source, so that an unchanged file is never read twice."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
