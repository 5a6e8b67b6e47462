"""Each rule of EBM 4.3.1 (R1–R14) and the version boundaries, on the pure domain core, per
Behandlungsfall and Arztfall."""

import datetime as dt
from decimal import Decimal

import pytest

from sprechzimmer.billing.domain.model import Quarter

from .builders import LANR, LANR_2, case, check


def findings(result, rule=None):
    return [f for f in result.findings if rule is None or f.rule == rule]


VIDEO_CASE = ((2, ["03003", "03040", "01450", "88220"]),)


def test_video_only_case_with_marker_gets_deduction_on_pauschale_and_linked_surcharge():
    (result,), _ = check(case(*VIDEO_CASE))
    assert result.video_only and not findings(result, "R6")
    by_code = {line[0]: line for line in result.lines}
    assert by_code["03003"][2:5] == ("03003V", 80, 114 * 80)  # 20 % tier, video variant's code
    assert by_code["03040"][2:4] == ("03040", 80)  # linked surcharge shares the deduction
    assert by_code["01450"][2:5] == ("01450", 100, 40 * 100)
    assert by_code["01450"][5] == LANR  # every line keeps its doctor
    assert [f.severity for f in findings(result, "R3")] == ["info"]


@pytest.mark.parametrize(
    "pauschale, percent, billed",
    [
        ("05210", 30, "05210U"),
        ("13211", 25, "13211V"),
        ("03003", 20, "03003V"),
        ("01210", 10, "01210V"),
        ("23211", 20, "23211V"),
        ("06212", 30, "06212V"),
        ("27211", 25, "27211V"),
        ("01321", 20, "01321V"),
    ],
)
def test_deduction_tiers_by_chapter(pauschale, percent, billed):
    (result,), _ = check(case((2, [pauschale, "01450", "88220"])))
    line = next(line for line in result.lines if line[0] == pauschale)
    assert line[3] == 100 - percent
    assert line[2] == billed  # the letter comes from the data (chapter 5 uses its own)


def test_the_10_percent_tier_of_the_notfallpauschalen_starts_on_1_july_2022():
    q2, q3 = Quarter(2022, 2), Quarter(2022, 3)
    (before,), _ = check(case((2, ["01210", "01450", "88220"]), quarter=q2), quarter=q2)
    (after,), _ = check(case((2, ["01210", "01450", "88220"]), quarter=q3), quarter=q3)
    assert findings(before, "R11") and next(line for line in before.lines if line[0] == "01210")[3] == 0
    assert not findings(after, "R11") and next(line for line in after.lines if line[0] == "01210")[3] == 90


def test_r6_marker_missing_and_marker_on_personal_case():
    (missing, wrong), _ = check(
        case((2, ["03003", "01450"]), case_id="a"), case((2, ["03003", "88220"]), (9, ["03330"]), case_id="b")
    )
    assert missing.video_only and [f.severity for f in findings(missing, "R6")] == ["error"]
    assert "88220 ergänzen" in findings(missing, "R6")[0].message
    assert not wrong.video_only and "persönlichen Kontakt" in findings(wrong, "R6")[0].message


def test_personal_contact_means_no_deduction():
    (result,), _ = check(case((2, ["03003", "03040"]), (9, ["01450"])))
    assert not result.video_only
    assert all(line[3] == 100 for line in result.lines)
    assert not findings(result, "R3")


def test_r4_surcharge_not_billable_in_video_only_case():
    (video, personal), _ = check(
        case((2, ["03003", "03020", "01450", "88220"]), case_id="v"), case((2, ["03003", "03020"]), case_id="p")
    )
    assert [f.rule for f in findings(video, "R4")] == ["R4"] and "03020" in findings(video, "R4")[0].message
    assert next(line for line in video.lines if line[0] == "03020")[3] == 0
    assert not findings(personal, "R4")


# -- 01435 per Arztfall -------------------------------------------------------------------------------
def test_r2_telephone_only_case_bills_01435():
    (good,), _ = check(case((2, ["01435"]), (3, ["03230"])))
    assert good.phone_only and not good.findings


def test_r2_in_a_bag_another_doctors_pauschale_does_not_exclude_01435():
    # Doctor A sees the patient in person and bills the Versichertenpauschale, doctor B phones and
    # bills 01435: 01435's exclusion is per Arztfall (KBV annotation to 01435).
    bag = case((2, ["03003"], "09:00", LANR), (9, ["01435"], None, LANR_2))
    (result,), _ = check(bag)
    assert not result.phone_only and not findings(result, "R2") and not findings(result, "R1")
    assert {c.kind for c in result.contacts} == {"personal", "telephone"}


def test_r2_same_doctor_pauschale_and_01435_keeps_the_pauschale():
    (result,), _ = check(case((2, ["03003"]), (9, ["01435"])))
    (finding,) = findings(result, "R2")
    assert finding.severity == "error" and "01435 streichen, 03003 bleibt" in finding.message
    assert "statt 03003" not in finding.message and not result.phone_only


def test_r2_01435_twice_for_children_up_to_12_and_once_for_adults():
    child = case((2, ["01435"]), (20, ["01435"]), case_id="k", birth="20150310")  # 9 at the first contact
    adult = case((2, ["01435"]), (20, ["01435"]), case_id="e", birth="19700101")
    unknown = case((2, ["01435"]), (20, ["01435"]), case_id="u")
    (kid, grown, who), _ = check(child, adult, unknown)
    assert not findings(kid, "R2")
    assert "nur einmal (bei Kindern" in findings(grown, "R2")[0].message
    assert findings(who, "R2")  # without a birth date the stricter limit applies


def test_r2_01435_is_not_billable_in_the_organised_emergency_service():
    (result,), _ = check(case((2, ["01435"]), record_type="0104", subgroup="41"))
    assert "organisierten Not(-fall)dienst" in findings(result, "R2")[0].message


def test_r2_explicit_telephone_contacts_with_a_pauschale_only_ask():
    (with_pauschale, missing), _ = check(
        case((2, ["03003"]), contacts=["telephone"], case_id="a"),
        case((2, ["03230"]), contacts=["telephone"], case_id="b"),
    )
    assert [f.severity for f in findings(with_pauschale, "R2")] == ["warning"]
    assert "01435" in findings(missing, "R2")[0].message


def test_r1_01435_in_an_arztfall_with_a_personal_contact_and_no_pauschale():
    (result,), _ = check(case((2, ["01435"]), (5, ["03330"])))
    assert findings(result, "R1") and "01435 streichen" in findings(result, "R1")[0].message


def test_r1_service_not_deliverable_by_video_on_video_visit():
    (result,), _ = check(case((2, ["03003", "01450", "03330"])))
    assert "03330" in findings(result, "R1")[0].message


# -- the Behandlungsfall of several Scheine -------------------------------------------------------------
def test_several_scheine_of_one_patient_are_one_behandlungsfall_for_the_video_test_and_the_cap():
    video = case((2, ["03003", "01450", "88220"]), case_id="s1", patient="Quast")
    referral = case((9, ["03330"]), case_id="s2", record_type="0102", subgroup="24", patient="Quast")
    other = case((3, ["03003", "01450", "88220"]), case_id="s3", patient="Klein")
    (first, second), summary = check(video, referral, other)
    assert first.case.case_id == "s1 + s2" and len(first.case.scheine) == 2
    assert not first.video_only and "persönlichen Kontakt" in findings(first, "R6")[0].message
    assert all(line[3] == 100 for line in first.lines)
    assert second.video_only
    assert summary.totals["cases"] == 2 and summary.totals["scheine"] == 3
    assert summary.caps[0].counted_cases == 2


def test_another_payer_or_quarter_is_another_behandlungsfall():
    a = case((2, ["03003"]), case_id="a", patient="Quast", payer=b"108018007")
    b = case((9, ["03003"]), case_id="b", patient="Quast", payer=b"101575519")
    results, _ = check(a, b)
    assert len(results) == 2


def test_grouping_window_checks_far_scheine_apart_and_counts_them():
    from sprechzimmer.billing.domain.grouping import Grouper

    def schein(name, case_id):
        return case((2, ["03003"]), case_id=case_id, patient=name)

    near = [schein("Quast", "q1"), schein("Klein", "k"), schein("Quast", "q2")]
    far = [schein("Quast", "q1"), *(schein(f"P{n}", f"p{n}") for n in range(4)), schein("Quast", "q2")]
    grouper = Grouper(window=2)
    assert [c.case_id for c in grouper.group(near)] == ["q1 + q2", "k"]
    assert grouper.scattered == 0
    grouper = Grouper(window=2)
    ids = [c.case_id for c in grouper.group(far)]
    assert "q1" in ids and "q2" in ids and len(ids) == 6  # q1 was checked before q2 came
    assert grouper.scattered == 1


def test_r5_a_pauschale_once_per_behandlungsfall_04030_twice_and_one_age_tier():
    (twice, tiers, unforeseen, thrice), _ = check(
        case((2, ["03003"]), (9, ["03003"]), case_id="a"),
        case((2, ["03003"]), (9, ["03004"]), case_id="b"),
        case((2, ["04030"]), (9, ["04030"]), case_id="c"),
        case((2, ["04030"]), (9, ["04030"]), (16, ["04030"]), case_id="d"),
    )
    assert "2-mal angesetzt" in findings(twice, "R5")[0].message
    assert "03003, 03004" in findings(tiers, "R5")[0].message
    assert not findings(unforeseen, "R5")
    assert "nur 2-mal" in findings(thrice, "R5")[0].message


def test_r9_times_are_needed_per_visit_and_every_gop_of_the_visit_counts():
    (untimed, timed, unknown), _ = check(
        case((2, ["03003", "03040"]), (2, ["03230"]), case_id="a"),
        case((2, ["03003", "03040"], "09:00"), (2, ["03230"], "15:30"), case_id="b"),
        case((2, ["03003"], "09:00"), (2, ["99999"]), case_id="c"),
    )
    assert "ohne Uhrzeit: 03003, 03040, 03230" in findings(untimed, "R9")[0].message
    assert not findings(timed, "R9")  # one time per visit, on its first GOP, is enough
    assert "99999" in findings(unknown, "R9")[0].message  # an unknown GOP is still a service of the visit


def test_r10_video_contacts_count_for_three_contact_gops():
    (enough, few), _ = check(
        case((2, ["02310"]), (9, ["01450"]), (16, ["01450"]), case_id="a"),
        case((2, ["02310"]), (9, ["01435"]), case_id="b"),
    )
    assert not findings(enough, "R10")
    assert findings(few, "R10")[0].severity == "warning"


def test_r11_pauschale_not_billable_by_video():
    (result,), _ = check(case((2, ["03030", "01450"])))
    assert findings(result, "R11")


@pytest.mark.parametrize("quarter, barred", [(Quarter(2024, 3), True), (Quarter(2025, 2), False)])
def test_r12_nuclear_medicine_allowed_from_q2_2025(quarter, barred):
    (result,), _ = check(case((2, ["17210", "01450", "88220"]), quarter=quarter), quarter=quarter)
    assert bool(findings(result, "R12")) is barred
    (radiology,), _ = check(case((2, ["24211", "01450", "88220"]), quarter=quarter), quarter=quarter)
    assert findings(radiology, "R12")


def test_01452_from_q2_2025_and_only_in_video_only_cases():
    q1, q2 = Quarter(2025, 1), Quarter(2025, 2)
    (early,), _ = check(case((2, ["03003", "01450", "88220", "01452"]), quarter=q1), quarter=q1)
    (video, personal), _ = check(
        case((2, ["03003", "01450", "88220", "01452"]), case_id="v", quarter=q2),
        case((2, ["03003", "01452"]), case_id="p", quarter=q2),
        quarter=q2,
    )
    assert "gilt ab 01.04.2025" in findings(early, "GOP")[0].message
    assert not findings(video, "GOP") and not findings(video, "R13")
    assert findings(personal, "R13") and next(line for line in personal.lines if line[0] == "01452")[3] == 0


def test_01444_is_valid_through_2026_and_once_per_case():
    from .builders import CATALOGUE

    q = Quarter(2026, 4)
    (ok, twice), _ = check(
        case((2, ["03003", "01450", "01444", "88220"]), quarter=q, case_id="a"),
        case((2, ["03003", "01450", "01444", "88220"]), (9, ["01450", "01444"]), quarter=q, case_id="b"),
        quarter=q,
    )
    assert not findings(ok, "GOP") and not findings(ok, "R5") and findings(twice, "R5")
    gop = CATALOGUE.view(Quarter(2027, 1)).get("01444")
    assert gop.valid_to == dt.date(2026, 12, 31) and not gop.valid_on(dt.date(2027, 1, 4))


def test_r14_the_age_tier_must_fit_the_age_at_the_first_contact():
    (wrong, right), _ = check(
        case((2, ["03003"]), case_id="a", birth="19500101"), case((2, ["03004"]), case_id="b", birth="19500101")
    )
    assert "03004 abrechnen" in findings(wrong, "R14")[0].message and not findings(right, "R14")


def test_r14_tiers_count_completed_years_bis_zum_vollendeten_means_before_that_birthday():
    # First contact 2.7.2024. "bis zum vollendeten 18. Lebensjahr" ends on the 18th birthday;
    # "ab Beginn des 19. Lebensjahres" starts on it (completed years 18).
    (turned_18, still_17, turned_4, grund_5), _ = check(
        case((2, ["03002"]), case_id="a", birth="20060702"),
        case((2, ["03002"]), case_id="b", birth="20060703"),
        case((2, ["03001"]), case_id="c", birth="20200701"),
        case((2, ["13210"]), case_id="d", birth="20190101"),
    )
    assert "03003 abrechnen" in findings(turned_18, "R14")[0].message
    assert "Patienten von 4 bis 17 Jahren" in findings(turned_18, "R14")[0].message
    assert not findings(still_17, "R14")
    assert "bis zum vollendeten 4. Lebensjahr" in findings(turned_4, "R14")[0].message
    assert "13211 abrechnen" in findings(grund_5, "R14")[0].message  # 5 years: "ab Beginn des 6. Lebensjahres"


def test_suffixed_video_gops_are_video_contacts_and_count_for_r8():
    cases = [case((2, ["03003", "03230"]), case_id=f"p{i}") for i in range(7)]
    cases += [case((2, ["03003"]), (9, ["03230V"]), case_id=f"v{i}") for i in range(3)]
    results, summary = check(*cases)
    assert {c.kind for c in results[-1].contacts} == {"personal", "video"}
    caps = {(g.lanr, g.gop): g for g in summary.gop_caps}
    assert (caps[(LANR, "03230")].total, caps[(LANR, "03230")].video) == (10, 3)
    assert not summary.totals["unknown_gops"]


def test_lanr_with_wrong_check_digit_is_a_warning_not_a_dropped_case():
    (result,), summary = check(case((2, ["03003"]), lanr="838382302"))
    assert [f.severity for f in findings(result, "LANR")] == ["warning"]
    assert summary.totals["cases"] == 1


def test_unknown_gops_are_counted_as_unchecked_services():
    (result,), summary = check(case((2, ["03003", "99999", "12345"])))
    assert result.unchecked == 2
    assert summary.totals["unchecked_services"] == {"count": 2, "total": 3, "share": "0.6667"}
    assert summary.totals["unknown_gops"] == ["12345", "99999"]


# -- caps ---------------------------------------------------------------------------------------------
def cap_file(video_cases: int, personal_cases: int, emergency: int = 0, tss: int = 0, lanr=LANR, subgroup="41"):
    cases = [case(*VIDEO_CASE, case_id=f"v{i}", lanr=lanr) for i in range(video_cases)]
    cases += [case((3, ["03003"]), case_id=f"p{i}", lanr=lanr) for i in range(personal_cases)]
    cases += [
        case((4, ["01210", "01450", "88220"]), case_id=f"n{i}", record_type="0104", subgroup=subgroup, lanr=lanr)
        for i in range(emergency)
    ]
    cases += [case(*VIDEO_CASE, case_id=f"t{i}", tss_acute=True, lanr=lanr) for i in range(tss)]
    return cases


def test_r7_case_cap_counts_and_excludes_emergency_and_tss_acute_cases():
    _, summary = check(*cap_file(video_cases=4, personal_cases=6, emergency=5, tss=3))
    (cap,) = summary.caps
    assert (cap.unit, cap.id, cap.counted_cases, cap.video_only_cases) == ("lanr", LANR, 10, 4)
    assert cap.limit == Decimal("0.3") and cap.excess_cases == 4 - 3
    # the average video-only case: 03003 at 80 % (91.2) + 01450 (40) points; 03040 has no confirmed
    # points: 131.2 × 11.9339 ct = 15.66 €
    assert cap.euro_at_risk == Decimal("15.66")
    assert summary.totals["emergency_cases"] == 5


@pytest.mark.parametrize("subgroup, counted", [("41", 10), ("44", 10), ("46", 10), ("42", 15), ("43", 15), ("45", 15)])
def test_r7_only_the_organised_emergency_service_is_excluded_from_the_cap(subgroup, counted):
    # KVDT Datensatzbeschreibung, field 4239: 41 ärztlicher Notfalldienst, 44 mit Taxi, 46 zentral;
    # 42 is a holiday/illness substitute, 43 an emergency outside it, 45 the Rettungsdienst.
    _, summary = check(*cap_file(video_cases=4, personal_cases=6, emergency=5, subgroup=subgroup))
    assert summary.caps[0].counted_cases == counted


def test_r7_late_behandlungsfaelle_are_checked_but_not_counted():
    q2 = Quarter(2024, 2)
    late = [case(*VIDEO_CASE, case_id=f"l{i}", quarter=q2) for i in range(5)]
    results, summary = check(*cap_file(1, 9), *late)
    assert all(r.late for r in results[-5:]) and all(r.video_only for r in results[-5:])
    assert summary.caps[0].counted_cases == 10 and summary.totals["late_cases"] == 5
    assert summary.totals["late_quarters"] == ["2/2024"]


def test_r7_never_negative():
    _, summary = check(*cap_file(video_cases=1, personal_cases=20))
    assert summary.caps[0].excess_cases == 0 and summary.caps[0].euro_at_risk == Decimal("0.00")


@pytest.mark.parametrize(
    "quarter, limit, excess, unit, gop_caps",
    [
        (Quarter(2020, 1), "0.2", 5 - 2, "lanr", True),  # 20 % per doctor: floor(0.2 × 12) = 2
        (Quarter(2020, 2), None, 0, "lanr", False),  # suspended
        (Quarter(2024, 4), "0.3", 5 - 3, "lanr", True),  # 30 % per doctor: floor(0.3 × 12) = 3
        (Quarter(2025, 1), "0.3", 5 - 3, "lanr", False),  # per-GOP cap abolished
        (Quarter(2025, 2), "0.5", 0, "bsnr", False),  # 50 % per practice: 11 of 25 cases
    ],
)
def test_version_boundaries_same_cases_different_caps(quarter, limit, excess, unit, gop_caps):
    cases = cap_file(
        5,
        7,
        lanr=LANR,
    ) + cap_file(5, 7, lanr=LANR_2)
    for item in cases:  # the same cases, moved into the quarter under test
        item.quarter = quarter
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


def r8_file(quarter):
    cases = [case((2, ["03003", "03230"]), case_id=f"p{i}", quarter=quarter) for i in range(7)]
    cases += [case((2, ["03003", "03230", "01450", "88220"]), case_id=f"v{i}", quarter=quarter) for i in range(3)]
    cases += [case((2, ["35150"]), (9, ["35401", "01450"]), case_id=f"psy{i}", quarter=quarter) for i in range(2)]
    return cases


def test_r8_per_gop_cap_and_chapter_35_point_volume_from_q3_2022():
    q3, q2 = Quarter(2022, 3), Quarter(2022, 2)
    cases = r8_file(q3)
    _, summary = check(*cases, quarter=q3)
    caps = {(g.lanr, g.gop): g for g in summary.gop_caps}
    conversation = caps[(LANR, "03230")]
    assert (conversation.total, conversation.video, conversation.limit, conversation.excess) == (10, 3, 3, 0)
    assert (LANR, "35401") in caps and (LANR, "35*") not in caps  # chapter 35 points are not confirmed in our data
    assert summary.ruleset.id == "4.3.1-2022Q3" and summary.ruleset.chapter35_point_volume
    _, before = check(*r8_file(q2), quarter=q2)
    assert before.ruleset.id == "4.3.1-2022Q2" and not before.ruleset.chapter35_point_volume
    assert (LANR, "35401") in {(g.lanr, g.gop) for g in before.gop_caps}


def test_r8_chapter_35_point_volume_with_points():
    from sprechzimmer.billing.domain.catalogue import Catalogue
    from sprechzimmer.billing.domain.rules import QuarterCheck

    from .builders import RULEBOOK

    catalogue = Catalogue.parse(
        "code;chapter;points;video;kind;deduction;video_code;links;min_contacts;title\n"
        "35150;35;405;1;service;;;;;Probatorische Sitzung\n"
        "35401;35;900;1;service;;;;;Einzelbehandlung\n"
        "01450;01;40;1;video_surcharge;;;;;Video\n"
    )
    checker = QuarterCheck(Quarter(2024, 3), RULEBOOK, catalogue)
    for i in range(2):
        checker.add(case((2, ["35150"]), (9, ["35401", "01450"]), case_id=f"psy{i}"))
    volume = {(g.lanr, g.gop): g for g in checker.summary().gop_caps}[(LANR, "35*")]
    assert volume.basis == "points" and volume.total == 2 * (405 + 900) and volume.video == 2 * 900
    assert volume.excess == 1800 - (30 * 2610) // 100


def test_euros_use_the_years_orientation_value_exactly():
    _, summary = check(case((2, ["03003"])), quarter=Quarter(2024, 3))
    assert summary.totals["euro"] == "13.60"  # 114 × 11.9339 ct = 13.6046 €
    _, summary = check(case((2, ["03003"]), quarter=Quarter(2026, 1)), quarter=Quarter(2026, 1))
    assert summary.totals["euro"] == "14.52"  # 114 × 12.7404 ct = 14.5241 €


def test_a_gop_without_confirmed_points_is_checked_but_not_priced():
    (result,), summary = check(case((2, ["03001", "03040"])))
    assert [line[4] for line in result.lines] == [None, None]
    assert summary.totals["unpriced_services"] == 2 and summary.totals["unchecked_services"]["count"] == 0
    assert dt.date(2024, 7, 2) == result.lines[0][1]
