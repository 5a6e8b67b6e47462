"""The plain path (QuarterCheck._add_plain with _kvdt.check_plain, for Behandlungsfälle without
findings) against the full path: the same findings, points, counts, lines, contacts, totals, caps and
reports, on files of the bench's shape, on generated KVDT files and on generated Behandlungsfälle that
come close to every rule the plain path leaves to the full one."""

import datetime as dt
import importlib.util
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sprechzimmer.billing.domain import kvdt, report
from sprechzimmer.billing.domain.grouping import Grouper
from sprechzimmer.billing.domain.model import Case, Contact, Quarter, Service
from sprechzimmer.billing.domain.rules import QuarterCheck
from sprechzimmer.billing.domain.run import CheckRun

from .builders import CATALOGUE, LANR, LANR_2, Q3_2024, RULEBOOK, case, kvdt_bytes
from .test_kvdt import scheine_strategy

pytestmark = pytest.mark.skipif(not kvdt.BUILT, reason="the C scanner is not built (no C compiler at install time)")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ebm_throughput.py"


def _generate(path: Path, scheine: int, seed: int = 7) -> None:
    spec = importlib.util.spec_from_file_location("ebm_throughput", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(str(path), scheine, seed)


def _result(result):
    return (
        result.case.case_id,
        [finding.as_dict() for finding in result.findings],
        result.points_x100,
        result.video_only,
        result.phone_only,
        result.late,
        result.unchecked,
        result.count,
        result.lines,
        [(c.date, c.kind, c.visit, c.time) for c in result.contacts],
    )


def _summary(summary):
    return summary.totals, [cap.as_dict() for cap in summary.caps], [cap.as_dict() for cap in summary.gop_caps]


def file_outcome(data: bytes, plain: bool, window=None):
    """Everything a check of ``data`` gives with the plain path on or off, and how many cases it took."""
    run = CheckRun(io.BytesIO(data), rulebook=RULEBOOK, catalogue=CATALOGUE, window=window, plain=plain)
    cases = [_result(result) for result in run.results()]
    summary = run.summary()
    assert run.check is not None and run.check.plain is plain
    text, json = io.StringIO(), io.StringIO()
    report.write_text(
        CheckRun(io.BytesIO(data), rulebook=RULEBOOK, catalogue=CATALOGUE, plain=plain), text, all_cases=True
    )
    report.write_json(CheckRun(io.BytesIO(data), rulebook=RULEBOOK, catalogue=CATALOGUE, plain=plain), json)
    return (cases, _summary(summary), text.getvalue(), json.getvalue()), run.check.plain_cases


def assert_same_file(data: bytes, window=None) -> int:
    (fast, taken), (full, none) = file_outcome(data, True, window), file_outcome(data, False, window)
    assert fast[0] == full[0]
    assert fast[1:] == full[1:]
    assert none == 0
    return taken


def test_the_bench_shape_checks_alike_and_most_cases_take_the_plain_path(tmp_path):
    path = tmp_path / "bench.con"
    _generate(path, 1500)
    data = path.read_bytes()
    taken = assert_same_file(data)
    (cases, (totals, _caps, gop_caps), *_reports), _taken = file_outcome(data, True)
    without = sum(1 for case in cases if not case[1])
    # every case the plain path took has no finding, and it took most of those
    assert sum(totals["findings"].values()) > 0 and gop_caps
    assert without * 0.9 <= taken <= without


def test_a_small_window_checks_alike(tmp_path):
    path = tmp_path / "bench.con"
    _generate(path, 400, seed=11)
    assert_same_file(path.read_bytes(), window=25)


@given(scheine_strategy, st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_written_file_checks_alike_on_both_paths(scheine, lf):
    data = kvdt_bytes(scheine)
    if lf:
        data = data.replace(b"\r\n", b"\n")
    assert_same_file(data)


# Behandlungsfälle near every rule the plain path must leave to the full one: Pauschalen of every age
# tier and a wrong one (R14), a Pauschale twice (R5), 01435 (R1/R2), 88220 and 01450 (R6), video
# visits beside a Pauschale (R3, R12), a GOP not deliverable by video (R1/R11), a surcharge excluded
# in video-only cases (R4), GOPs needing contacts (R10), unknown GOPs and a video-marked
# Zusatznummer, two visits on one day (R9), an invalid LANR, the emergency service, TSS acute cases,
# an earlier quarter, stated ages and contacts (JSON format) and birth dates of any form.
GOPS = [
    "03001", "03002", "03003", "03004", "03005", "04003", "13211", "06212", "03000",  # Pauschalen, tiers
    "01435", "88220", "01450", "03230", "03230V", "03220", "35150", "01420", "01442", "02300",
    "03040", "01210", "01444", "01452", "02310", "03020", "12210", "32025", "99999", "01320",
]  # fmt: skip
visit = st.tuples(
    st.integers(1, 6),  # day: few days, so two visits on one day happen
    st.lists(st.sampled_from(GOPS), min_size=1, max_size=4),
    st.one_of(st.none(), st.sampled_from(["0930", "1015"])),
    st.sampled_from([LANR, LANR, LANR_2, "123456789", None]),
)
schein_options = st.fixed_dictionaries(
    {
        "patient": st.sampled_from(["Quast", "Kern", None]),
        "birth": st.one_of(
            st.none(),
            st.sampled_from(
                ["20200101", "19800615", "19400101", "00000000", "alter:3", "alter:70", "alter:", "2020x101"]
            ),
        ),
        "age": st.one_of(st.none(), st.integers(0, 99)),
        "record": st.sampled_from(["0101", "0101", "0102", "0104"]),
        "subgroup": st.sampled_from([None, "41", "43", "00"]),
        "tss": st.booleans(),
        "late": st.integers(0, 9).map(lambda n: n == 0),
        "contacts": st.integers(0, 9).map(lambda n: n == 0),
        "multiplier": st.integers(1, 3),
    }
)


def _make(visits, options, index) -> Case:
    quarter = Quarter(2024, 2) if options["late"] else Q3_2024
    kinds = ["personal", "video", "telephone"]
    schein = case(
        *visits,
        case_id=str(index),
        record_type=options["record"],
        subgroup=options["subgroup"],
        tss_acute=options["tss"],
        contacts=[kinds[i % 3] for i in range(len(visits))] if options["contacts"] else None,
        quarter=quarter,
        patient=options["patient"],
        birth=options["birth"],
        age=options["age"],
    )
    for service in schein.services[:1]:
        service.multiplier = options["multiplier"]
    return schein


behandlungsfaelle = st.lists(st.tuples(st.lists(visit, min_size=0, max_size=4), schein_options), max_size=6).map(
    lambda items: [_make(v, o, i) for i, (v, o) in enumerate(items)]
)


def check_outcome(scheine: list[Case], plain: bool):
    checker = QuarterCheck(Q3_2024, RULEBOOK, CATALOGUE, plain=plain)
    checker.file_quarter = Q3_2024
    results = [_result(checker.add(c)) for c in Grouper(None).group(scheine)]
    return results, _summary(checker.summary()), checker.plain_cases


@given(behandlungsfaelle)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_behandlungsfall_checks_alike_on_both_paths(scheine):
    fast, full = check_outcome(scheine, True), check_outcome(scheine, False)
    assert fast[0] == full[0]
    assert fast[1] == full[1]
    assert full[2] == 0


def test_the_plain_path_takes_a_plain_case_and_leaves_each_finding_to_the_full_path():
    warm_up = case((20, ["03230"]), case_id="w")
    plain = case((2, ["03003", "03230"]), (9, ["03220"]), birth="19800615")
    wrong_tier = case((2, ["03001", "03230"]), birth="19800615")  # R14
    same_day = case((2, ["03003"], None), (2, ["03230"], None), birth="19800615")  # R9
    phone = case((2, ["01435"]))  # R2
    emergency = case((2, ["01210"]), record_type="0104", subgroup="41")
    bad_lanr = case((2, ["03003"], None, "123456789"), birth="19800615")  # LANR
    video_only = case((2, ["03230", "01450", "88220"]), (9, ["03220", "01450"]))
    for scheine, taken in (
        ([plain], 1),
        ([wrong_tier], 0),
        ([same_day], 0),
        ([phone], 0),
        ([emergency], 0),
        ([bad_lanr], 0),
        ([video_only], 1),
    ):
        # the first case of a LANR goes the full way (it validates the LANR); then the case itself
        results, summary, plain_cases = check_outcome([warm_up, *scheine], True)
        assert plain_cases == taken, scheine
        assert not taken or not results[1][1]  # a case the plain path takes has no finding
        assert (results, summary) == check_outcome([warm_up, *scheine], False)[:2]
    assert check_outcome([wrong_tier], True)[0][0][1][0]["rule"] == "R14"


def test_stated_contacts_and_malformed_values_go_the_full_path():
    """A Schein with stated contacts, or with values of types the reader never makes, is left to Python."""
    day = dt.date(2024, 7, 2)
    stated = Case("1", services=[Service("03003", day, 1, None, 1, LANR)], contacts=[Contact(day, "video", 1)])
    odd_visit = Case("2", services=[Service("03003", day, "1", None, 1, LANR)])  # type: ignore[arg-type]
    odd_multiplier = Case("3", services=[Service("03230", day, 1, None, 10**12, LANR)])
    odd_birth = Case("4", services=[Service("03003", day, 1, None, 1, LANR)], birth=b"alter:" + b"9" * 40)
    checker = QuarterCheck(Q3_2024, RULEBOOK, CATALOGUE, plain=True)
    reference = QuarterCheck(Q3_2024, RULEBOOK, CATALOGUE, plain=False)
    for schein in (stated, odd_multiplier, odd_birth):
        assert _result(checker.add(schein)) == _result(reference.add(schein))
    with pytest.raises(TypeError):
        reference.add(odd_visit)
    with pytest.raises(TypeError):
        checker.add(odd_visit)
    assert checker.plain_cases == 0
    assert _summary(checker.summary()) == _summary(reference.summary())


def test_the_c_window_refuses_misuse_instead_of_crashing():
    """``_kvdt.Window`` writes into its Bloom filter's bytes: a filter resized from Python, or a
    window used without ``__init__``, gives an exception, never a write out of bounds."""
    from sprechzimmer.billing.domain import _kvdt
    from sprechzimmer.billing.domain.grouping import group_key

    window = _kvdt.Window(1, group_key)
    scheine = [case((2, ["03003"]), case_id=str(n), patient=f"P{n}") for n in range(3)]
    assert window.push(scheine[0]) is None
    assert window.push(scheine[1]) is scheine[0]  # two held, one allowed: the earliest is checked
    bloom = window.bloom
    assert bloom is not None and len(bloom) == 2**24
    del bloom[:]
    with pytest.raises(ValueError):
        window.push(scheine[2])
    assert window.flush() == [scheine[1]]
    with pytest.raises(RuntimeError):
        _kvdt.Window.__new__(_kvdt.Window).push(scheine[0])
