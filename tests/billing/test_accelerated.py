"""The C paths (the KVDT scanner and the rules' first pass and R8 counters, _kvdt.c) against their
Python references: the same check gives the same findings, counts, lines, contacts and report, on
files of the bench's realistic shape, on the hand-written KVDT fixtures and on generated Scheine."""

import importlib.util
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sprechzimmer.billing.domain import kvdt, report
from sprechzimmer.billing.domain.grouping import Grouper
from sprechzimmer.billing.domain.run import CheckRun

from .builders import CATALOGUE, RULEBOOK, case, kvdt_bytes
from .test_kvdt import COMPLETE, scheine_strategy

pytestmark = pytest.mark.skipif(not kvdt.BUILT, reason="the C scanner is not built (no C compiler at install time)")

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ebm_throughput.py"


def _bench():
    spec = importlib.util.spec_from_file_location("ebm_throughput", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outcome(data: bytes, accelerated: bool, window=None):
    """Everything a check of ``data`` gives: per Behandlungsfall its findings, points, kinds, lines and
    contacts, then the summary's totals and caps and the JSON report."""
    default = kvdt.ACCELERATED
    kvdt.ACCELERATED = accelerated
    try:
        run = CheckRun(io.BytesIO(data), rulebook=RULEBOOK, catalogue=CATALOGUE, window=window)
        assert run.check is None or run.check.accelerated is accelerated
        cases = [
            (
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
            for result in run.results()
        ]
        assert run.check is not None and run.check.accelerated is accelerated
        summary = run.summary()
        text, json = io.StringIO(), io.StringIO()
        report.write_text(
            CheckRun(io.BytesIO(data), rulebook=RULEBOOK, catalogue=CATALOGUE, window=window), text, all_cases=True
        )
        report.write_json(CheckRun(io.BytesIO(data), rulebook=RULEBOOK, catalogue=CATALOGUE, window=window), json)
        return (
            cases,
            summary.totals,
            [cap.as_dict() for cap in summary.caps],
            [cap.as_dict() for cap in summary.gop_caps],
            text.getvalue(),
            json.getvalue(),
        )
    finally:
        kvdt.ACCELERATED = default


def assert_same(data: bytes, window=None):
    c, python = outcome(data, True, window), outcome(data, False, window)
    assert c[0] == python[0]
    assert c[1:] == python[1:]
    return c


def test_a_file_of_the_bench_shape_checks_alike_in_c_and_python(tmp_path):
    path = tmp_path / "bench.con"
    _bench().generate(str(path), 1500)
    cases, totals, caps, gop_caps, *_reports = assert_same(path.read_bytes())
    # the shape the bench promises: several Scheine per patient, unknown GOPs, findings, R8 counters
    assert totals["scheine"] == 1500 and totals["cases"] < 1300
    assert totals["unchecked_services"]["count"] > 0 and sum(totals["findings"].values()) > 0
    assert gop_caps and caps


def test_a_small_grouping_window_checks_alike(tmp_path):
    path = tmp_path / "bench.con"
    _bench().generate(str(path), 400, seed=11)
    assert_same(path.read_bytes(), window=25)


def test_the_hand_written_complete_fixture_checks_alike():
    cases, totals, *_rest = assert_same(COMPLETE)
    assert totals["scheine"] >= 1 and cases


@given(scheine_strategy, st.booleans())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_written_file_checks_alike_in_c_and_python(scheine, lf):
    data = kvdt_bytes(scheine)
    if lf:
        data = data.replace(b"\r\n", b"\n")
    assert_same(data)


def test_a_behandlungsfall_of_three_doctors_with_01435_and_88220_checks_alike():
    scheine = [
        case((2, ["03000", "03230"]), (2, ["01435"], None, "123456640"), patient="Quast", birth="20170304"),
        case((5, ["01435"], None, "123456640"), (9, ["01450", "03230"]), patient="Quast", birth="20170304"),
        case((7, ["88220", "01435", "32025"], "0930"), (7, ["03002"], "1015"), patient="Quast", birth="20170304"),
    ]
    cases, *_rest = assert_same(kvdt_bytes(scheine))
    assert len(cases) == 1 and cases[0][1]


def test_the_grouping_bloom_filter_sets_the_same_bits_in_c_and_python():
    """Scheine of 300 patients, each patient's second Schein 150 Scheine after the first: with a
    window of 20 the second ones are checked apart, and both filters have the same bits."""
    scheine = []
    for number in range(300):
        scheine.append(case((2, ["03000"]), case_id=str(number), patient=f"P{number}", birth="19800101"))
        if number >= 150:
            later = number - 150
            scheine.append(case((9, ["03230"]), case_id=f"{later}b", patient=f"P{later}", birth="19800101"))
    groupers = [Grouper(20, accelerated=True), Grouper(20, accelerated=False)]
    grouped = [[result.case_id for result in grouper.group(scheine)] for grouper in groupers]
    assert grouped[0] == grouped[1]
    assert groupers[0].scattered == groupers[1].scattered >= 140  # a false alarm or two is allowed
    assert groupers[0]._bloom == groupers[1]._bloom and any(groupers[0]._bloom)
