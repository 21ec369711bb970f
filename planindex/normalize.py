"""Text normalization: one function, the same for passages at ingest and for queries at search time.

Japanese planning PDFs spell the same thing in many ways (ＤＸ/DX, 三ケ島/三ヶ島, 子ども/こども, サ－ビス/サービス,
102,368/102368), and their text layer adds spaces at line wraps and invisible characters. A query only finds a
passage if both went through the same normalization, so this module is the single place that defines it.

The rules, in the order they run (the order matters: see "Why this order" below):

1. Control characters are removed, except the ASCII whitespace ones (\\t \\n \\r \\v \\f), which count as
   whitespace; invisible format characters that PDF text carries (soft hyphen, zero-width space, BOM,
   bidi marks, word joiner) are removed too.
2. Unicode NFKC: full-width ASCII and half-width katakana (ＤＸ→DX, １２号線→12号線, ｶﾀｶﾅ→カタカナ), ㍻→平成,
   ，→ , and ～→ ~. NFKC leaves 々 alone; 々 is kept as is and 人人 is not rewritten to 人々: both spellings are
   rare in planning documents and MeCab reads 々 forms as one word anyway.
3. ASCII letters are lower-cased (DX/dx match). Only ASCII: other scripts are rare here, and Unicode case
   mapping can change a string's length.
4. Dashes. A run of dash-like characters right after a katakana letter is a prolongation and becomes ー
   (サ－ビス, where NFKC made the common mistyped － an ASCII -), unless it is only hyphens followed by an ASCII
   letter or digit (タイプ-a, ステップ‐1: a separator, kept), or it starts with a real ー (セミナー〜パーソナル: the
   ー already prolongs, the wave dash after it separates). Elsewhere the wave dash 〜 becomes ~ (the one range
   mark: 令和8年度〜令和17年度 → 令和8年度~令和17年度), and a single dash between two digits becomes ASCII -
   (1‐111 → 1-111).
5. A comma between digits with exactly three digits after it is a thousands separator and is removed
   (102,368 → 102368; 1,2 and r1,r2 are kept).
6. Whitespace runs become one ASCII space, the ends are stripped, and a space between two Japanese
   characters (kanji, kana), or between one and a digit or Latin letter, is removed: PDFs insert one at
   line wraps (切れ目ない 支援) and around figures (都市高速鉄道 12 号線, 小学 5 年生, DX 化). ー does not count as
   Japanese here, so a space before ー stays; line-breaking rules rarely put ー at the start of a line.
7. 表記ゆれ: the variants of ``planindex/data/variants.tsv`` are replaced by their canonical form, longest
   first, repeated until nothing changes (a replacement can complete another variant: 取組みみ → 取組み → 取組).
   A line with no variant protects a form from a shorter variant inside it (取り組みます stays a verb).
8. ケ, ヵ and the small hiragana ゖ/ゕ used as the counter or place-name particle become ヶ (三ケ島, 三ヵ島,
   霞ケ関 → 三ヶ島, 霞ヶ関; 3ケ月 → 3ヶ月): only after a kanji or a digit and before a kanji, so that katakana
   words (ケア, ケース, カラオケ大会) are untouched. ヶ is the form the corpus uses most (三ヶ島 22, 三ケ島 11).

Idempotence (``normalize(normalize(x)) == normalize(x)``) holds because each rule is idempotent and no rule
creates what an earlier one rewrites. Why this order:

- Removal (1) runs before NFKC, which never creates those characters; removing them after could join a letter
  and a combining mark that NFKC would then compose.
- Lower-casing can leave a string that is no longer NFKC (W + U+030A has no composed form, w + U+030A has ẘ),
  so it re-runs NFKC when that happens.
- Dashes (4), commas (5) and spaces (6) never touch each other's context: a removed space is between
  Japanese characters, which are neither dashes nor digits.
- The dictionary (7) runs after spaces, since joining 子 ども makes a variant; its entries are kanji and kana
  only, and a variant ends in katakana exactly when its canonical form does, so it cannot change what
  rules 4-6 saw. Its repetition ends: no canonical form contains a variant and no two canonical forms side by
  side make one, so every round consumes characters of the input (tests check the file for both).
- ケ→ヶ (8) runs last, since the dictionary can change the character before a ケ (障がいケ → 障害ケ).
- No rule after NFKC leaves text that NFKC would change: they only put starters next to starters, and no
  dictionary replacement ends before a combining voiced mark (子育で + U+3099 would compose again).

Every step also records, for each output character, which input character it came from
(``normalize_with_offsets``), so that search results can highlight the match in the original text.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

__all__ = ["NORMALIZATION_VERSION", "normalize", "normalize_with_offsets", "variants"]

# Bump when a rule in this module changes; changes to variants.tsv are covered by its hash.
_RULES_VERSION = 1
_VARIANTS_FILE = files("planindex") / "data" / "variants.tsv"
_VARIANTS_SHA1 = hashlib.sha1(_VARIANTS_FILE.read_bytes(), usedforsecurity=False).hexdigest()
NORMALIZATION_VERSION: str = f"{_RULES_VERSION}-{_VARIANTS_SHA1[:8]}"

# Character classes. Escapes name characters that look alike; NFKC has already folded their other forms.
_KANJI = "\u3005-\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"  # 々〆〇, ideographs
_KANA = "\u3041-\u3096\u309d-\u309f\u30a1-\u30fa\u30fd-\u30ff\u31f0-\u31ff"  # letters; not ゛゜ ー ・
_KATAKANA = "\u30a1-\u30fa\u31f0-\u31ff"  # ァ-ヺ and the small ㇰ-ㇿ: the letters a ー can follow
_HYPHENS = "-\u2010\u2012\u2013\u2014\u2015\u2212\u2500\u2501"  # - ‐ ‒ – — ― − ─ ━ (NFKC: ‑→‐, －﹣→-)
_WAVE = "\u301c"  # 〜, which becomes ~ (NFKC: ～→~)
_LONG = "\u30fc"  # ー (NFKC: ｰ→ー)
_KE = "\u30b1\u30f5\u3096\u3095"  # ケ ヵ ゖ ゕ (NFKC: ｹ→ケ), which become ヶ
_KE_CANONICAL = "\u30f6"  # ヶ
# Characters NFKC leaves alone and that never compose with the character before them (ASCII, ※, ●◆■, ❶❷,
# 、。「」【】〜, kana, ー, kanji): most of a Japanese text. NFKC only needs to see the runs of other characters.
_NFKC_STABLE_RANGES = (
    (0x00, 0x7F), (0x203B, 0x203B), (0x25A0, 0x25FF), (0x2776, 0x2793), (0x3001, 0x3003), (0x3005, 0x3011),
    (0x301C, 0x301C), (0x3041, 0x3096), (0x30A1, 0x30FC), (0x4E00, 0x9FFF),
)  # fmt: skip


def _character_class(ranges: tuple[tuple[int, int], ...], without: str = "") -> str:
    """The inside of a regex [...] holding the ranges of code points but the characters `without`."""
    kept: list[tuple[int, int]] = []
    for first, last in ranges:
        for cut in sorted(code for code in map(ord, without) if first <= code <= last):
            if first < cut:
                kept.append((first, cut - 1))
            first = cut + 1
        if first <= last:
            kept.append((first, last))
    return "".join(f"{re.escape(chr(first))}-{re.escape(chr(last))}" for first, last in kept)


_NFKC_STABLE = _character_class(_NFKC_STABLE_RANGES)

# Each pattern starts with the character it rewrites, so that the regex engine can skip to candidates fast.
_CONTROLS = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f"  # C0 and C1 controls, except \t \n \v \f \r
    "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]+"  # invisible
)
_NFKC_UNSTABLE = re.compile(f"[^{_NFKC_STABLE}]+")
_UPPER = re.compile("[A-Z]+")
_DASH_RUN = re.compile("[" + re.escape(_HYPHENS + "~" + _WAVE + _LONG) + "]+")
# Between digits, one ー is a dash (rule 4): the scan for rules (_rules) finds ー in most texts, katakana words.
_DIGIT_LONG_DIGIT = re.compile("[0-9]" + _LONG + "[0-9]")
_DIGIT_COMMA = re.compile(",(?<=[0-9],)(?=[0-9]{3}(?![0-9]))")
_WHITESPACE = re.compile(r"\s+")
_EDGE_SPACE = re.compile("^ | $")  # after _WHITESPACE: the spaces " ".join(text.split()) drops
# A space with Japanese on one side and Japanese or a digit or Latin letter on the other is a
# PDF's typographic spacing (都市高速鉄道 12 号線, DX 化, 小学 5 年生), not a word boundary.
_JAPANESE_SPACE = re.compile(f" (?:(?=[{_KANJI}{_KANA}])(?<=[{_KANJI}{_KANA}0-9A-Za-z] )|(?<=[{_KANJI}{_KANA}] )(?=[0-9A-Za-z]))")
_KE_PARTICLE = re.compile(f"[{_KE}](?<=[{_KANJI}0-9][{_KE}])(?=[{_KANJI}])")
# NFKC composes a kana with a following (semi-)voiced mark: no dictionary replacement may end before one.
_DICTIONARY_GUARD = "(?![\u3099\u309a])"
_is_katakana = re.compile(f"[{_KATAKANA}]").fullmatch  # these take "" (no character) too
_is_japanese = re.compile(f"[{_KANJI}{_KANA}]").fullmatch
_is_digit = re.compile("[0-9]").fullmatch
_is_alnum = re.compile("[0-9a-z]").fullmatch

_Replacement = str | Callable[[re.Match[str]], str]

# The rules a text needs, as bits, found by one scan (_Dictionary.starts) for the characters that each
# rule starts at: one character class (an alternation that found variants by two characters took
# twice as long). _REMOVE: a control or an invisible character; _NFKC: a character NFKC may change;
# after either, the text is scanned again. _UNLISTED: a character outside _NFKC_STABLE left after
# NFKC, which only lower-casing cares about (a combining mark after a capital may compose once the
# capital is lower-cased).
_REMOVE, _NFKC, _UNLISTED, _CASE, _DASHES, _DIGIT_DASH, _COMMA, _SPACES, _VARIANTS, _KE_RULE = (1 << bit for bit in range(10))
_RULE_OF = {
    **dict.fromkeys(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F]), _REMOVE),
    **dict.fromkeys("\t\n\v\f\r ", _SPACES),
    **dict.fromkeys(map(chr, range(ord("A"), ord("Z") + 1)), _CASE),
    **dict.fromkeys("-~" + _WAVE, _DASHES),
    _LONG: _DIGIT_DASH,  # only between digits: katakana words are full of ー
    ",": _COMMA,
    **dict.fromkeys(_KE, _KE_RULE),
}


def _nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, faster on Japanese text.

    NFKC of a whole string costs about 150 ns a character in CPython, and a single full-width digit makes it
    necessary. Here only the runs of characters outside ``_NFKC_STABLE`` are normalized, each with the character
    before it, which is the only one it can compose with (a stable character is a starter that blocks anything
    further back, and nothing composes with it from the left).
    """
    if unicodedata.is_normalized("NFKC", text):
        return text
    pieces: list[str] = []
    position = 0
    for match in _NFKC_UNSTABLE.finditer(text):
        start = max(match.start() - 1, position)
        pieces.append(text[position:start])
        pieces.append(unicodedata.normalize("NFKC", text[start : match.end()]))
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


def _lower(match: re.Match[str]) -> str:
    """Lower-case a run of ASCII capitals (rule 3)."""
    return match[0].lower()


def _dash(match: re.Match[str]) -> str:
    """Rewrite a run of dash-like characters by the characters around it (rule 4)."""
    run, text, (start, end) = match[0], match.string, match.span()
    before, after = text[start - 1 : start], text[end : end + 1]  # "" at either end of the text
    if _is_katakana(before):
        if run[0] == _LONG:  # センター, or セミナー〜パーソナル: the ー prolongs, the rest separates
            prolongation = len(run) - len(run.lstrip(_LONG))
            return run[:prolongation] + run[prolongation:].replace(_WAVE, "~")
        if _is_alnum(after) and all(c in _HYPHENS for c in run):  # タイプ-a, ステップ‐1
            return run
        return _LONG * len(run)
    if len(run) == 1 and run in _HYPHENS + _LONG and _is_digit(before) and _is_digit(after):
        return "-"
    return run.replace(_WAVE, "~")


@dataclass(frozen=True, slots=True)
class _Dictionary:
    """The parsed variants.tsv: variant → canonical, the protected forms, and one regex for all of them."""

    canonical_of: dict[str, str]
    protected: frozenset[str]
    pattern: re.Pattern[str]
    # The scan for what starts a rewrite: any character but the NFKC-stable ones that start none (most of a
    # text); and the rule each starts, the first characters of the file's forms included.
    starts: re.Pattern[str]
    rule_of: dict[str, int]

    def replace(self, match: re.Match[str]) -> str:
        """The canonical form of a matched variant; a protected form stays as it is."""
        return self.canonical_of.get(match[0], match[0])


@cache
def _dictionary() -> _Dictionary:
    """Parse variants.tsv once and compile its longest-first alternation.

    Raises ValueError for a file that would make the result depend on line order: a variant listed under two
    canonical forms, or a variant that is also a canonical form (a chain of replacements).
    """
    canonical_of: dict[str, str] = {}
    canonicals: set[str] = set()
    protected: set[str] = set()
    for number, line in enumerate(_VARIANTS_FILE.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        canonical, *alternatives = [field.strip() for field in line.split("\t") if field.strip()]
        canonicals.add(canonical)
        if not alternatives:
            protected.add(canonical)
        for variant in alternatives:
            if canonical_of.setdefault(variant, canonical) != canonical:
                raise ValueError(f"variants.tsv line {number}: {variant} is listed under {canonical_of[variant]} too")
    if chained := canonicals & canonical_of.keys():
        raise ValueError(f"variants.tsv: {', '.join(sorted(chained))} are both canonical forms and variants")
    # Longest first: at one position the regex takes the first alternative that matches, so 取り組みま
    # (protected) must come before 取り組み.
    forms = sorted(canonical_of.keys() | protected, key=lambda form: (-len(form), form))
    pattern = re.compile("(?:" + "|".join(map(re.escape, forms)) + ")" + _DICTIONARY_GUARD)
    firsts = "".join(sorted({form[0] for form in forms}))
    starts = re.compile(f"[^{_character_class(_NFKC_STABLE_RANGES, without=''.join(_RULE_OF) + firsts)}]")
    rule_of = {**_RULE_OF, **dict.fromkeys(firsts, _VARIANTS)}
    return _Dictionary(canonical_of, frozenset(protected), pattern, starts, rule_of)


def variants() -> dict[str, str]:
    """Variant → canonical form, as listed in planindex/data/variants.tsv (parsed once; this is a copy)."""
    return dict(_dictionary().canonical_of)


def normalize(text: str) -> str:
    """Normalize a passage or a query for indexing and search (see the module docstring for the rules).

    ``normalize_with_offsets`` runs the same steps; a change here must be made there too (a test compares them).
    """
    dictionary = _dictionary()
    rules = _rules(text, dictionary, nfkc_done=False)
    if rules & (_REMOVE | _NFKC):
        text = _nfkc(_CONTROLS.sub("", text) if rules & _REMOVE else text)
        rules = _rules(text, dictionary, nfkc_done=True)
    if rules & _CASE:
        lowered = _UPPER.sub(_lower, text)
        text = _nfkc(lowered) if rules & _UNLISTED else lowered
    if rules & _DASHES or (rules & _DIGIT_DASH and _DIGIT_LONG_DIGIT.search(text)):
        text = _DASH_RUN.sub(_dash, text)
    if rules & _COMMA:
        text = _DIGIT_COMMA.sub("", text)
    if rules & _SPACES:
        text = _JAPANESE_SPACE.sub("", " ".join(text.split()))  # str.split() splits on the whitespace that \s matches
    if rules & _VARIANTS:
        while (replaced := dictionary.pattern.sub(dictionary.replace, text)) != text:
            text = replaced
    return _KE_PARTICLE.sub(_KE_CANONICAL, text) if rules & _KE_RULE else text


def _rules(text: str, dictionary: _Dictionary, nfkc_done: bool) -> int:
    """The rules that may change the text, by the characters that start what each rewrites: one scan,
    where running every rule was a scan each (normalize 16.5 -> 13.4 us a passage at 100k). A rule
    that finds a start may still change nothing (a 子 in no variant). No rule makes a start for a later
    one (joining 子 ども makes a variant whose 子 was there), except NFKC, after which the text is scanned
    again. Until NFKC has run, a character outside _NFKC_STABLE asks for it; after, a space or dash
    among them asks for its rule."""
    rules = 0
    for found in set(dictionary.starts.findall(text)):
        rule = dictionary.rule_of.get(found)
        if rule is None:
            if not nfkc_done:
                rule = _REMOVE if _CONTROLS.match(found) else _NFKC
            else:
                rule = _UNLISTED | (_SPACES if found.isspace() else _DASHES if found in _HYPHENS else 0)
        rules |= rule
    return rules


def normalize_with_offsets(text: str) -> tuple[str, list[int]]:
    """Normalize like ``normalize`` and map each output character to the index of its source in ``text``.

    ``offsets[i]`` is the index in ``text`` of the character that normalized character ``i`` came from; when
    several source characters merge (か + ゛ → が, a whitespace run → one space) it is the first of them, and when
    a dictionary replacement changes the length, the first and last characters keep theirs (取り組み → 取組 maps
    組 to み). The offsets never decrease, so a match at ``[a, b)`` in the normalized text covers
    ``[offsets[a], offsets[b - 1] + 1)`` in ``text``. Slower than ``normalize`` (NFKC runs per segment): it is
    meant for snippets, not for ingest.
    """
    offsets = list(range(len(text)))
    text, offsets = _sub_tracked(_CONTROLS, "", text, offsets)
    text, offsets = _nfkc_tracked(text, offsets)
    lowered, offsets = _sub_tracked(_UPPER, _lower, text, offsets)
    if lowered != text and not unicodedata.is_normalized("NFKC", lowered):
        lowered, offsets = _nfkc_tracked(lowered, offsets)
    text = lowered
    for pattern, replacement in (
        (_DASH_RUN, _dash),
        (_DIGIT_COMMA, ""),
        (_WHITESPACE, " "),
        (_EDGE_SPACE, ""),
        (_JAPANESE_SPACE, ""),
    ):
        text, offsets = _sub_tracked(pattern, replacement, text, offsets)
    dictionary = _dictionary()
    while (replaced := _sub_tracked(dictionary.pattern, dictionary.replace, text, offsets))[0] != text:
        text, offsets = replaced
    return _sub_tracked(_KE_PARTICLE, _KE_CANONICAL, text, offsets)


def _sub_tracked(
    pattern: re.Pattern[str],
    replacement: _Replacement,
    text: str,
    offsets: list[int],
) -> tuple[str, list[int]]:
    """``pattern.sub(replacement, text)`` that carries the source offsets along.

    A replacement of another length spreads the matched characters' offsets over it, keeping the first and the
    last, so that a highlight of the replacement covers the whole source match.
    """
    pieces: list[str] = []
    new_offsets: list[int] = []
    position = 0
    for match in pattern.finditer(text):
        start, end = match.span()
        pieces.append(text[position:start])
        new_offsets.extend(offsets[position:start])
        replaced = replacement if isinstance(replacement, str) else replacement(match)
        pieces.append(replaced)
        source = offsets[start:end]
        if len(replaced) == len(source):
            new_offsets.extend(source)
        elif replaced:
            steps = max(len(replaced) - 1, 1)
            new_offsets.extend(source[k * (len(source) - 1) // steps] for k in range(len(replaced)))
        position = end
    pieces.append(text[position:])
    new_offsets.extend(offsets[position:])
    return "".join(pieces), new_offsets


def _nfkc_tracked(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    """NFKC that maps each output character to the first source character of its segment.

    NFKC is not character by character (か + U+3099 → が; ﾞ composes with the kana before it; combining marks
    are reordered), so the text is cut into segments that normalize independently (``_starts_segment``).
    """
    pieces: list[str] = []
    new_offsets: list[int] = []
    start = 0
    for index in range(1, len(text) + 1):
        if index < len(text) and not _starts_segment(text[start:index], text[index]):
            continue
        normalized = unicodedata.normalize("NFKC", text[start:index])
        pieces.append(normalized)
        new_offsets.extend([offsets[start]] * len(normalized))
        start = index
    return "".join(pieces), new_offsets


def _starts_segment(segment: str, char: str) -> bool:
    """Whether NFKC(segment + char + rest) == NFKC(segment) + NFKC(char + rest), whatever rest is.

    True when char decomposes to a starter (combining class 0) that does not compose with the segment: no later
    character can reach back across a starter, which blocks both composition and reordering.
    """
    if char.isascii() or _is_japanese(char):
        return True  # starters that never compose with what precedes them: the common case, without NFKC
    if unicodedata.combining(unicodedata.normalize("NFKD", char)[0]):
        return False
    joined = unicodedata.normalize("NFKC", segment + char)
    return joined == unicodedata.normalize("NFKC", segment) + unicodedata.normalize("NFKC", char)
