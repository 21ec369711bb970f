"""Query syntax: words are ANDed softly (BM25 with a coordination factor), "a quoted phrase" must
appear as written, -word excludes, and OR between words makes them alternatives."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from planindex.errors import QueryError
from planindex.normalize import normalize
from planindex.tokens import analyze

MAX_QUERY = 1000
TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
HIRAGANA_ONLY = re.compile(r"^[ぁ-ゖー]{1,2}$")  # particles typed alone: の, を, には


@dataclass(frozen=True, slots=True)
class Term:
    raw: str
    norm: str
    words: tuple[str, ...]
    grams: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    groups: tuple[tuple[Term, ...], ...]  # each group: alternatives joined by OR
    phrases: tuple[str, ...]  # normalized; each must occur in a hit
    excludes: tuple[str, ...]  # normalized; none may occur in a hit

    def highlight_terms(self) -> list[str]:
        """Normalized strings to mark in a snippet: each word as typed, and each phrase."""
        terms = {t.norm for group in self.groups for t in group} | set(self.phrases)
        terms |= {w for group in self.groups for t in group for w in t.words if len(w) >= 2}
        return sorted((t for t in terms if t), key=len, reverse=True)


def _validate(text: str) -> None:
    if not text.strip():
        raise QueryError("the query is empty: type what to look for, e.g. planindex search 待機児童")
    if len(text) > MAX_QUERY:
        raise QueryError(f"the query is {len(text):,} characters long; at most {MAX_QUERY} are searched: shorten it")
    # U+FFFD and lone surrogates are what undecodable bytes become (errors="replace" or
    # "surrogateescape", as Python decodes a command line): the query was binary, not text.
    bad = [
        ch for ch in text if ch == "\ufffd" or unicodedata.category(ch) == "Cs" or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r")
    ]
    if bad:
        raise QueryError("the query contains control characters or binary data: type plain text")


def _term(raw: str) -> Term:
    words, grams = analyze(raw)
    return Term(raw, normalize(raw), tuple(words), tuple(grams))


def parse(text: str) -> Query:
    """Parse a query, raising QueryError with a message a person can act on."""
    _validate(text)
    groups: list[list[Term]] = []
    phrases: list[str] = []
    excludes: list[str] = []
    join_next = False
    for match in TOKEN.finditer(text):
        negative, phrase, word = match.group(1), match.group(2), match.group(3)
        if word == "OR":
            join_next = bool(groups)
            continue
        if word and word.startswith("-") and len(word) > 1:
            negative, word = "-", word[1:]
        raw = phrase if phrase is not None else word
        if not raw or not raw.strip():
            continue
        if negative:
            excludes.append(normalize(raw))
            continue
        term = _term(raw)
        if not term.words and not term.grams:
            continue
        if phrase is not None:
            phrases.append(term.norm)
        if join_next:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    if not groups:
        if excludes:
            raise QueryError("the query only excludes (-word): add a word to look for")
        raise QueryError("the query has no searchable words (only particles or symbols): add a content word")
    if all(not t.words and HIRAGANA_ONLY.match(t.norm) for g in groups for t in g):
        raise QueryError("the query has only particles (の, を, は…): add a content word")
    return Query(text, tuple(tuple(g) for g in groups), tuple(phrases), tuple(excludes))
