"""Make planindex/data/records.zdict, the zstd dictionary every stored record is compressed with.

    python tools/make_record_dictionary.py

A record is the JSON of a passage or a KPI and the normalized text, in UTF-16 (store.pack_record),
about a kilobyte. zstd spends most of its time on a frame that small building the entropy tables
of its literals; a dictionary trained on records of the same shape carries those tables and the
JSON keys, and each record reuses them (3.4 against 9 us a record at 100k passages, 6% fewer bytes).

The training records hold no text of anyone's: their texts are drawn from a fixed mix of Japanese
characters (hiragana, kanji, katakana, digits and punctuation), with a fixed seed, so that the
tables fit Japanese in UTF-16 without favouring any corpus, the bundled one and the benchmarks'
recombinations of it included. The file's bytes are what matters: a new file changes every stored
record (store.STORE_FORMAT).
"""

from __future__ import annotations

import random
from pathlib import Path

import zstandard

from planindex.normalize import normalize
from planindex.records import KINDS, Kpi, Passage, SeriesPoint
from planindex.store import encode_record

OUT = Path(__file__).resolve().parent.parent / "planindex" / "data" / "records.zdict"
SIZE = 8192  # bytes: 32 KiB was no faster and no smaller
SAMPLES = 3000
SEED = 20241126
# (characters, share of a text's characters)
MIX = [
    ([chr(code) for code in range(0x3041, 0x3094)], 0.50),  # hiragana
    ([chr(code) for code in range(0x4E00, 0xA000)], 0.35),  # kanji
    ([chr(code) for code in range(0x30A1, 0x30FB)], 0.10),  # katakana
    (list("0123456789、。「」()・%"), 0.05),
]


def _text(rng: random.Random, length: int) -> str:
    pools, shares = zip(*MIX)
    return "".join(rng.choice(rng.choices(pools, shares)[0]) for _ in range(length))


def _bbox(rng: random.Random) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (round(rng.uniform(0, 800), 1) for _ in range(4))
    return x0, y0, x1, y1


def _passage(rng: random.Random, number: int) -> Passage:
    return Passage(
        id=f"{rng.getrandbits(64):016x}-p{number}",
        doc_id="",
        page=rng.randint(1, 80),
        kind=rng.choice(KINDS),
        text=_text(rng, rng.randint(20, 600)),
        section=tuple(_text(rng, rng.randint(3, 15)) for _ in range(rng.randint(0, 3))),
        item=_text(rng, rng.randint(0, 8)),
        bbox=_bbox(rng) if rng.random() < 0.8 else None,
    )


def _kpi(rng: random.Random, number: int) -> Kpi:
    years = range(2019, 2019 + rng.randint(1, 7))
    series = tuple(
        SeriesPoint(f"R{year - 2018}", year, rng.uniform(0, 1000), rng.uniform(0, 1000), rng.uniform(0, 150))
        for year in years
    )
    return Kpi(
        id=f"{rng.getrandbits(64):016x}-k{number}",
        doc_id="",
        page=rng.randint(1, 80),
        name=_text(rng, rng.randint(5, 40)),
        kind="KPI",
        unit=rng.choice(["%", "人", "件", "回", "か所", ""]),
        section=tuple(_text(rng, rng.randint(3, 15)) for _ in range(rng.randint(0, 3))),
        series=series,
    )


def samples() -> list[bytes]:
    rng = random.Random(SEED)
    records: list[Passage | Kpi] = [_passage(rng, n) if n % 5 else _kpi(rng, n) for n in range(SAMPLES)]
    return [encode_record(record.json_text(), normalize(record.text if isinstance(record, Passage) else record.name)) for record in records]


def main() -> None:
    dictionary = zstandard.train_dictionary(SIZE, samples(), level=3)
    OUT.write_bytes(dictionary.as_bytes())
    print(f"{OUT}: {len(dictionary.as_bytes())} bytes")


if __name__ == "__main__":
    main()
