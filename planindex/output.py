"""Terminal rendering: the only module that imports rich. JSON output (cli.py) bypasses it entirely,
import included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.padding import Padding
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

console = Console(highlight=False, soft_wrap=False)
errors = Console(stderr=True, highlight=False)
KIND_STYLE = {"取り組み状況": "green", "課題": "red", "方向性": "cyan", "目標": "magenta", "評価": "yellow", "本文": "white"}


def error(message: str) -> None:
    errors.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)


def warning(message: str) -> None:
    errors.print(f"[yellow]warning:[/] {escape(message)}", soft_wrap=True)


def info(message: str) -> None:
    console.print(escape(message), soft_wrap=True)


def kind_label(kind: str) -> Text:
    return Text(kind, style=KIND_STYLE.get(kind, "white"))


def snippet_text(segments: list[tuple[str, bool]]) -> Text:
    text = Text()
    for part, hit in segments:
        text.append(part, style="bold underline" if hit else "")
    return text


@contextmanager
def progress(description: str) -> Iterator[Any]:
    """A progress bar on stderr; yields a function update(label, done, total)."""
    if not errors.is_terminal:  # a log or a pipe gets no bar, not even the blank line a closed bar leaves
        yield lambda label, done, total: None
        return
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=errors, transient=True)
    tasks: dict[str, Any] = {}

    def update(label: str, done: int, total: int) -> None:
        if label not in tasks:
            tasks[label] = bar.add_task(f"{description} {label}", total=total)
        bar.update(tasks[label], completed=done, total=total)

    with bar:
        yield update


def ingest_event(event: Any) -> None:
    styles = {"added": "green", "replaced": "cyan", "unchanged": "dim", "failed": "red", "warning": "yellow"}
    style = styles.get(event.status, "white")
    if event.status == "failed":
        error(f"{event.path}: {event.message}")
    elif event.status == "warning":
        warning(f"{event.path}: {event.message}")
    elif event.status == "unchanged":
        console.print(f"[{style}]unchanged[/] {escape(event.path)}")
    else:
        name = event.path.rsplit("/", 1)[-1]
        line = Text.assemble(f"{name}  {event.passages} passages, {event.kpis} KPIs  ", (event.message, "dim"))
        grid = Table.grid(padding=(0, 1))  # a long title wraps under the file name, not at the margin
        grid.add_column(width=8, style=style)
        grid.add_column(overflow="fold")
        grid.add_row(event.status, line)
        console.print(grid)


def print_hit(rank: int, hit: Any, notes: list[Text]) -> None:
    """A search or related hit: its rank, then score, kind, item and where, the section path, the
    snippet and the notes (linked KPIs, shared terms). The rank is a column of its own, so every
    line of the hit, wrapped ones too, stays indented under it in a narrow terminal."""
    head = Text(f"{hit.score:6.2f}  ", style="dim")
    head.append_text(kind_label(hit.kind))
    if hit.item:
        head.append(f"  {hit.item}", style="bold")
    head.append(f"  {hit.city or ''} {hit.doc['title']} p.{hit.page}", style="dim")
    lines = [head]
    if hit.section:
        lines.append(Text(" › ".join(hit.section), style="dim"))
    lines.append(snippet_text(hit.snippet))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", width=3, style="bold")
    grid.add_column(overflow="fold")  # Japanese has no spaces to wrap at: a long run folds, never ends in "…"
    grid.add_row(f"{rank}.", Group(*lines, *notes))
    console.print(grid)


def search_result(result: Any) -> None:
    console.print(f"[dim]{result.total} matching passages, {result.took_ms:.1f} ms[/]")
    for rank, hit in enumerate(result.hits, start=1):
        print_hit(rank, hit, [Text(f"↳ KPI {kpi['name']} ({kpi['score']})", style="blue") for kpi in hit.kpis])


def documents(docs: list[dict[str, Any]], counts: dict[str, tuple[int, int]]) -> None:
    table = Table(show_lines=False)
    for column in ("id", "city", "year", "kind", "pages", "passages", "KPIs", "title"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        passages, kpis = counts.get(doc["id"], (0, 0))
        year = f"{doc['period'][0]}-{doc['period'][1]}" if doc.get("period") else str(doc.get("fiscal_year") or "")
        table.add_row(doc["id"], doc.get("city") or "", year, doc["kind"], str(doc["pages"]), str(passages), str(kpis), doc["title"])
    console.print(table)


def extraction(data: dict[str, Any]) -> None:
    doc = data["document"]
    console.print(
        f"[bold]{escape(doc['title'])}[/]  {doc.get('city') or ''}  {doc['kind']}  FY{doc.get('fiscal_year') or '?'}  {doc['pages']} pages"
    )
    table = Table(title=f"{len(data['passages'])} passages")
    for column in ("id", "page", "kind", "item", "section", "text"):
        table.add_column(column, overflow="fold")
    for p in data["passages"]:
        table.add_row(
            p["id"].split("-")[-1],
            str(p["page"]),
            kind_label(p["kind"]),
            p["item"],
            " › ".join(p["section"]),
            p["text"][:80].replace("\n", " "),
        )
    console.print(table)
    kpis = Table(title=f"{len(data['kpis'])} KPIs")
    for column in ("id", "page", "kind", "name", "unit", "dir", "values"):
        kpis.add_column(column, overflow="fold")
    for k in data["kpis"]:
        values = " ".join(s["raw"]["actual"] or "-" for s in k["series"] if s["raw"]["actual"] or s["raw"]["target"])
        kpis.add_row(k["id"].split("-")[-1], str(k["page"]), k["kind"], f"{k['label']}{k['name']}", k["unit"], k["direction"], values)
    console.print(kpis)
    for message in data.get("warnings", []):
        warning(message)


def _number(value: float | None, raw: str) -> str:
    return raw if value is None or raw else f"{value:g}"


def kpi_views(views: list[Any], sparkline: Any, against: Any) -> None:
    """Each KPI: a table per year (目標/実績/達成率), moves against its direction in red,
    achievement under 100% in yellow, a one-line trend, and its best linked passages."""
    if not views:
        console.print("[dim]no KPI matches[/]")
    for view in views:
        d = view.data
        arrow = "↓ lower is better" if d["direction"] == "down" else "↑"
        console.print(
            Text.assemble(
                (f"{d['label']}{d['name']}", "bold"),
                (f"  [{d['unit'] or '-'}] {arrow}  {d['kind']}  ", "cyan"),
                (f"{view.doc.get('city') or ''} {view.doc.get('title', '')} p.{d['page']}  {d['id']}", "dim"),
            )
        )
        if d["section"]:
            console.print(Text("  " + " › ".join(d["section"]), style="dim"))
        series = [p for p in d["series"] if any(p["raw"].values()) or p["target"] is not None]
        wrong = against(series, d["direction"])
        table = Table(show_header=True, box=None, padding=(0, 1))
        table.add_column("")
        for point in series:
            table.add_column(point["label"], justify="right")
        has = {m: any(p[m] is not None or p["raw"][m] for p in series) for m in ("target", "actual", "rate")}
        for metric, label in (("target", "目標"), ("actual", "実績"), ("rate", "達成率")):
            if not has[metric]:
                continue
            cells = []
            for point, is_wrong in zip(series, wrong):
                text = Text(_number(point[metric], point["raw"][metric]))
                if metric == "actual" and is_wrong:
                    text.stylize("bold red")
                if metric == "rate" and point["rate"] is not None and point["rate"] < 100:
                    text.stylize("yellow")
                cells.append(text)
            table.add_row(label, *cells)
        console.print(table)
        actuals = [p["actual"] for p in series]
        trend = sparkline(actuals) if sum(a is not None for a in actuals) >= 2 else ""  # one year is no trend
        if trend:
            console.print(Text.assemble(("  trend ", "dim"), (trend, "blue"), ("  (red: a move against the direction)", "dim")))
        if d.get("base"):
            console.print(Text(f"  {d['base']}", style="dim"))
        for link in view.links:
            console.print(
                Text.assemble(
                    ("  ↳ ", "blue"),
                    kind_label(link["kind"]),
                    (f" {link['item']} ", "bold"),
                    (f"{link['score']:.2f} ", "dim"),
                    (link["text"].replace("\n", " ")[:70], ""),
                )
            )
        console.print()


def shown(data: dict[str, Any]) -> None:
    record = data["record"]
    console.print(Text(f"{data['type']} {record['id']}  {data.get('city') or ''} {data['doc']['title']} p.{record['page']}", style="bold"))
    if record.get("section"):
        console.print(Text("  " + " › ".join(record["section"]), style="dim"))
    if data["type"] == "passage":
        console.print(Text.assemble("  ", kind_label(record["kind"]), f"  {record['item']}"))
        console.print(Text("  " + record["text"].replace("\n", "\n  ")))
        for link in data["links"]:
            console.print(Text(f"  ↳ KPI {link['label']}{link['name']} ({link['score']:.2f}; {link['reason']})", style="blue"))
    else:
        console.print(Text(f"  {record['label']}{record['name']} [{record['unit']}] {record['direction']} {record['kind']}"))
        for point in record["series"]:
            raw = point["raw"]
            if any(raw.values()):
                console.print(
                    Text(f"  {point['label']}: 目標 {raw['target'] or '-'}  実績 {raw['actual'] or '-'}  達成率 {raw['rate'] or '-'}")
                )
        for link in data["links"]:
            console.print(Text.assemble("  ↳ ", kind_label(link["kind"]), f" {link['item']} ({link['score']:.2f}; {link['reason']})"))
            console.print(Text("    " + link["text"].replace("\n", " ")[:100], style="dim"))


def related(result: Any) -> None:
    source = result.source
    doc_title = source.get("doc", {}).get("title", "")
    where = f"{source.get('city') or ''} {doc_title} p.{source.get('page', '')}" if "id" in source else "--text"
    console.print(Text(f"like: {source.get('id', '')} {where}", style="bold"))
    console.print(Padding(Text("salient: " + " ".join(source["salient_terms"]), style="dim"), (0, 0, 0, 2)))
    for city, hits in result.groups:
        console.print(Text(f"\n{city or '(no city)'}", style="bold magenta"))
        for rank, related_hit in enumerate(hits, start=1):
            print_hit(rank, related_hit.hit, [Text("shared: " + ", ".join(related_hit.shared_terms), style="blue")])


def audit_report(report: Any) -> None:
    """Findings grouped by document, then severity."""
    styles = {"high": "bold red", "medium": "yellow", "low": "dim"}
    if not report.findings:
        console.print("[green]no findings[/]")
    by_doc: dict[str, list[Any]] = {}
    for finding in report.findings:
        by_doc.setdefault(f"{finding.city} {finding.doc_title}", []).append(finding)
    for title, findings in by_doc.items():
        console.print(Text(title, style="bold underline"))
        for severity in ("high", "medium", "low"):
            for f in (f for f in findings if f.severity == severity):
                head = ((f"  {severity:6} ", styles[severity]), (f"{f.rule:6} ", "cyan"), (f"p.{f.page:<3} ", "dim"))
                console.print(Text.assemble(*head, f.explanation))
    reported = sum(1 for g in report.goals if g.coverage >= 0.3)
    console.print(Text(f"\n{len(report.findings)} findings; {reported}/{len(report.goals)} goals have a reported activity", style="dim"))
