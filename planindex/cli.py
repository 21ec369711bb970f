"""The `planindex` command: a thin Typer layer over the library.

Heavy modules (PyMuPDF, MeCab, numpy; rich, which --json never needs) are imported inside the
commands that need them, so that `planindex --help` and scripts start fast. Every expected
failure becomes one line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any, TypeVar

import typer

from planindex import __version__
from planindex.errors import PlanindexError

# planindex multiplies no matrices, yet numpy's OpenBLAS starts a thread per core on import, which
# spin for a while: 0.1 s of CPU at every start (a third of what a cold search costs). Set before
# numpy is imported, and only where the user has not chosen.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

app = typer.Typer(
    name="planindex",
    help="Search and audit Japanese local-government planning and evaluation PDFs (総合計画, 総合戦略, 政策評価).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

IndexOption = Annotated[
    Path | None,
    typer.Option("--index", envvar="PLANINDEX_INDEX", help="Index folder (default: ./index).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON (schema in the README).")]
F = TypeVar("F", bound=Callable[..., Any])


def handled(command: F) -> F:
    """Turn planindex's own errors into one line on stderr and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except PlanindexError as exc:
            _error(str(exc))
            raise typer.Exit(1) from None
        except BrokenPipeError:  # the reader of the output stopped (| head): nothing is wrong
            sys.stderr.close()
            raise typer.Exit(0) from None
        except OSError as exc:  # permission denied, disk full, a folder where a file was expected
            _error(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            _error("interrupted: the index is unchanged by the unfinished command")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _terminal() -> ModuleType:
    """planindex.output, imported only for a human's output or an error: rich takes 40 ms a start."""
    from planindex import output

    return output


def _error(message: str) -> None:
    _terminal().error(message)


def _print_json(data: Any, indent: int | None = 2) -> None:
    """JSON for scripts: indented, or (indent None) one object a line, as --batch prints."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=indent) + "\n")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"planindex {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Search and audit Japanese local-government planning and evaluation PDFs."""


@app.command()
@handled
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF or .jsonl files, or folders to search for them.")],
    index: IndexOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Build a fresh index and swap it in when complete.")] = False,
    city: Annotated[str | None, typer.Option(help="City, where a document does not say (e.g. 所沢市).")] = None,
    year: Annotated[int | None, typer.Option(help="Fiscal year, where a document does not say (e.g. 2023).")] = None,
    title: Annotated[str | None, typer.Option(help="Title, where a document does not say.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Extract PDFs (or read .jsonl passages) into the index; unchanged files are skipped."""
    from planindex.ingest import ingest as run

    if as_json:
        report = run(paths, index, rebuild=rebuild, city=city, year=year, title=title)
        _print_json(report.to_json())
    else:
        output = _terminal()
        with output.progress("reading") as update:
            report = run(paths, index, rebuild=rebuild, city=city, year=year, title=title, on_event=output.ingest_event, on_progress=update)
    if report.failed:
        raise typer.Exit(1)


@app.command(context_settings={"ignore_unknown_options": True})  # `search -保育` is a query that excludes, not an option
@handled
def search(
    query: Annotated[str | None, typer.Argument(help='Words to find. "a phrase" must match as written, -word excludes, A OR B.')] = None,
    k: Annotated[int, typer.Option("-k", "--limit", min=0, help="How many hits.")] = 10,
    city: Annotated[str | None, typer.Option(help="Only this city (e.g. 清瀬市).")] = None,
    year: Annotated[int | None, typer.Option(help="Only documents covering this fiscal year.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only passages of this kind: 取り組み状況, 課題, 方向性, 目標, 評価, 本文.")] = None,
    doc: Annotated[str | None, typer.Option(help="Only this document (id prefix, or part of its title or path).")] = None,
    batch: Annotated[Path | None, typer.Option(help="Run one query a line (text, or JSONL with id and query); print JSON lines.")] = None,
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search passages: ranked, with kind, item, city, document, page, section and linked KPIs."""
    from planindex.errors import QueryError
    from planindex.index import Index
    from planindex.search import Filters
    from planindex.search import search as run

    if kind and kind not in ("取り組み状況", "課題", "方向性", "目標", "評価", "本文"):
        raise QueryError(f"unknown --kind {kind!r}: use 取り組み状況, 課題, 方向性, 目標, 評価 or 本文")
    filters = Filters(city, year, kind, doc)
    opened = Index.open(index)
    try:
        if batch is not None:
            for qid, text in _batch_queries(batch):
                try:
                    result = run(opened, text, k, filters).to_json()
                except QueryError as exc:
                    result = {"query": text, "error": str(exc), "total": 0, "hits": []}
                _print_json({"id": qid, **result}, indent=None)
            return
        if query is None:
            raise QueryError("the query is empty: type what to look for, e.g. planindex search 待機児童")
        result = run(opened, query, k, filters)
        if as_json:
            _print_json(result.to_json())
        else:
            _terminal().search_result(result)
    finally:
        opened.close()


def _batch_queries(path: Path) -> list[tuple[str, str]]:
    from planindex.errors import BadJsonl, NotFound

    if not path.exists():
        raise NotFound(path, "no such file")
    queries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if line.lstrip().startswith("{"):
            try:
                obj = json.loads(line)
                queries.append((str(obj.get("id", number)), str(obj["query"])))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise BadJsonl(path, f'line {number}: expected {{"id", "query"}} ({exc})') from exc
        else:
            queries.append((str(number), line))
    return queries


@app.command()
@handled
def docs(index: IndexOption = None, as_json: JsonOption = False) -> None:
    """List the indexed documents."""
    from planindex.index import default_folder, expected_manifest
    from planindex.store import Store

    store = Store.open(index or default_folder(), expected_manifest())
    try:
        documents = store.documents()
        counts = {d["id"]: (store.count("passages", d["id"]), store.count("kpis", d["id"])) for d in documents}
    finally:
        store.close()
    if as_json:
        _print_json({"documents": [{**d, "passages": counts[d["id"]][0], "kpis": counts[d["id"]][1]} for d in documents]})
    else:
        _terminal().documents(documents, counts)


@app.command()
@handled
def remove(
    doc: Annotated[str, typer.Argument(help="Document id (or a unique prefix), as `planindex docs` shows.")],
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Remove a document and everything extracted from it."""
    from planindex.ingest import remove as run

    removed = run(doc, index)
    if as_json:
        _print_json({"removed": removed})
    else:
        _terminal().info(f"removed {removed['id']} {removed['title']} ({removed['path']})")


@app.command()
@handled
def kpi(
    query: Annotated[str | None, typer.Argument(help="Words of a KPI's name, unit or section; none: every KPI.")] = None,
    city: Annotated[str | None, typer.Option(help="Only this city.")] = None,
    doc: Annotated[str | None, typer.Option(help="Only this document (id prefix, or part of its title or path).")] = None,
    k: Annotated[int, typer.Option("-k", "--limit", min=1, help="How many KPIs, with a query.")] = 10,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV: one row per KPI and year.")] = False,
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """KPIs with their yearly series (目標, 実績, 達成率), trend, and the passages linked to them."""
    from planindex.index import Index
    from planindex.kpis import against_direction, find_kpis, sparkline, to_csv
    from planindex.search import Filters

    opened = Index.open(index)
    try:
        views = find_kpis(opened, query, Filters(city=city, doc=doc), k)
    finally:
        opened.close()
    if csv:
        sys.stdout.write(to_csv(views))
    elif as_json:
        _print_json({"kpis": [v.to_json() for v in views]})
    else:
        _terminal().kpi_views(views, sparkline, against_direction)


@app.command()
@handled
def show(
    record_id: Annotated[str, typer.Argument(metavar="ID", help="A passage or KPI id, as search and kpi print them.")],
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """One passage or KPI: where it is and everything linked to it."""
    from planindex.index import Index
    from planindex.kpis import show as run

    opened = Index.open(index)
    try:
        data = run(opened, record_id)
    finally:
        opened.close()
    if as_json:
        _print_json(data)
    else:
        _terminal().shown(data)


@app.command()
@handled
def related(
    record_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="A passage id, as search prints it.")] = None,
    text: Annotated[str | None, typer.Option("--text", help="Compare this text instead of a passage.")] = None,
    other_cities: Annotated[bool, typer.Option("--other-cities", help="Only cities other than the source's.")] = False,
    city: Annotated[str | None, typer.Option(help="Only this city.")] = None,
    k: Annotated[int, typer.Option("-k", "--limit", min=1, help="Hits per city.")] = 5,
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Passages most like a passage (or a text), grouped by city, with the words they share."""
    from planindex.index import Index
    from planindex.related import related as run

    opened = Index.open(index)
    try:
        result = run(opened, record_id, text, other_cities=other_cities, city=city, k=k)
    finally:
        opened.close()
    if as_json:
        _print_json(result.to_json())
    else:
        _terminal().related(result)


@app.command()
@handled
def audit(
    city: Annotated[str | None, typer.Option(help="Only this city.")] = None,
    doc: Annotated[str | None, typer.Option(help="Only this document (id prefix, or part of its title or path).")] = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print the findings as CSV.")] = False,
    index: IndexOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check plans against reports: 達成率, units, headings, names, narratives, goals, trends."""
    from planindex.audit import audit as run
    from planindex.audit import to_csv
    from planindex.index import Index

    opened = Index.open(index)
    try:
        report = run(opened, city, doc)
    finally:
        opened.close()
    if csv:
        sys.stdout.write(to_csv(report.findings))
    elif as_json:
        _print_json(report.to_json())
    else:
        _terminal().audit_report(report)


@app.command()
@handled
def extract(
    pdf: Annotated[Path, typer.Argument(help="A PDF to read.")],
    city: Annotated[str | None, typer.Option(help="City, where the document does not say.")] = None,
    year: Annotated[int | None, typer.Option(help="Fiscal year, where the document does not say.")] = None,
    title: Annotated[str | None, typer.Option(help="Title, where the document does not say.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the records of one PDF (document, passages, KPIs) without indexing it."""
    from planindex.extract import extract as run

    data = run(pdf, city=city, year=year, title=title).to_json()
    if as_json:
        _print_json(data)
    else:
        _terminal().extraction(data)


if __name__ == "__main__":
    app()
