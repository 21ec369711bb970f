"""The command line as documented: fast help that loads neither PyMuPDF nor MeCab, help for every
command, the search JSON schema, filters, a k past the corpus size, and --batch."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from planindex.index import Index
from tests.conftest import CORPUS
from tests.support import assert_one_line_error, cli_env, invoke, run_cli

HIT_KEYS = {"id", "score", "kind", "item", "text", "snippet", "city", "year", "doc", "page", "section", "kpis"}
COMMANDS = ("ingest", "search", "docs", "remove", "kpi", "show", "related", "audit", "extract")


def _run_and_list_imports(invocations: list[list[str]], modules: tuple[str, ...]) -> tuple[list[int], list[str]]:
    """Exit codes of CLI invocations run one after the other in a fresh interpreter, and which of
    the modules were imported by the end."""
    script = (
        "import json, sys; from typer.testing import CliRunner; from planindex.cli import app; "
        f"codes = [CliRunner().invoke(app, args).exit_code for args in {invocations!r}]; "
        f"print(json.dumps([codes, sorted(m for m in {modules!r} if m in sys.modules)]))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=cli_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    codes, loaded = json.loads(result.stdout)
    return codes, loaded


def test_help_loads_neither_pymupdf_nor_mecab() -> None:
    """Every command's help too: the heavy imports belong inside the commands that run."""
    helps = [[*command, "--help"] for command in [[], *([name] for name in COMMANDS)]]
    assert _run_and_list_imports(helps, ("pymupdf", "fitz", "fugashi", "MeCab")) == ([0] * len(helps), [])


def test_search_loads_neither_pymupdf_nor_pydantic(corpus_index: Path) -> None:
    """A search reads the index alone. pydantic is what typer 0.29 brought (a validator built per
    option, 0.2 s of every cold start): pyproject keeps typer below it, and this says why."""
    search = ["search", "待機児童", "--index", str(corpus_index)]
    assert _run_and_list_imports([search], ("pymupdf", "fitz", "pydantic")) == ([0], [])


def test_a_jsonl_ingest_loads_no_pymupdf(tmp_path: Path) -> None:
    """Passages extracted elsewhere need no PDF reader: PyMuPDF and the layout code are 0.3 s of
    every start, imported only when a PDF is met."""
    source = tmp_path / "passages.jsonl"
    source.write_text('{"id": "a-1", "text": "待機児童の解消に向けて保育所を整備した"}\n', encoding="utf-8")
    ingest = ["ingest", "--index", str(tmp_path / "index"), str(source)]
    assert _run_and_list_imports([ingest], ("pymupdf", "fitz")) == ([0], [])


def test_json_output_loads_no_rich(tmp_path: Path, corpus_index: Path) -> None:
    """--json is for scripts: rich, 40 ms of every start, is only for a terminal's output and errors."""
    source = tmp_path / "passages.jsonl"
    source.write_text('{"id": "a-1", "text": "待機児童の解消に向けて保育所を整備した"}\n', encoding="utf-8")
    commands = [
        ["ingest", "--index", str(tmp_path / "index"), str(source), "--json"],
        ["search", "待機児童", "--index", str(corpus_index), "--json"],
        ["docs", "--index", str(corpus_index), "--json"],
    ]
    assert _run_and_list_imports(commands, ("rich",)) == ([0, 0, 0], [])


def test_hits_stay_indented_under_their_rank_in_80_columns(corpus_index: Path) -> None:
    """A pipe, like a small terminal, gets 80 columns: Japanese wraps there, and a wrapped line must
    stay under its hit, not start at the margin where it reads as the next hit."""
    from rich.cells import cell_len

    result = run_cli("search", "待機児童", "-k", "5", "--index", corpus_index)
    assert result.returncode == 0, result.stderr
    summary, *body = result.stdout.splitlines()
    assert "matching passages" in summary
    assert len([line for line in body if re.match(r" ?\d+\. ", line)]) == 5
    assert all(re.match(r" ?\d+\. ", line) or line.startswith("    ") for line in body)
    assert max(cell_len(line.rstrip()) for line in body) <= 80
    assert len(body) > 5 * 4  # the snippets did wrap: the check above had something to hold


def test_ingest_lines_keep_their_titles_under_the_file_name_in_80_columns(tmp_path: Path) -> None:
    """The same for ingest: a long document title wraps under the file name, not at the margin."""
    result = run_cli("ingest", CORPUS, "--index", tmp_path / "index")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len([line for line in lines if line.startswith("added    ")]) == 4
    assert all(line.startswith(("added    ", " " * 9)) for line in lines)
    assert len(lines) > 4  # a title did wrap at 80 columns: the check above had something to hold


def test_every_command_has_help_that_says_what_it_does() -> None:
    from planindex.cli import app  # noqa: TID251 - the ban keeps the library off the CLI; tests read it

    commands = {c.name or c.callback.__name__: c.callback for c in app.registered_commands if c.callback}
    assert sorted(commands) == sorted(COMMANDS)  # a new command gets a line here, and so its help is checked
    overview = invoke("--help")
    assert overview.exit_code == 0
    for name, callback in commands.items():
        assert name in overview.stdout
        result = invoke(name, "--help")
        assert result.exit_code == 0, result.output
        first_words = " ".join((callback.__doc__ or "").split()[:2])
        assert first_words and first_words in " ".join(result.stdout.split()), name  # its docstring, however wrapped


def test_the_installed_entry_point_runs() -> None:
    planindex = Path(sys.executable).with_name("planindex")
    result = subprocess.run([str(planindex), "--version"], capture_output=True, text=True, env=cli_env(), timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("planindex ")


def search_json(index: Path, *args: str) -> dict:
    result = invoke("search", *args, "--json", "--index", index)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_search_json_has_the_documented_schema(corpus_index: Path) -> None:
    data = search_json(corpus_index, "健康寿命", "-k", "5")
    assert set(data) == {"query", "total", "took_ms", "hits"}
    assert data["query"] == "健康寿命" and isinstance(data["took_ms"], float) and data["total"] >= len(data["hits"]) > 0
    for hit in data["hits"]:
        assert set(hit) == HIT_KEYS
        assert isinstance(hit["id"], str) and isinstance(hit["score"], float) and hit["score"] > 0
        assert hit["kind"] in ("取り組み状況", "課題", "方向性", "目標", "評価", "本文")
        assert isinstance(hit["item"], str) and isinstance(hit["text"], str) and isinstance(hit["snippet"], str)
        assert hit["city"] in ("所沢市", "清瀬市") and (hit["year"] is None or isinstance(hit["year"], int))
        assert set(hit["doc"]) == {"id", "title", "path"} and hit["doc"]["path"].endswith(".pdf")
        assert isinstance(hit["page"], int) and hit["page"] >= 1
        assert isinstance(hit["section"], list) and all(isinstance(s, str) for s in hit["section"])
        for kpi in hit["kpis"]:
            assert set(kpi) == {"id", "name", "score"}
    assert [h["score"] for h in data["hits"]] == sorted((h["score"] for h in data["hits"]), reverse=True)
    assert any(h["kpis"] for h in data["hits"])  # 健康寿命 is a KPI of the 総合戦略: some passage links it


def test_a_k_larger_than_the_corpus_returns_every_match(corpus_index: Path) -> None:
    everything = search_json(corpus_index, "市", "-k", "1000000")
    assert len(everything["hits"]) == everything["total"] > 10
    assert search_json(corpus_index, "市", "-k", "0")["hits"] == []


def documents(index: Path) -> dict[str, dict]:
    return {d["id"]: d for d in json.loads(invoke("docs", "--json", "--index", index).stdout)["documents"]}


@pytest.mark.parametrize(
    ("options", "check"),
    [
        (["--city", "清瀬市"], lambda hit, doc: hit["city"] == "清瀬市"),
        (
            ["--year", "2023"],
            lambda hit, doc: doc["fiscal_year"] == 2023 or (doc["period"] and doc["period"][0] <= 2023 <= doc["period"][1]),
        ),
        (["--year", "2030"], lambda hit, doc: doc["period"] and doc["period"][0] <= 2030 <= doc["period"][1]),
        (["--kind", "課題"], lambda hit, doc: hit["kind"] == "課題"),
        (["--kind", "方向性", "--city", "所沢市"], lambda hit, doc: hit["kind"] == "方向性" and hit["city"] == "所沢市"),
        (["--doc", "政策評価表"], lambda hit, doc: "政策評価表" in doc["title"]),
    ],
)
def test_filters_keep_only_matching_hits(corpus_index: Path, options: list[str], check: object) -> None:
    docs = documents(corpus_index)
    unfiltered = search_json(corpus_index, "推進", "-k", "1000")
    filtered = search_json(corpus_index, "推進", "-k", "1000", *options)
    assert filtered["hits"], options
    assert all(check(hit, docs[hit["doc"]["id"]]) for hit in filtered["hits"])  # type: ignore[operator]
    assert len(filtered["hits"]) < len(unfiltered["hits"])
    assert {h["id"] for h in filtered["hits"]} == {h["id"] for h in unfiltered["hits"] if check(h, docs[h["doc"]["id"]])}  # type: ignore[operator]


def test_doc_filter_takes_an_id_prefix(corpus_index: Path) -> None:
    doc_id = next(i for i, d in documents(corpus_index).items() if d["city"] == "清瀬市")
    hits = search_json(corpus_index, "推進", "--doc", doc_id[:6])["hits"]
    assert hits and {h["doc"]["id"] for h in hits} == {doc_id}


def test_an_unknown_kind_is_one_line_naming_the_kinds(corpus_index: Path) -> None:
    assert_one_line_error(run_cli("search", "推進", "--kind", "感想", "--index", corpus_index), "感想", "取り組み状況")


def test_search_on_a_missing_index_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("search", "推進", "--index", tmp_path / "nothing"), "no index", "planindex ingest")


def test_batch_of_plain_lines_and_of_jsonl_prints_one_json_line_each(
    corpus_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []
    original = Index.open.__func__  # type: ignore[attr-defined]

    def counting(cls: type[Index], folder: Path | None = None) -> Index:
        opened.append(folder or Path())
        return original(cls, folder)

    monkeypatch.setattr(Index, "open", classmethod(counting))
    plain = tmp_path / "queries.txt"
    plain.write_text("待機児童\n\n健康寿命\nの\n", encoding="utf-8")
    result = invoke("search", "--batch", plain, "-k", "3", "--index", corpus_index)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["id"], x["query"]) for x in lines] == [("1", "待機児童"), ("3", "健康寿命"), ("4", "の")]
    assert all(len(x["hits"]) <= 3 for x in lines) and lines[0]["hits"] and "error" in lines[2]
    assert set(lines[0]) == {"id", "query", "total", "took_ms", "hits"}

    keyed = tmp_path / "queries.jsonl"
    keyed.write_text('{"id": "q-7", "query": "農業"}\n{"id": 8, "query": "ＤＸ"}\n', encoding="utf-8")
    result = invoke("search", "--batch", keyed, "--index", corpus_index)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["id"], x["query"], bool(x["hits"])) for x in lines] == [("q-7", "農業", True), ("8", "ＤＸ", True)]
    assert len(opened) == 2  # once per run, not once per query


def test_batch_with_a_bad_line_or_no_file_is_one_line(corpus_index: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "query": "農業"}\n{"id": 2}\n', encoding="utf-8")
    assert_one_line_error(run_cli("search", "--batch", bad, "--index", corpus_index), str(bad), "line 2")
    assert_one_line_error(run_cli("search", "--batch", tmp_path / "none.txt", "--index", corpus_index), "none.txt", "no such file")
