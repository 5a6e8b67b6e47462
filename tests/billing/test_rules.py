"""Each rule of EBM 4.3.1 (R1–R12) and the version boundaries, on the pure domain core."""

from decimal import Decimal

import pytest

from sprechzimmer.billing.domain.model import Quarter

from .builders import LANR, LANR_2, case, check


def findings(result, rule=None):
    return [f for f in result.findings if rule is None or f.rule == rule]


VIDEO_CASE = ((2, ["03000", "03040", "01450", "88220"]),)


def test_video_only_case_with_marker_gets_deduction_on_pauschale_and_linked_surcharge():
    (result,), _ = check(case(*VIDEO_CASE))
    assert result.video_only and not findings(result, "R6")
    by_code = {line[0]: line for line in result.lines}
    assert by_code["03000"][2:] == ("03000V", 80, 150 * 80)  # 20 % tier, video variant's code
    assert by_code["03040"][2:] == ("03040", 80, 138 * 80)  # linked surcharge shares the deduction
    assert by_code["01450"][2:] == ("01450", 100, 40 * 100)
    assert [f.severity for f in findings(result, "R3")] == ["info"]


@pytest.mark.parametrize("pauschale, percent", [("05210", 30), ("13210", 25), ("03000", 20), ("01210", 10)])
def test_deduction_tiers(pauschale, percent):
    (result,), _ = check(case((2, [pauschale, "01450", "88220"])))
    line = next(line for line in result.lines if line[0] == pauschale)
    assert line[3] == 100 - percent
    assert line[2] != pauschale  # billed under the video variant's code
    assert pauschale != "05210" or line[2] == "05210U"  # chapter 5 uses its own letter, from the data


def test_r6_marker_missing_and_marker_on_personal_case():
    (missing, wrong), _ = check(case((2, ["03000", "01450"])), case((2, ["03000", "88220"]), (9, ["03330"])))
    assert missing.video_only and [f.severity for f in findings(missing, "R6")] == ["error"]
    assert "88220 ergänzen" in findings(missing, "R6")[0].message
    assert not wrong.video_only and "persönlichen Kontakt" in findings(wrong, "R6")[0].message


def test_personal_contact_means_no_deduction():
    (result,), _ = check(case((2, ["03000", "03040"]), (9, ["01450"])))
    assert not result.video_only
    assert all(line[3] == 100 for line in result.lines)
    assert not findings(result, "R3")


def test_r4_surcharge_not_billable_in_video_only_case():
    (video, personal), _ = check(case((2, ["03000", "03020", "01450", "88220"])), case((2, ["03000", "03020"])))
    assert [f.rule for f in findings(video, "R4")] == ["R4"] and "03020" in findings(video, "R4")[0].message
    assert next(line for line in video.lines if line[0] == "03020")[3:] == (0, 0)
    assert not findings(personal, "R4")


def test_r2_telephone_only_case():
    (good, with_pauschale, missing, twice), _ = check(
        case((2, ["01435"])), case((2, ["01435", "03000"])), case((2, ["03000"]), contacts=["telephone"]),
        case((2, ["01435"]), (3, ["01435"])))
    assert good.phone_only and not good.findings
    assert "statt 03000 die GOP 01435" in findings(with_pauschale, "R2")[0].message
    assert [f.severity for f in findings(missing, "R2")] == ["error", "warning"]
    assert "nur einmal" in findings(twice, "R2")[0].message


def test_r1_telephone_fee_in_case_with_personal_contact_and_no_pauschale():
    (result,), _ = check(case((2, ["01435"]), (5, ["03330"])))
    assert findings(result, "R1") and "01435 streichen" in findings(result, "R1")[0].message


def test_r1_service_not_deliverable_by_video_on_video_visit():
    (result,), _ = check(case((2, ["03000", "01450", "03330"])))
    assert "03330" in findings(result, "R1")[0].message


def test_r5_pauschale_twice():
    (result,), _ = check(case((2, ["03000"]), (9, ["03000"])))
    assert findings(result, "R5")


def test_r9_times_required_for_several_visits_on_one_day():
    (untimed, timed), _ = check(case((2, ["03000"]), (2, ["03230"])),
                                case((2, ["03000"], "09:00"), (2, ["03230"], "15:30")))
    assert "Uhrzeit" in findings(untimed, "R9")[0].message and "03000, 03230" in findings(untimed, "R9")[0].message
    assert not findings(timed, "R9")


def test_r10_video_contacts_count_for_three_contact_gops():
    (enough, few), _ = check(case((2, ["02310"]), (9, ["01450"]), (16, ["01450"])),
                             case((2, ["02310"]), (9, ["01435"])))
    assert not findings(enough, "R10")
    assert findings(few, "R10")[0].severity == "warning"


def test_r11_pauschale_not_billable_by_video():
    (result,), _ = check(case((2, ["03030", "01450"])))
    assert findings(result, "R11")


@pytest.mark.parametrize("quarter, barred", [(Quarter(2024, 3), True), (Quarter(2025, 2), False)])
def test_r12_nuclear_medicine_allowed_from_q2_2025(quarter, barred):
    (result,), _ = check(case((2, ["17210", "01450", "88220"]), quarter=quarter), quarter=quarter)
    assert bool(findings(result, "R12")) is barred
    (radiology,), _ = check(case((2, ["24210", "01450", "88220"]), quarter=quarter), quarter=quarter)
    assert findings(radiology, "R12")


def test_lanr_with_wrong_check_digit_is_a_warning_not_a_dropped_case():
    (result,), summary = check(case((2, ["03000"]), lanr="838382302"))
    assert [f.severity for f in findings(result, "LANR")] == ["warning"]
    assert summary.totals["cases"] == 1


def cap_file(video_cases: int, personal_cases: int, emergency: int = 0, tss: int = 0, lanr=LANR):
    cases = [case(*VIDEO_CASE, case_id=f"v{i}", lanr=lanr) for i in range(video_cases)]
    cases += [case((3, ["03000"]), case_id=f"p{i}", lanr=lanr) for i in range(personal_cases)]
    cases += [case((4, ["01210", "01450", "88220"]), case_id=f"n{i}", record_type="0104", subgroup="41", lanr=lanr)
              for i in range(emergency)]
    cases += [case(*VIDEO_CASE, case_id=f"t{i}", tss_acute=True, lanr=lanr) for i in range(tss)]
    return cases


def test_r7_case_cap_counts_and_excludes_emergency_and_tss_acute_cases():
    _, summary = check(*cap_file(video_cases=4, personal_cases=6, emergency=5, tss=3))
    (cap,) = summary.caps
    assert (cap.unit, cap.id, cap.counted_cases, cap.video_only_cases) == ("lanr", LANR, 10, 4)
    assert cap.limit == Decimal("0.3") and cap.excess_cases == 4 - 3
    # the average video-only case: (120 + 110.4 + 40) points × 11.9339 ct = 32.27 €
    assert cap.euro_at_risk == Decimal("32.27")
    assert summary.totals["emergency_cases"] == 5


def test_r7_never_negative():
    _, summary = check(*cap_file(video_cases=1, personal_cases=20))
    assert summary.caps[0].excess_cases == 0 and summary.caps[0].euro_at_risk == Decimal("0.00")


@pytest.mark.parametrize("quarter, limit, excess, unit, gop_caps", [
    (Quarter(2020, 1), "0.2", 5 - 2, "lanr", True),  # 20 % per doctor: floor(0.2 × 12) = 2
    (Quarter(2020, 2), None, 0, "lanr", False),  # suspended
    (Quarter(2024, 4), "0.3", 5 - 3, "lanr", True),  # 30 % per doctor: floor(0.3 × 12) = 3
    (Quarter(2025, 1), "0.3", 5 - 3, "lanr", False),  # per-GOP cap abolished
    (Quarter(2025, 2), "0.5", 0, "bsnr", False),  # 50 % per practice: 11 of 25 cases
])
def test_version_boundaries_same_cases_different_caps(quarter, limit, excess, unit, gop_caps):
    cases = cap_file(5, 7, lanr=LANR, ) + cap_file(5, 7, lanr=LANR_2)
    for item in cases:  # the same cases, moved into the quarter under test
        for service in item.services:
            service.date = service.date.replace(year=quarter.year, month=quarter.first_day.month)
    psych = case((2, ["35150", "01450", "88220"]), case_id="psy", quarter=quarter, lanr="123456641")
    _, summary = check(*cases, psych, quarter=quarter)
    caps = {c.id: c for c in summary.caps}
    first = caps[LANR] if unit == "lanr" else caps["521234500"]
    assert first.unit == unit
    assert (str(first.limit) if first.limit is not None else None) == limit
    assert first.excess_cases == excess
    assert bool(summary.gop_caps) is gop_caps


def test_r8_per_gop_cap_and_chapter_35_point_volume():
    cases = [case((2, ["03000", "03230"]), case_id=f"p{i}") for i in range(7)]
    cases += [case((2, ["03000", "03230", "01450", "88220"]), case_id=f"v{i}") for i in range(3)]
    cases += [case((2, ["35150"]), (9, ["35401", "01450"]), case_id=f"psy{i}") for i in range(2)]
    _, summary = check(*cases)
    caps = {(g.lanr, g.gop): g for g in summary.gop_caps}
    conversation = caps[(LANR, "03230")]
    assert (conversation.total, conversation.video, conversation.limit, conversation.excess) == (10, 3, 3, 0)
    volume = caps[(LANR, "35*")]
    assert volume.basis == "points" and volume.total == 2 * (405 + 900) and volume.video == 2 * 900
    assert volume.excess == 1800 - (30 * 2610) // 100


def test_euros_use_the_years_orientation_value_exactly():
    _, summary = check(case((2, ["03000"])), quarter=Quarter(2024, 3))
    assert summary.totals["euro"] == "17.90"  # 150 × 11.9339 ct = 17.90085 €
    _, summary = check(case((2, ["03000"]), quarter=Quarter(2026, 1)), quarter=Quarter(2026, 1))
    assert summary.totals["euro"] == "19.11"  # 150 × 12.7404 ct = 19.1106 €
