"""KPIs as a planner reads them: found by name, with their yearly series, the years that move
against the indicator's direction, and the passages linked to them."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from planindex.errors import UnknownRecord
from planindex.index import Index
from planindex.normalize import normalize
from planindex.query import parse
from planindex.search import Filters, top_positions

SPARKS = "▁▂▃▄▅▆▇█"
CSV_COLUMNS = (
    "city", "document", "section", "label", "name", "unit", "direction", "year", "fiscal_year",
    "target", "actual", "rate", "raw_target", "raw_actual", "raw_rate",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class KpiView:
    """A KPI with where it stands and what is linked to it."""

    data: dict[str, Any]
    doc: dict[str, Any]
    links: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: v for k, v in self.data.items() if not k.startswith("_")},
            "city": self.doc.get("city"),
            "doc": {"id": self.doc.get("id", ""), "title": self.doc.get("title", ""), "path": self.doc.get("path", "")},
            "links": self.links,
        }


def against_direction(series: list[dict[str, Any]], direction: str) -> list[bool]:
    """For each year: did the actual value move the wrong way since the previous known year?"""
    marks, previous = [], None
    for point in series:
        actual = point["actual"]
        wrong = False
        if actual is not None and previous is not None:
            wrong = actual < previous if direction == "up" else actual > previous
        marks.append(wrong)
        if actual is not None:
            previous = actual
    return marks


def sparkline(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(" " if v is None else SPARKS[round((v - low) / span * (len(SPARKS) - 1))] for v in values)


def _links(index: Index, kpi_id: str, limit: int) -> list[dict[str, Any]]:
    out = []
    for passage_id, _, score, reason in index.store.links_of("kpi_id", kpi_id)[:limit]:
        found = index.store.record_by_id("passages", passage_id)
        if found:
            passage = found[1]
            out.append(
                {
                    "passage_id": passage_id,
                    "kind": passage["kind"],
                    "item": passage["item"],
                    "section": passage["section"],
                    "page": passage["page"],
                    "text": passage["text"],
                    "score": round(score, 3),
                    "reason": reason,
                }
            )
    return out


def _doc_of(index: Index, record_id: str, table: str) -> dict[str, Any]:
    row = index.store.db.execute(f"SELECT doc_id FROM {table} WHERE id = ?", (record_id,)).fetchone()
    return index.documents.get(row[0], {}) if row else {}


def find_kpis(index: Index, query: str | None = None, filters: Filters | None = None, k: int = 20, links: int = 3) -> list[KpiView]:
    """KPIs whose name, unit or section match the query (BM25), or every KPI of the filtered documents."""
    filters = filters or Filters()
    if query:
        chosen, _, records = top_positions(index, "kpis", parse(query), k * 3, filters)
        wanted = normalize(query)
        # a KPI named exactly as typed comes first: BM25 alone ranks 東所沢駅の… beside 所沢駅の…
        ranked = sorted(chosen, key=lambda c: (normalize(records[c[0]]["name"]) != wanted, wanted not in normalize(records[c[0]]["name"])))
        datas = [records[position] for position, _ in ranked[:k]]
    else:
        allowed = [d for d, doc in index.documents.items() if _matches(doc, filters)]
        datas = index.store.all_records("kpis", allowed) if allowed else []
    return [KpiView(data, _doc_of(index, data["id"], "kpis"), _links(index, data["id"], links)) for data in datas]


def _matches(doc: dict[str, Any], filters: Filters) -> bool:
    if filters.city and filters.city not in (doc.get("city") or ""):
        return False
    if filters.doc and not (doc["id"].startswith(filters.doc) or filters.doc in doc.get("title", "") or filters.doc in doc.get("path", "")):
        return False
    return not filters.year or doc.get("fiscal_year") == filters.year or _in_period(doc, filters.year)


def _in_period(doc: dict[str, Any], year: int) -> bool:
    period = doc.get("period")
    return bool(period) and period[0] <= year <= period[1]


def to_csv(views: list[KpiView]) -> str:
    """One row per KPI and year, for a spreadsheet."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for view in views:
        d = view.data
        for point in d["series"]:
            writer.writerow(
                [
                    view.doc.get("city") or "", view.doc.get("title", ""), " › ".join(d["section"]), d["label"], d["name"],
                    d["unit"], d["direction"], point["label"], point["fiscal_year"] or "",
                    _blank(point["target"]), _blank(point["actual"]), _blank(point["rate"]),
                    point["raw"]["target"], point["raw"]["actual"], point["raw"]["rate"],
                ]
            )  # fmt: skip
    return buffer.getvalue()


def _blank(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def show(index: Index, record_id: str) -> dict[str, Any]:
    """One passage or KPI, where it is, and everything linked to it."""
    passage = index.store.record_by_id("passages", record_id)
    if passage is not None:
        data = passage[1]
        doc = _doc_of(index, record_id, "passages")
        kpis = []
        for _, kpi_id, score, reason in index.store.links_of("passage_id", record_id):
            found = index.store.record_by_id("kpis", kpi_id)
            if found:
                kpis.append(
                    {"kpi_id": kpi_id, "label": found[1]["label"], "name": found[1]["name"], "score": round(score, 3), "reason": reason}
                )
        return {"type": "passage", "record": data, "doc": _doc_summary(doc), "city": doc.get("city"), "links": kpis}
    kpi = index.store.record_by_id("kpis", record_id)
    if kpi is not None:
        view = KpiView(kpi[1], _doc_of(index, record_id, "kpis"), _links(index, record_id, 50))
        return {"type": "kpi", "record": kpi[1], "doc": _doc_summary(view.doc), "city": view.doc.get("city"), "links": view.links}
    raise UnknownRecord(f"no passage or KPI {record_id!r}: ids are shown by `planindex search` and `planindex kpi`")


def _doc_summary(doc: dict[str, Any]) -> dict[str, str]:
    return {"id": doc.get("id", ""), "title": doc.get("title", ""), "path": doc.get("path", "")}
