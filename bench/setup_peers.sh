#!/usr/bin/env bash
# Install what the benchmarks compare planindex against, outside the project:
# - a venv of the bench's own (planindex from a commit snapshot, plus rank-bm25, bm25s, pyinstrument, pyyaml),
#   so that the project and its test venv never depend on the peers;
# - Groonga with TokenMecab from Debian, and hyperfine for the cold-start timing.
# Idempotent: a second run only checks. Usage: bash bench/setup_peers.sh
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_VENV="${BENCH_VENV:-bench/.data/venv}"
PYTHON="${PYTHON:-python3}"

# --- Python peers --------------------------------------------------------------------------
if [ ! -x "$BENCH_VENV/bin/python" ]; then
    mkdir -p "$(dirname "$BENCH_VENV")"
    "$PYTHON" -m venv "$BENCH_VENV"
fi
"$BENCH_VENV/bin/python" -m pip install --quiet --upgrade pip
# Unpinned on purpose: the bench reports the versions it ran with (the peers are not project dependencies).
"$BENCH_VENV/bin/python" -m pip install --quiet rank-bm25 bm25s pyinstrument pyyaml

# planindex itself: by default a snapshot of a commit (BENCH_REF, default HEAD), installed from a
# `git archive` copy, so that edits in progress in the working tree cannot change the code under
# measurement half-way through a long run. BENCH_REF=worktree installs the working tree, editable.
BENCH_REF="${BENCH_REF:-HEAD}"
REF_FILE="bench/.data/planindex-ref.txt"
if [ "$BENCH_REF" = "worktree" ]; then
    "$BENCH_VENV/bin/python" -m pip install --quiet -e .
    echo "worktree $(git rev-parse --short HEAD)" > "$REF_FILE"
else
    commit=$(git rev-parse --short "$BENCH_REF")
    if [ "$(cat "$REF_FILE" 2>/dev/null)" != "snapshot $commit" ]; then
        rm -rf bench/.data/src
        mkdir -p bench/.data/src
        git archive "$commit" | tar -x -C bench/.data/src
        "$BENCH_VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps bench/.data/src
        "$BENCH_VENV/bin/python" -m pip install --quiet bench/.data/src
        echo "snapshot $commit" > "$REF_FILE"
    fi
fi
echo "planindex under test: $(cat "$REF_FILE")"
"$BENCH_VENV/bin/python" -m pip list --format=freeze 2>/dev/null | grep -Ei '^(planindex|rank.bm25|bm25s|numpy|scipy|fugashi|unidic.lite|pymupdf|pyinstrument)=' || true

# --- Debian packages ------------------------------------------------------------------------
want=(groonga-bin groonga-tokenizer-mecab hyperfine)
missing=()
for pkg in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
        echo "setup_peers: not root and no sudo: install ${missing[*]} by hand; those benches will be skipped" >&2
        exit 0
    fi
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    # Check each package has a candidate before installing: a package missing from this Debian
    # release is reported and skipped rather than failing the whole setup.
    installable=()
    for pkg in "${missing[@]}"; do
        candidate=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
        if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
            echo "setup_peers: $pkg has no installation candidate in this Debian: skipped (its bench is skipped too)" >&2
        else
            installable+=("$pkg")
        fi
    done
    if [ ${#installable[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${installable[@]}" >/dev/null
    fi
fi
for pkg in "${want[@]}"; do
    printf '%s=%s\n' "$pkg" "$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo missing)"
done
