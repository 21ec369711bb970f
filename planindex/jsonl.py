"""Passages extracted elsewhere, for `planindex ingest FILE.jsonl`: one JSON object a line.

    {"id": "q-0001", "text": "待機児童の解消に向けて…", "title": "令和5年度 進捗管理表",
     "city": "所沢市", "year": 2023, "kind": "取り組み状況", "item": "保育", "section": ["基本目標1"]}

- "id" (required): a non-empty string, unique in the file and in the index; search hits show it
  as their "id", so that a result can be joined back to the source it came from.
- "text" (required): a non-empty string, the passage as searched and shown.
- "title", "city", "item": strings; "year": an integer fiscal year (2023, not "令和5年度");
  "kind": one of 取り組み状況, 課題, 方向性, 目標, 評価, 本文 (default 本文); "section": a string or
  a list of strings, outermost first. --city, --year, --kind and --doc filter on them.
- Other keys are ignored. Blank lines are skipped. UTF-8, with or without a byte order mark.

Lines with the same (title, city, year) form one document; the title defaults to the file name.
Validated line by line: a file with a bad line is rejected whole, naming the line, so that it is
never half indexed. A changed file replaces every document it made before.
"""

from __future__ import annotations

import codecs
import gc
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from planindex.errors import BadJsonl, NotFound
from planindex.records import KINDS, Document, Extraction, Passage, sha256_of

OPTIONAL_TEXT = ("title", "city", "kind", "item")


def _check(obj: Any, number: int, path: Path, escaped: bool) -> dict[str, Any]:
    """The object of a line, validated; `escaped` says whether the line has \\u escapes, without
    which no string in it can hold a lone surrogate (the file was decoded from UTF-8, which has none)."""

    def bad(problem: str) -> BadJsonl:
        return BadJsonl(path, f"line {number}: {problem}")

    if not isinstance(obj, dict):
        raise bad("not a JSON object")
    for key in ("id", "text"):
        if not isinstance(obj.get(key), str) or not obj[key].strip():
            raise bad(f'"{key}" must be a non-empty string')
    for key in OPTIONAL_TEXT:
        if key in obj and obj[key] is not None and not isinstance(obj[key], str):
            raise bad(f'"{key}" must be a string')
    if obj.get("kind") and obj["kind"] not in KINDS:
        raise bad(f'"kind" must be one of {", ".join(KINDS)}')
    year = obj.get("year")
    if year is not None and (isinstance(year, bool) or not isinstance(year, int)):
        raise bad('"year" must be an integer fiscal year such as 2023')
    section = obj.get("section")
    if section is not None and not (isinstance(section, str) or (isinstance(section, list) and all(isinstance(s, str) for s in section))):
        raise bad('"section" must be a string or a list of strings')
    for key in ("id", "text", *OPTIONAL_TEXT, "section") if escaped else ():
        if not _valid_unicode(obj.get(key)):
            raise bad(f'"{key}" holds a lone surrogate escape such as \\ud800: not valid Unicode text')
    return obj


def _valid_unicode(value: Any) -> bool:
    """JSON can spell a lone surrogate (\\ud800), which no UTF-8 tool downstream accepts."""
    strings = value if isinstance(value, list) else [value]
    try:
        for string in strings:
            if isinstance(string, str):
                string.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_jsonl(path: Path, on_passage: Callable[[Passage], None] | None = None, digest: str | None = None) -> list[Extraction]:
    """One Extraction per distinct (title, city, year) in the file, passages keeping their ids.
    on_passage is given each passage as soon as its line is read, in file order, so that its text
    can be analysed while the rest of the file is read; a bad line still rejects the file. digest:
    the file's SHA-256, when the caller has hashed it already."""
    with _collector_paused():
        return _extractions(path, on_passage, digest)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Without garbage collection: what a JSONL file becomes (dicts, lists, strings, passages) holds
    no reference cycle, so a collection finds nothing, yet each full one walks every object read so
    far (10 of 27 s reading a 1M-line file)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(number, text) of each line, read as the caller goes, so that the first passages are
    analysed before the file is read to its end. Bytes, decoded a line at a time: a third faster
    than a text-mode file, and a line that is not UTF-8 is named."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):  # files saved by Windows tools
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield number, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise BadJsonl(path, f"line {number}: not UTF-8 text ({exc.reason})") from exc


def _extractions(path: Path, on_passage: Callable[[Passage], None] | None, digest: str | None) -> list[Extraction]:
    if not path.exists():
        raise NotFound(path, "no such file")
    digest = digest or sha256_of(path)
    groups: dict[tuple[str, str | None, int | None], list[Passage]] = {}
    doc_ids: dict[tuple[str, str | None, int | None], str] = {}
    seen: set[str] = set()
    stem = path.stem
    for number, line in _lines(path):
        if not line.strip():
            continue
        try:
            obj = _check(json.loads(line), number, path, "\\u" in line)
        except json.JSONDecodeError as exc:
            raise BadJsonl(path, f"line {number}: invalid JSON ({exc.msg})") from exc
        if obj["id"] in seen:
            raise BadJsonl(path, f"line {number}: id {obj['id']!r} appears twice")
        seen.add(obj["id"])
        key = (obj.get("title") or stem, obj.get("city"), obj.get("year"))
        if key not in doc_ids:
            doc_ids[key] = hashlib.sha256(f"{digest}\n{key[0]}\n{key[1]}\n{key[2]}".encode()).hexdigest()[:16]
        passage = Passage(
            id=obj["id"],
            doc_id=doc_ids[key],
            page=0,
            kind=obj.get("kind") or "本文",
            text=obj["text"],
            section=tuple([obj["section"]] if isinstance(obj.get("section"), str) else obj.get("section") or ()),
            item=obj.get("item") or "",
        )
        groups.setdefault(key, []).append(passage)
        if on_passage:
            on_passage(passage)
    if not groups:
        raise BadJsonl(path, "no passages in the file")
    return [
        Extraction(Document(doc_ids[key], str(path), digest, 0, key[0], "other", key[1], key[2]), tuple(passages), ())
        for key, passages in groups.items()
    ]
