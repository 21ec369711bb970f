"""The search evaluation of planindex beside its peers, from one run on the same passages.

Systems, each given the passages read back from the planindex index (table passages: id, data):
  rank-bm25     BM25Okapi (its defaults) over every fugashi surface token: the stack a new user writes first;
  planindex     planindex.search.search, the library call behind `planindex search`;
  groonga-mecab Groonga, TokenMecab + NormalizerAuto, `select --match_columns text --query ...`;
  groonga-bigram the same with TokenBigram;
  ... tf-idf    each Groonga again with `--match_columns 'scorer_tf_idf(text)'`: Groonga's default score
                counts matched tokens with no IDF, which a bag-of-words query (below) needs;
  bm25s         bm25s (its defaults, method lucene) over the same surface tokens as rank-bm25.
Groonga (Debian groonga-bin + groonga-tokenizer-mecab) and bm25s are installed at bench time, never
project dependencies; a peer that is missing is reported as skipped, not faked.

Groonga is queried the way its documentation shows: each word typed becomes a quoted keyword (Groonga
ANDs them and matches each as a phrase of its tokens), match escalation left at its default (0: loosen
only when nothing matched), best _score first. A question typed as one sentence would be a single phrase
that no paragraph contains, so for JSQuAD (bench/eval_jsquad.py) the question is first split by the
lexicon's own tokenizer (table_tokenize) and its tokens are ORed: Groonga's bag-of-words query.

Usage: python bench/eval_peers.py [--index DIR] [--queries tests/eval/queries.yaml]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from planindex.eval_search import (
    CUTOFF,
    DEFAULT_QUERIES,
    Scores,
    StoredPassage,
    System,
    evaluate,
    open_judged,
    planindex_system,
    rank_bm25_system,
    table,
)

GROONGA_TOKENIZERS = {"groonga-mecab": "TokenMecab", "groonga-bigram": "TokenBigram"}


class Groonga:
    """A Groonga database of the passages, queried through the `groonga` command line in batches:
    one process reads every command on stdin and answers each on one line."""

    def __init__(self, passages: Sequence[StoredPassage], tokenizer: str, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)  # groonga -n refuses to overwrite a database
        folder.mkdir(parents=True)
        self.db = folder / "db"
        schema = [
            "table_create Passages TABLE_HASH_KEY ShortText",
            "column_create Passages text COLUMN_SCALAR Text",
            f"table_create Terms TABLE_PAT_KEY ShortText --default_tokenizer {tokenizer} --normalizer NormalizerAuto",
            "column_create Terms passages_text COLUMN_INDEX|WITH_POSITION Passages text",
        ]
        rows = json.dumps([{"_key": p.id, "text": p.text} for p in passages], ensure_ascii=False)
        self._run([*schema, f"load --table Passages\n{rows}"], create=True)

    def _run(self, commands: list[str], create: bool = False) -> list[object]:
        argv = ["groonga", *(["-n"] if create else []), str(self.db)]
        proc = subprocess.run(argv, input="\n".join(commands) + "\n", capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"groonga failed ({proc.returncode}): {proc.stderr[-500:] or proc.stdout[-500:]}")
        answers = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        for answer in answers:
            status = answer[0] if isinstance(answer, list) and answer and isinstance(answer[0], list) else [0]
            if status[0] != 0:
                raise RuntimeError(f"groonga: {status}")
        return answers

    @staticmethod
    def _command(name: str, **params: str) -> str:
        return f"/d/{name}?{urllib.parse.urlencode(params)}"

    @staticmethod
    def _quote(word: str) -> str:
        """A keyword of Groonga's query syntax, quoted so that its ( ) - OR : stay literal."""
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def tokens(self, texts: Sequence[str]) -> list[list[str]]:
        answers = self._run([self._command("table_tokenize", table="Terms", string=t, mode="ADD") for t in texts])
        return [[token["value"] for token in answer[1]] for answer in answers]  # type: ignore[index]

    def search(self, queries: Sequence[str], bag_of_words: bool = False, tf_idf: bool = False, cutoff: int = CUTOFF) -> list[list[str]]:
        """Passage ids of each query, best first. With bag_of_words, the query's tokens are ORed; with
        tf_idf, Groonga's scorer_tf_idf replaces its default score (the count of matched tokens)."""
        if bag_of_words:
            expressions = [" OR ".join(self._quote(t) for t in dict.fromkeys(tokens)) for tokens in self.tokens(queries)]
        else:
            expressions = [" ".join(self._quote(w) for w in q.split()) for q in queries]
        commands = [
            self._command(
                "select",
                table="Passages",
                match_columns="scorer_tf_idf(text)" if tf_idf else "text",
                query=expression,
                output_columns="_key,_score",
                sortby="-_score,_id",
                limit=str(cutoff),
            )
            if expression
            else self._command("status")
            for expression in expressions
        ]
        out = []
        for expression, answer in zip(expressions, self._run(commands)):
            rows = answer[1][0][2:] if expression else []  # type: ignore[index]
            out.append([row[0] for row in rows])
        return out


def groonga_version() -> str | None:
    if not shutil.which("groonga"):
        return None
    return subprocess.run(["groonga", "--version"], capture_output=True, text=True, check=True).stdout.split("\n")[0]


def groonga_systems(passages: Sequence[StoredPassage], queries: Sequence[str], folder: Path, bag_of_words: bool) -> dict[str, System]:
    """Per Groonga tokenizer, a system with its default score and one with scorer_tf_idf, answering
    the given queries (run up front, in one batch each)."""
    systems: dict[str, System] = {}
    for name, tokenizer in GROONGA_TOKENIZERS.items():
        groonga = Groonga(passages, tokenizer, folder / name)
        for tf_idf in (False, True):
            answers = dict(zip(queries, groonga.search(queries, bag_of_words, tf_idf)))
            systems[name + (" tf-idf" if tf_idf else "")] = answers.__getitem__
    return systems


def bm25s_system(passages: Sequence[StoredPassage], cutoff: int = CUTOFF) -> System | None:
    """bm25s with its defaults over the fugashi surface tokens rank-bm25 gets, or None without bm25s."""
    try:
        import bm25s
    except ImportError:
        return None
    from planindex.tokens import tokenizer

    surfaces = tokenizer().surfaces
    retriever = bm25s.BM25()
    retriever.index([surfaces(p.text) for p in passages], show_progress=False)
    vocabulary = retriever.vocab_dict
    ids = [p.id for p in passages]

    def run(query: str) -> list[str]:
        # bm25s rejects a query of no known token; such a query finds nothing
        tokens = [t for t in surfaces(query) if t in vocabulary]
        if not tokens:
            return []
        found, scores = retriever.retrieve([tokens], k=min(cutoff, len(ids)), show_progress=False)
        return [ids[i] for i, s in zip(found[0], scores[0]) if s > 0]

    return run


def machine() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "?"
    )
    return f"{cpu}, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES)
    args = parser.parse_args(argv)
    index, judged, passages = open_judged(args.index, args.queries)
    systems: dict[str, System] = {"rank-bm25 (fugashi surfaces)": rank_bm25_system(passages), "planindex": planindex_system(index)}
    version = groonga_version()
    with tempfile.TemporaryDirectory(prefix="eval-groonga-") as folder:
        if version:
            systems |= groonga_systems(passages, [j.query for j in judged], Path(folder), bag_of_words=False)
        results: list[tuple[str, Scores]] = [(name, evaluate(system, judged)) for name, system in systems.items()]
    print(f"search evaluation: {len(judged)} queries, {sum(len(j.grades) for j in judged)} judged passages, {len(passages)} passages")
    print(f"machine: {machine()}; {version or 'groonga: not installed (skipped)'}")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
