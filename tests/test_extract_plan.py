"""清瀬市 第5次長期総合計画 (seed 004): every 施策 with its 10年後の姿 and numbered directions."""

from __future__ import annotations

import re

import pytest

from planindex.extract import extract
from planindex.records import Extraction
from tests.conftest import PDFS

MEASURES = [
    "1-111", "1-112", "1-121", "1-122", "1-123", "2-211", "2-212", "2-213", "2-214", "2-221",
    "3-311", "3-312", "3-313", "3-321", "3-322", "3-331", "4-411", "4-421", "4-422", "4-431", "4-432", "4-441", "4-442",
]  # fmt: skip
UNNUMBERED = ["公的医療保険制度の適切な運営", "ジェンダー平等社会の推進", "市民協働・人権啓発・平和の推進", "暮らしの相談体制の充実"]


@pytest.fixture(scope="module")
def kiyose() -> Extraction:
    return extract(PDFS["kiyose"])


def test_document_is_a_plan_of_kiyose_for_2026_to_2035(kiyose: Extraction) -> None:
    doc = kiyose.document
    assert (doc.kind, doc.city, doc.fiscal_year, doc.period) == ("総合計画", "清瀬市", 2026, (2026, 2035))


def test_every_measure_has_its_future_state_as_a_goal_under_its_vision(kiyose: Extraction) -> None:
    goals = [p for p in kiyose.passages if p.kind == "目標" and len(p.section) == 2 and p.section[1].startswith("施策")]
    numbers = list(dict.fromkeys(re.match(r"施策(\d-\d{3})", p.section[1]).group(1) for p in goals))
    assert numbers == MEASURES
    for p in goals:
        assert p.section[0].startswith(f"将来像{p.section[1][2]}")
    goals = list({p.section: p for p in reversed(goals)}.values())[::-1]  # the first paragraph of each
    titled = {p.section[-1] for p in kiyose.passages if p.kind == "目標"}
    assert all(any(t == name for t in titled) for name in UNNUMBERED)
    first = goals[0]
    assert first.section == ("将来像1「子どもも大人も学びあい育ちあう」きよせ", "施策1-111 地域全体で子どもの育ちを支える仕組みの整備")
    assert first.text.startswith("子育てに関する制度やサービスが行き渡り")


def test_each_numbered_direction_is_its_own_passage(kiyose: Extraction) -> None:
    directions = [p for p in kiyose.passages if p.kind == "方向性"]
    assert len(directions) >= 75
    center = next(p for p in directions if p.item == "●こども家庭センター機能を強化します")
    assert center.section[-1] == "施策1-112 子どもとその家庭に関する相談の支援"
    assert "児童福祉機能と母子保健機能を一体的に運用します" in center.text
    assert all(p.item and p.text.startswith(p.item) for p in directions)
