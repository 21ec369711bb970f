"""Numbers and years as Japanese municipal tables print them: 1,830 (H29), 93.7%, 令和5年度, R1."""

from __future__ import annotations

import re
import unicodedata

ERAS = {"R": 2018, "令和": 2018, "H": 1988, "平成": 1988, "S": 1925, "昭和": 1925}
YEAR_LABEL = re.compile(r"^(R|H|S|令和|平成|昭和)\s*(\d{1,2}|元)\s*(年度|年)?\s*(\(.*\))?$")
VALUE = re.compile(r"^([-+]?\d[\d,]*(?:\.\d+)?)\s*(%|％)?\s*(?:\((R|H|S|令和|平成)\s*(\d{1,2}|元)\s*(?:年度|年)?\))?$")
ERA_YEAR = re.compile(r"(令和|平成|昭和)\s*(\d{1,2}|元)\s*年度?")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def era_to_fiscal_year(era: str, year: str) -> int:
    return ERAS[era] + (1 if year == "元" else int(year))


def fiscal_year_of_label(label: str) -> int | None:
    """R1 → 2019, H29 → 2017, 令和元年度 → 2019, Ｈ２７（実績） → 2015; None for anything else."""
    match = YEAR_LABEL.match(_fold(label).upper())
    if not match:
        return None
    return era_to_fiscal_year(match.group(1), match.group(2))


def is_year_label(label: str) -> bool:
    return fiscal_year_of_label(label) is not None


def parse_value(raw: str) -> tuple[float | None, int | None]:
    """'1,830 (H29)' → (1830.0, 2017); '93.7%' → (93.7, None); '中止', '策定', '' → (None, None)."""
    text = _fold(raw)
    match = VALUE.match(text)
    if not match:
        return None, None
    number = float(match.group(1).replace(",", ""))
    as_of = era_to_fiscal_year(match.group(3), match.group(4)) if match.group(3) else None
    return number, as_of


def fiscal_years_in(text: str) -> list[int]:
    """Every 令和/平成/昭和 year named in the text, as fiscal years, in order."""
    return [era_to_fiscal_year(era, year) for era, year in ERA_YEAR.findall(_fold(text))]
