"""Properties of the rules over generated cases (hypothesis)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sprechzimmer.billing.domain.model import Quarter

from .builders import case, check

gop_codes = st.sampled_from(
    [
        "03000",
        "03040",
        "03060",
        "03020",
        "01450",
        "01435",
        "88220",
        "03230",
        "13210",
        "13294",
        "05210",
        "35150",
        "02310",
    ]
)
visit = st.tuples(st.integers(1, 28), st.lists(gop_codes, min_size=1, max_size=4))
quarters = st.sampled_from([Quarter(2020, 1), Quarter(2021, 3), Quarter(2024, 4), Quarter(2025, 1), Quarter(2025, 3)])


@given(
    st.lists(visit, min_size=0, max_size=3),
    st.lists(st.sampled_from(["03330", "02300"]), min_size=1, max_size=2),
    quarters,
)
@settings(max_examples=200)
def test_a_case_with_a_personal_contact_never_gets_a_video_deduction(video_visits, personal_gops, quarter):
    item = case(*video_visits, (15, personal_gops), quarter=quarter)
    (result,), _ = check(item, quarter=quarter)
    assert not result.video_only
    assert all(line[2] == line[0] for line in result.lines)  # never billed under a video code
    assert not any(f.rule in ("R3", "R4") for f in result.findings)
    assert all(line[3] == 100 for line in result.lines if line[0] not in ("03330", "02300"))


@given(
    st.lists(
        st.tuples(
            st.lists(visit, min_size=1, max_size=3),
            st.sampled_from(["838382202", "123456640"]),
            st.booleans(),
            st.booleans(),
        ),
        max_size=25,
    ),
    quarters,
)
@settings(max_examples=150)
def test_caps_are_never_negative_and_never_exceed_the_video_only_cases(items, quarter):
    cases = [
        case(
            *visits,
            case_id=str(i),
            lanr=lanr,
            quarter=quarter,
            tss_acute=tss,
            record_type="0104" if emergency else "0101",
            subgroup="42" if emergency else None,
        )
        for i, (visits, lanr, emergency, tss) in enumerate(items)
    ]
    _, summary = check(*cases, quarter=quarter)
    for cap in summary.caps:
        assert 0 <= cap.excess_cases <= cap.video_only_cases <= cap.counted_cases
        assert cap.euro_at_risk >= 0
    for gop_cap in summary.gop_caps:
        assert 0 <= gop_cap.excess <= gop_cap.video <= gop_cap.total
    assert summary.totals["cases"] == len(cases)
