#!/usr/bin/env bash
# Every benchmark in one command: install the peers, make the corpora, run the side-by-side
# search and ingest benchmarks, and write bench/results/search.md. Usage:
#   bash bench/run.sh                      # 100k and 1M passages (long: see bench/README.md)
#   BENCH_SIZES=100k bash bench/run.sh     # the 100k half only
#   bash bench/run.sh --repeats 3 --only planindex,bm25s   # extra arguments go to bench_search.py
set -euo pipefail
cd "$(dirname "$0")/.."

export BENCH_VENV="${BENCH_VENV:-bench/.data/venv}"
SIZES="${BENCH_SIZES:-100k,1m}"
PY="$BENCH_VENV/bin/python"

bash bench/setup_peers.sh
"$PY" bench/make_corpus.py --sizes "$SIZES"
"$PY" bench/bench_search.py --sizes "$SIZES" "$@"
# The extraction benchmark belongs to another part of the bench; run it when it is there.
if [ -f bench/bench_extract.py ]; then
    "$PY" bench/bench_extract.py || echo "run.sh: bench/bench_extract.py failed (the search results above stand)" >&2
fi
