"""Tests of planindex.normalize: one table per rule, the variants file's own rules, and properties.

The properties (idempotence, and normalize_with_offsets agreeing with normalize) are what the index relies on:
a passage normalized at ingest must match a query normalized at search time, however often either was.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planindex import normalize as normalize_module
from planindex.normalize import NORMALIZATION_VERSION, normalize, normalize_with_offsets, variants

PROPERTY_SETTINGS = settings(max_examples=300, derandomize=True, deadline=None)

# (input, expected) per rule of the module docstring.
NFKC_AND_CASE = [
    ("ＤＸ推進", "dx推進"),
    ("DX", "dx"),
    ("都市高速鉄道１２号線", "都市高速鉄道12号線"),
    ("ｶﾀｶﾅ", "カタカナ"),
    ("ｶﾞｲﾄﾞ", "ガイド"),
    ("㍻30年度", "平成30年度"),
    ("（１）まちの魅力をＵＰ", "(1)まちの魅力をup"),
    ("COOL JAPAN FOREST構想", "cool japan forest構想"),
    ("1,830 (H29)", "1830 (h29)"),
    ("W\u030a", "\u1e98"),  # lower-casing makes w + ring composable: NFKC runs again
    ("Ｗ\u030a", "\u1e98"),
]
KE = [
    ("三ケ島", "三ヶ島"),
    ("三ヶ島", "三ヶ島"),
    ("三ヵ島", "三ヶ島"),
    ("三ｹ島", "三ヶ島"),
    ("三ゖ島", "三ヶ島"),
    ("霞ケ関", "霞ヶ関"),
    ("狭山ケ丘一丁目", "狭山ヶ丘一丁目"),
    ("3ケ月", "3ヶ月"),
    ("５ヵ年計画", "5ヶ年計画"),
    ("ケア", "ケア"),
    ("産後ケア事業", "産後ケア事業"),
    ("ケース会議", "ケース会議"),
    ("カラオケ大会", "カラオケ大会"),
    ("三ケ", "三ケ"),
    ("障がいケ所", "障害ヶ所"),  # the dictionary runs first and makes the ケ follow a kanji
]
VARIANTS = [
    ("子ども家庭センター", "こども家庭センター"),
    ("こども家庭センター", "こども家庭センター"),
    ("子供会の育成", "こども会の育成"),
    ("子ども支援センター", "こども支援センター"),
    ("子育で支援", "子育て支援"),
    ("取り組みを推進し", "取組を推進し"),
    ("取組みを行っている", "取組を行っている"),
    ("取組の実践", "取組の実践"),
    ("取り組み状況", "取組状況"),
    ("積極的に取り組みます。", "積極的に取り組みます。"),  # the verb, protected
    ("取り組みたい", "取り組みたい"),
    ("取り組む機運", "取り組む機運"),
    ("障がい者", "障害者"),
    ("障碍者", "障害者"),
    ("出来る", "できる"),
    ("発信が出来ています", "発信ができています"),
    ("出来高", "出来高"),
    ("健幸づくり", "健幸づくり"),
    ("所沢市への定住意向率", "所沢市への定住意向率"),
    ("子 ども", "こども"),  # the wrap space goes first, then the variant is whole
    ("取組みみ", "取組"),  # a replacement that completes another variant is replaced too
]
DASHES = [
    ("令和8年度〜令和17年度", "令和8年度~令和17年度"),
    ("令和8年度～令和17年度", "令和8年度~令和17年度"),
    ("10時~12時", "10時~12時"),
    ("サ－ビス", "サービス"),
    ("サ−ビス", "サービス"),
    ("サ‐ビス", "サービス"),
    ("サ―ビス", "サービス"),
    ("センタ—", "センター"),
    ("センタ─", "センター"),
    ("センタ━", "センター"),
    ("センタｰ", "センター"),
    ("センタ〜", "センター"),
    ("センタ～", "センター"),
    ("センタ~", "センター"),
    ("コ−ヒ−", "コーヒー"),
    ("セミナー〜パーソナル", "セミナー~パーソナル"),
    ("タイプ－A", "タイプ-a"),
    ("ステップ‐1", "ステップ‐1"),  # a separator: kept
    ("2-561", "2-561"),
    ("1‐111", "1-111"),
    ("2−561", "2-561"),
    ("2ー561", "2-561"),
    ("施策 2 - 2", "施策2 - 2"),
    ("昔と今―蚕", "昔と今―蚕"),
]
NUMBERS = [
    ("102,368", "102368"),
    ("5,973,445人", "5973445人"),
    ("１０２，３６８", "102368"),
    ("1,2", "1,2"),
    ("R1,R2", "r1,r2"),
    ("1,2345", "1,2345"),
    ("1,234,5678", "1234,5678"),
    ("(俳句,詩吟,", "(俳句,詩吟,"),
]
WHITESPACE_AND_CONTROLS = [
    ("切れ目ない 支援", "切れ目ない支援"),
    ("切れ目ない\n支援", "切れ目ない支援"),
    ("切れ目ない　支援", "切れ目ない支援"),
    ("DX 推進", "dx推進"),  # typographic space around Latin in Japanese text
    ("都市高速鉄道 12 号線", "都市高速鉄道12号線"),
    ("小学 5 年生", "小学5年生"),
    ("COOL JAPAN FOREST 構想", "cool japan forest構想"),
    ("R1 R2  R3", "r1 r2 r3"),
    ("79.6 84.3", "79.6 84.3"),
    ("  前後の空白\t\n", "前後の空白"),
    ("a\x00b\x1fc\x7fd", "abcd"),
    ("支\u200b援\ufeff", "支援"),
    ("infor\u00admation", "information"),
    ("a\tb\nc\r\nd", "a b c d"),
    ("サ ービス", "サ ービス"),  # ー is not Japanese for the space rule (kinsoku keeps it off a line start)
    ("", ""),
    (" \n\t", ""),
]
ITERATION_MARK = [
    ("人々", "人々"),
    ("人人", "人人"),
    ("佐々木", "佐々木"),
    ("各々々", "各々々"),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    NFKC_AND_CASE + KE + VARIANTS + DASHES + NUMBERS + WHITESPACE_AND_CONTROLS + ITERATION_MARK,
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected
    assert normalize(expected) == expected
    assert normalize_with_offsets(text)[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ＤＸ 推進", [0, 1, 3, 4]),
        ("102,368人", [0, 1, 2, 4, 5, 6, 7]),
        ("ｶﾞｲﾄﾞ", [0, 2, 3]),  # ｶﾞ → ガ comes from ｶ
        ("取り組みを", [0, 3, 4]),  # 取組: 取 from 取, 組 from み, so a highlight covers 取り組み
        ("子供", [0, 0, 1]),
        ("  a \n\n b", [2, 3, 7]),
        ("㍻", [0, 0]),
    ],
)
def test_offsets(text: str, expected: list[int]) -> None:
    assert normalize_with_offsets(text)[1] == expected


def test_offsets_highlight_the_source() -> None:
    text = "施策として、子ども支援センターの取り組みを推進する。"
    normalized, offsets = normalize_with_offsets(text)
    start = normalized.index("取組")
    end = start + len("取組")
    assert text[offsets[start] : offsets[end - 1] + 1] == "取り組み"


# The variants file.


def entries() -> Iterator[tuple[str, list[str]]]:
    """(canonical, variants) per line of variants.tsv, read independently of the module's parser."""
    path = Path(normalize_module.__file__).parent / "data" / "variants.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            canonical, *alternatives = [field.strip() for field in line.split("\t") if field.strip()]
            yield canonical, alternatives


CANONICAL = [canonical for canonical, alternatives in entries() if alternatives]
PROTECTED = [canonical for canonical, alternatives in entries() if not alternatives]
VARIANT = [variant for _, alternatives in entries() for variant in alternatives]
KANJI_AND_KANA = re.compile("[\u3005-\u3007\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u4e00-\u9fff]+")


def ends_in_katakana(entry: str) -> bool:
    """Whether the last character is a katakana letter, after which a dash would be a prolongation."""
    return "\u30a1" <= entry[-1] <= "\u30fa"


def test_variants_mapping() -> None:
    mapping = variants()
    assert mapping["子ども"] == mapping["子供"] == "こども"
    assert mapping["子育で"] == "子育て"
    assert mapping["取り組み"] == mapping["取組み"] == "取組"
    assert mapping["障がい"] == mapping["障碍"] == "障害"
    assert mapping["出来る"] == "できる"
    assert "健幸" not in mapping
    assert "取り組む" not in mapping
    assert len(mapping) == len(VARIANT)
    mapping.clear()  # a copy: the module's table is untouched
    assert variants()


def test_version_hashes_the_variants_file() -> None:
    path = Path(normalize_module.__file__).parent / "data" / "variants.tsv"
    digest = hashlib.sha1(path.read_bytes(), usedforsecurity=False).hexdigest()
    assert re.fullmatch(r"\d+-[0-9a-f]{8}", NORMALIZATION_VERSION)
    assert NORMALIZATION_VERSION.endswith(digest[:8])


@pytest.mark.parametrize("entry", CANONICAL + PROTECTED + VARIANT)
def test_entries_are_kanji_and_kana_without_ke(entry: str) -> None:
    """Entries must be in normalized form, and must not feed the dash, space or ケ rules (module docstring)."""
    assert KANJI_AND_KANA.fullmatch(entry)
    assert not set(entry) & set("ケヶヵゖゕ")


@pytest.mark.parametrize(("canonical", "alternatives"), list(entries()))
def test_entries_normalize_to_their_canonical_form(canonical: str, alternatives: list[str]) -> None:
    assert normalize(canonical) == canonical
    for variant in alternatives:
        assert normalize(variant) == canonical
        # else replacing one would change whether a dash after it is a prolongation
        assert ends_in_katakana(variant) == ends_in_katakana(canonical)


@pytest.mark.parametrize("canonical", CANONICAL)
def test_canonical_forms_contain_no_variant(canonical: str) -> None:
    assert not [variant for variant in VARIANT if variant in canonical]


@pytest.mark.parametrize("protected", PROTECTED)
def test_protected_forms_protect_a_variant(protected: str) -> None:
    """A protected form exists to keep a variant inside it as it is; one without a variant would be dead."""
    assert [variant for variant in VARIANT if variant in protected]


def test_no_variant_straddles_two_canonical_forms() -> None:
    """Two canonical forms side by side never make a variant, so repeated replacement always ends."""
    for left in CANONICAL + PROTECTED:
        for right in CANONICAL + PROTECTED:
            joined = left + right
            for variant in VARIANT:
                starts = range(max(0, len(left) - len(variant) + 1), len(left))
                assert not [start for start in starts if joined.startswith(variant, start)], (left, right, variant)


@pytest.fixture
def variants_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A variants.tsv of the test's own, read in place of the packaged one."""
    path = tmp_path / "variants.tsv"
    monkeypatch.setattr(normalize_module, "_VARIANTS_FILE", path)
    normalize_module._dictionary.cache_clear()
    yield path
    monkeypatch.undo()
    normalize_module._dictionary.cache_clear()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("こども\t子ども\n子ども\t子供\n", "both canonical forms and variants"),
        ("こども\t子ども\nお子さん\t子ども\n", "listed under こども too"),
    ],
)
def test_a_broken_variants_file_is_refused(content: str, message: str, variants_file: Path) -> None:
    variants_file.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        normalize("子ども")


def test_comments_blank_lines_and_protected_forms_are_read(variants_file: Path) -> None:
    variants_file.write_text("# a comment\n\nこども\t子ども\t子供\t\n子どもた\n", encoding="utf-8")
    assert variants() == {"子ども": "こども", "子供": "こども"}
    assert normalize("子どもの子どもたち") == "こどもの子どもたち"


# Properties.

# Characters that the rules treat specially, so that generated text exercises every rule and their meeting.
TRICKY = list(
    "三島霞関丘月所子供ど育てで取り組みまたながす障がい害碍出来るき人々〆〇健幸"
    "ケヶヵゖゕｹアカサタナセンミーｰ－−‐―—─━~～〜-,，.0123４５ＤＸdxWwR ("
    "ﾞﾟ゛゜\u3099\u309a\u0301\u030a\u0334　\t\n\r\x00\x1f\x85\u200b\ufeff\u00ad㍻"
)
JAPANESE = st.text(
    alphabet=st.one_of(
        st.sampled_from(TRICKY),
        st.characters(min_codepoint=0x3000, max_codepoint=0x30FF),  # CJK punctuation, hiragana, katakana
        st.characters(min_codepoint=0xFF00, max_codepoint=0xFFEF),  # full-width ASCII, half-width katakana
        st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF),  # kanji
    ),
    max_size=40,
)
# Dictionary entries and pieces of them, to build variants across replacements (取組 + み, 子育 + 出来る).
PIECES = [*CANONICAL, *PROTECTED, *VARIANT, *"みますたいてで子育取組りケ島カー〜\u3099ﾞ \n1,", "234"]
FRAGMENTS = st.lists(st.sampled_from(PIECES), max_size=10).map("".join)
ANY_TEXT = st.one_of(st.text(), JAPANESE, FRAGMENTS)


@PROPERTY_SETTINGS
@given(st.text())
def test_idempotent_on_any_text(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@PROPERTY_SETTINGS
@given(JAPANESE)
def test_idempotent_on_japanese_text(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@PROPERTY_SETTINGS
@given(FRAGMENTS)
def test_idempotent_on_dictionary_fragments(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_offsets_agree_with_normalize(text: str) -> None:
    normalized, offsets = normalize_with_offsets(text)
    assert normalized == normalize(text)
    assert len(offsets) == len(normalized)
    assert all(0 <= offset < len(text) for offset in offsets)
    assert offsets == sorted(offsets)


@pytest.mark.parametrize(
    "text",
    [
        *("子 ども", "子\u3000ども", "W\u030a", "Ｗ\u030aＸ", "１，０００円", "三ｹ島", "サ－ビス", "1ー2"),
        *("取り組\u200bみ", "ＤＸ化", "障\nがい", "※Ａ●"),
    ],
)
def test_the_scan_for_rules_misses_none(text: str) -> None:
    """normalize runs only the rules whose starting characters one scan finds, after NFKC when it made new
    ones (spaces, capitals, commas); normalize_with_offsets runs every rule."""
    assert normalize(text) == normalize_with_offsets(text)[0]


@PROPERTY_SETTINGS
@given(ANY_TEXT)
def test_nfkc_shortcut_is_nfkc(text: str) -> None:
    assert normalize_module._nfkc(text) == unicodedata.normalize("NFKC", text)


def test_nfkc_stable_characters_are_stable() -> None:
    """The shortcut skips these characters: NFKC must leave them alone and never compose them with what precedes."""
    second_halves = {chr(cp) for cp in [*range(0x1161, 0x1176), *range(0x11A8, 0x11C3)]}  # Hangul V and T jamo
    for cp in range(0x110000):
        decomposition = unicodedata.decomposition(chr(cp)).split()
        if len(decomposition) == 2 and not decomposition[0].startswith("<"):
            second_halves.add(chr(int(decomposition[1], 16)))
    stable = re.compile(f"[{normalize_module._NFKC_STABLE}]")
    for char in map(chr, range(0x10000)):
        if stable.fullmatch(char):
            assert unicodedata.normalize("NFKC", char) == char
            assert unicodedata.combining(char) == 0
            assert char not in second_halves
