"""Passages extracted elsewhere, ingested from .jsonl (the format is documented in planindex/jsonl.py):
ids kept, every bad line named by its number, optional fields honoured by the filters."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from planindex.errors import BadJsonl
from planindex.ingest import ingest
from planindex.jsonl import read_jsonl
from tests.support import assert_one_line_error, index_state, invoke, run_cli

PASSAGES = [
    {"id": "tok-001", "text": "待機児童の解消に向けて保育園の定員を拡大した。", "title": "進捗管理表", "city": "所沢市", "year": 2023,
     "kind": "取り組み状況", "item": "保育", "section": ["基本目標1", "子育て支援"]},
    {"id": "tok-002", "text": "保育士の確保が課題である。待機児童は減少した。", "title": "進捗管理表", "city": "所沢市", "year": 2023,
     "kind": "課題", "item": "保育", "section": "基本目標1"},
    {"id": "tok-003", "text": "待機児童ゼロを維持する。", "title": "進捗管理表", "city": "所沢市", "year": 2024, "kind": "方向性"},
    {"id": "kiy-001", "text": "待機児童の解消と学童クラブの整備を進める。", "title": "長期総合計画", "city": "清瀬市", "year": 2026,
     "kind": "目標"},
    {"id": "kiy-002", "text": "農業の担い手を育てる。"},
]  # fmt: skip


def write(path: Path, lines: list[object] | list[str]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def jsonl_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("jsonl")
    report = ingest([write(folder / "passages.jsonl", PASSAGES)], folder / "index")
    assert not report.failed
    return folder / "index"


def hits(index: Path, *args: str) -> list[dict[str, object]]:
    result = invoke("search", *args, "--json", "-k", "50", "--index", index)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["hits"]


def test_ids_are_kept_and_shown_as_the_hit_id(jsonl_index: Path) -> None:
    found = hits(jsonl_index, "待機児童")
    assert {h["id"] for h in found} == {"tok-001", "tok-002", "tok-003", "kiy-001"}
    first = next(h for h in found if h["id"] == "tok-001")
    assert (first["kind"], first["item"], first["section"], first["city"], first["year"]) == (
        "取り組み状況", "保育", ["基本目標1", "子育て支援"], "所沢市", 2023,
    )  # fmt: skip
    assert first["doc"]["title"] == "進捗管理表" and first["page"] == 0
    assert next(h for h in found if h["id"] == "tok-002")["section"] == ["基本目標1"]  # a string is a one-level path


def test_lines_with_the_same_title_city_and_year_make_one_document(jsonl_index: Path) -> None:
    documents = index_state(jsonl_index).docs["documents"]
    assert sorted((d["title"], d["city"], d["fiscal_year"], d["passages"]) for d in documents) == [
        ("passages", None, None, 1),  # no title: the file's name
        ("進捗管理表", "所沢市", 2023, 2),
        ("進捗管理表", "所沢市", 2024, 1),
        ("長期総合計画", "清瀬市", 2026, 1),
    ]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (["--city", "清瀬市"], {"kiy-001"}),
        (["--year", "2023"], {"tok-001", "tok-002"}),
        (["--kind", "方向性"], {"tok-003"}),
        (["--kind", "課題"], {"tok-002"}),
        (["--doc", "長期総合計画"], {"kiy-001"}),
        (["--city", "所沢市", "--year", "2024"], {"tok-003"}),
    ],
)
def test_optional_fields_are_honoured_by_the_filters(jsonl_index: Path, options: list[str], expected: set[str]) -> None:
    assert {h["id"] for h in hits(jsonl_index, "待機児童", *options)} == expected


def test_the_item_label_finds_its_passages(jsonl_index: Path) -> None:
    """An item is searchable even where the text does not repeat it (tok-002 says 保育士, not 保育)."""
    assert {"tok-001", "tok-002"} <= {h["id"] for h in hits(jsonl_index, "保育")}


BAD_LINES = [
    ("{not json", "invalid JSON"),
    ('["id", "text"]', "not a JSON object"),
    ('{"text": "待機児童"}', '"id" must be a non-empty string'),
    ('{"id": "x"}', '"text" must be a non-empty string'),
    ('{"id": "x", "text": "   "}', '"text" must be a non-empty string'),
    ('{"id": 7, "text": "待機児童"}', '"id" must be a non-empty string'),
    ('{"id": "x", "text": ["待機児童"]}', '"text" must be a non-empty string'),
    ('{"id": "x", "text": "待機児童", "title": 5}', '"title" must be a string'),
    ('{"id": "x", "text": "待機児童", "city": ["所沢市"]}', '"city" must be a string'),
    ('{"id": "x", "text": "待機児童", "year": "令和5年度"}', '"year" must be an integer'),
    ('{"id": "x", "text": "待機児童", "year": 2023.5}', '"year" must be an integer'),
    ('{"id": "x", "text": "待機児童", "year": true}', '"year" must be an integer'),
    ('{"id": "x", "text": "待機児童", "kind": "感想"}', '"kind" must be one of'),
    ('{"id": "x", "text": "待機児童", "section": [1, 2]}', '"section" must be a string or a list of strings'),
    ('{"id": "x", "text": "待機\\ud800児童"}', "lone surrogate"),
    ('{"id": "tok-001", "text": "重複"}', "'tok-001' appears twice"),
]


@pytest.mark.parametrize(("line", "problem"), BAD_LINES)
def test_a_bad_line_is_named_by_its_number(tmp_path: Path, line: str, problem: str) -> None:
    """The bad line is the fourth, after a blank line that still counts: the number is the one an
    editor shows."""
    path = write(tmp_path / "bad.jsonl", [PASSAGES[0], PASSAGES[1], "", line, PASSAGES[3]])
    with pytest.raises(BadJsonl) as raised:
        read_jsonl(path)
    assert raised.value.path == str(path)
    assert raised.value.problem.startswith("line 4: ") and problem in raised.value.problem
    assert gc.isenabled()  # the collector, paused while the file is read, runs again after a refusal too


def test_reading_leaves_the_collector_as_the_caller_had_it(tmp_path: Path) -> None:
    path = write(tmp_path / "p.jsonl", PASSAGES)
    assert read_jsonl(path) and gc.isenabled()
    gc.disable()
    try:
        assert read_jsonl(path) and not gc.isenabled()
    finally:
        gc.enable()


def test_a_bad_file_through_the_cli_is_one_line_and_indexes_nothing_of_it(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    ingest([write(tmp_path / "good.jsonl", PASSAGES[:2])], folder)
    before = index_state(folder)
    path = write(tmp_path / "bad.jsonl", [PASSAGES[3], '{"id": "z", "text": 1}'])
    assert_one_line_error(run_cli("ingest", path, "--index", folder), str(path), "line 2", '"text"')
    assert index_state(folder) == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "no passages"),
        (b"\n\n  \n", "no passages"),
        (b'{"id": "w", "text": "ok"}\n{"id": "x", "text": "\x93\xfa\x96\x7b"}\n', "line 2: not UTF-8"),
    ],
)
def test_a_file_with_no_passages_or_not_utf8_is_refused(tmp_path: Path, content: bytes, problem: str) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_bytes(content)
    with pytest.raises(BadJsonl, match=problem):
        read_jsonl(path)


def test_a_byte_order_mark_and_crlf_line_ends_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "windows.jsonl"
    path.write_bytes("\ufeff".encode() + "\r\n".join(json.dumps(p, ensure_ascii=False) for p in PASSAGES).encode())
    assert sorted(p.id for e in read_jsonl(path) for p in e.passages) == sorted(p["id"] for p in PASSAGES)
