"""The KVDT reader: strictness, error messages with line and field, inference, round trip, fuzz.

Every test runs twice: on the C scanner (_kvdt.c) and on the Python loop it must equal."""

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sprechzimmer.billing.domain import kvdt
from sprechzimmer.billing.domain.kvdt import KvdtError, KvdtReader
from sprechzimmer.billing.domain.model import BillingError, Quarter
from sprechzimmer.billing.domain.run import CheckRun

from .builders import BSNR, LANR, case, kvdt_bytes, lines

HEADER = (("8000", "con0"), ("8000", "besa"), ("0201", BSNR))


@pytest.fixture(autouse=True, scope="module", params=["c", "python"])
def loop(request):
    """The module's tests on either line loop (module scope: hypothesis allows no function fixture)."""
    if request.param == "c" and kvdt._kvdt is None:
        pytest.skip("the C scanner is not built (no C compiler at install time)")
    default = kvdt.ACCELERATED
    kvdt.ACCELERATED = request.param == "c"
    yield request.param
    kvdt.ACCELERATED = default


def read(data: bytes, quarter=None):
    reader = KvdtReader(io.BytesIO(data), quarter)
    return list(reader), reader


def record(case_id="4711", *fields):
    return (("8000", "0101"), ("3000", case_id), ("3101", "Müller"), ("4101", "32024"), *fields)


def error_of(data: bytes) -> KvdtError:
    with pytest.raises(KvdtError) as info:
        read(data)
    return info.value


def test_reads_cases_services_and_fields():
    data = lines(*HEADER, *record("4711", ("5000", "20240702"), ("5001", "03000"), ("5005", "2"), ("5006", "0930"),
                                 ("5099", LANR), ("5000", "20240709"), ("5001", "01450"), ("5099", LANR)),
                 ("8000", "0104"), ("3000", "N1"), ("4101", "32024"), ("4239", "41"), ("4103", "2"),
                 ("5000", "20240703"), ("5001", "01210"), ("5099", LANR), ("8000", "con9"))
    (first, second), reader = read(data)
    assert reader.quarter == Quarter(2024, 3) and reader.bsnr == BSNR
    assert (first.case_id, first.record_type, first.lanr, first.bsnr) == ("4711", "0101", LANR, BSNR)
    assert [(s.gop, s.visit, s.multiplier, s.time) for s in first.services] == [
        ("03000", 1, 2, "09:30"), ("01450", 2, 1, None)]
    assert second.emergency and second.tss_acute


def test_lf_line_ends_are_accepted_like_crlf():
    data = lines(*HEADER, *record("1", ("5000", "20240702"), ("5001", "03000")))
    crlf, _ = read(data)
    lf, _ = read(data.replace(b"\r\n", b"\n"))
    assert crlf == lf and len(lf) == 1


@pytest.mark.parametrize("mutate, line, field, reason", [
    (lambda d: d.replace(b"0133000", b"0153000", 1), 5, "3000", "Längenangabe 15 passt nicht"),
    (lambda d: d.replace(b"20240702", b"20241302"), 9, "5000", "kein Datum"),
    (lambda d: d.replace(b"0145001", b"01450XX"), 10, None, "beginnt nicht mit Länge"),
    (lambda d: d.replace(b"03000", b"3000A"), 10, "5001", "keine GOP"),
    (lambda d: d.replace("Müller".encode("iso8859_15"), "Müller".encode("utf-8")), 6, "3101", "UTF-8"),
    (lambda d: d.replace(b"Erika", b"Er\x01ka"), 8, "3102", "Steuerzeichen"),
    (lambda d: d.replace(b"0133000", b"\r\n0133000", 1), 5, None, "leere Zeile"),
])
def test_errors_name_line_field_and_reason(mutate, line, field, reason):
    data = lines(*HEADER, *record("4711", ("3102", "Erika"), ("5000", "20240702"), ("5001", "03000"),
                                  ("5099", LANR)))
    error = error_of(mutate(data))
    assert reason in error.reason
    if line:
        assert error.line == line
    assert error.field == field
    assert str(error).startswith(f"Zeile {error.line}")


def test_a_line_without_cr_in_a_crlf_file_is_refused_even_if_its_length_fits_without():
    data = lines(*HEADER, *record("4711", ("5000", "20240702"), ("5001", "03000")))
    # "0145001" + "03000" + LF: declared 14 = 7 + 5 + CR LF, but only the LF is there; a prefix of 13
    # would fit the LF-only line, and reading it as CR LF would drop the last digit of the GOP.
    for prefix in (b"014", b"013"):
        error = error_of(data.replace(b"014500103000\r\n", prefix + b"500103000\n"))
        assert (error.line, error.field, error.reason) == (
            9, "5001", "Zeilenende LF ohne CR, die übrigen Zeilen enden mit CR LF.")


def test_service_fields_before_a_gop_and_missing_case_id_are_refused():
    assert error_of(lines(*HEADER, ("8000", "0101"), ("3000", "1"), ("5001", "03000"))).field == "5001"
    error = error_of(lines(*HEADER, ("8000", "0101"), ("4101", "32024"), ("8000", "con9")))
    assert (error.line, error.field) == (4, "3000")


def test_not_a_kvdt_file():
    for data in (b"", b"Name;Vorname\r\nA;B\r\n", b"%PDF-1.7 ...", "ÄÖÜ".encode("utf-16")):
        with pytest.raises(BillingError):
            list(CheckRun(io.BytesIO(data)).results())


def test_mixed_quarters_are_refused_unless_a_quarter_is_given():
    data = lines(*HEADER, *record("1"), ("8000", "0101"), ("3000", "2"), ("4101", "22024"))
    assert error_of(data).field == "4101"
    cases, reader = read(data, Quarter(2024, 3))
    assert len(cases) == 2 and reader.quarter == Quarter(2024, 3)


def test_last_line_without_line_end():
    data = lines(*HEADER, *record("1", ("5000", "20240702"), ("5001", "03000")))
    cases, _ = read(data[:-2])
    assert cases[0].services[0].gop == "03000"


def test_a_million_line_file_reads_in_blocks_without_losing_lines_at_block_edges():
    cases = [case((2, ["03000", "03040"], "09:00"), (9, ["01450"]), case_id=str(i)) for i in range(30000)]
    data = kvdt_bytes(cases)
    assert len(data) > 2 * (1 << 20)  # several blocks
    got, reader = read(data)
    assert got == cases and reader.lines == data.count(b"\n")


# -- properties -------------------------------------------------------------------------------------
gop_codes = st.sampled_from(["03000", "03040", "01450", "01435", "88220", "03230", "03330", "35150", "03020",
                             "13210", "99999"])
visits = st.lists(st.tuples(st.integers(1, 28), st.lists(gop_codes, min_size=1, max_size=5),
                            st.one_of(st.none(), st.sampled_from(["08:00", "12:30", "23:59"]))),
                  min_size=1, max_size=4)
cases_strategy = st.lists(
    st.builds(lambda vs, i, emergency: case(*vs, case_id=f"C{i}", record_type="0104" if emergency else "0101",
                                            subgroup="41" if emergency else None),
              visits, st.integers(0, 10**6), st.booleans()),
    max_size=8)


@given(cases_strategy)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_parsing_what_the_writer_wrote_gives_the_same_cases(cases):
    got, _ = read(kvdt_bytes(cases))
    assert got == cases


@given(st.binary(max_size=600))
@settings(max_examples=400)
def test_fuzz_arbitrary_bytes_raise_only_our_parse_error(data):
    try:
        run = CheckRun(io.BytesIO(data), quarter=Quarter(2024, 3))
        list(run.results())
        run.summary()
    except BillingError:
        pass


@given(st.lists(st.sampled_from(lines(*HEADER, *record("4711", ("5000", "20240702"), ("5001", "03000"),
                                                       ("5006", "0930"), ("5099", LANR))).splitlines(True)
                                + [b"0095001\r\n", b"0135005x\r\n", b"01380000103\r\n", b"\r\n", b"0174101ABCDE\r\n"]),
                max_size=30), st.integers(0, 40), st.binary(max_size=3))
@settings(max_examples=300)
def test_fuzz_shuffled_and_damaged_kvdt_lines(chunks, cut, junk):
    data = b"".join(chunks)
    data = data[:cut] + junk + data[cut:]
    try:
        list(KvdtReader(io.BytesIO(data)))
    except KvdtError as error:
        assert error.line >= 1 and str(error).startswith("Zeile")


# -- the two loops agree ------------------------------------------------------------------------------
def outcome(data: bytes, privacy=False):
    """What each loop makes of ``data``: its cases and BSNR/quarter/lines, or its error."""
    results = []
    for accelerated in (True, False):
        reader = KvdtReader(io.BytesIO(data), privacy=privacy, accelerated=accelerated)
        try:
            results.append((list(reader), reader.bsnr, reader.quarter, reader.lines))
        except KvdtError as error:
            results.append((error.line, error.field, error.reason))
    return results


damaged_lines = st.sampled_from(
    lines(*HEADER, *record("4711", ("4239", "41"), ("4103", "2"), ("5000", "20240702"), ("5001", "03000"),
                           ("5005", "2"), ("5006", "0930"), ("5098", BSNR), ("5099", LANR)), ("8000", "0104"),
          ("3000", " 9 "), ("0201", "123456789")).splitlines(True)
    + [b"0095001\r\n", b"0135005x\r\n", b"01380000103\r\n", b"\r\n", b"0174101ABCDE\r\n", b"0105099\r\n",
       b"0135006\r\n", b"0125000202\r\n", b"0145001ABC\r\n", b"0103000\r\n", b"0175098x23456789\r\n",
       b"0103101\r\n", b"008800\r\n", b"0135005 2\r\n", b"0114239\xe4\r\n"])


@pytest.mark.skipif(kvdt._kvdt is None, reason="the C scanner is not built")
@given(st.lists(damaged_lines, max_size=40), st.booleans(), st.booleans())
@settings(max_examples=400)
def test_the_c_scanner_and_the_python_loop_agree_on_any_mix_of_lines(chunks, lf_only, privacy):
    data = b"".join(chunks)
    if lf_only:
        data = data.replace(b"\r\n", b"\n")
    c, python = outcome(data, privacy)
    assert c == python


@pytest.mark.skipif(kvdt._kvdt is None, reason="the C scanner is not built")
def test_the_two_loops_agree_across_block_edges_and_count_lines_alike():
    cases = [case((2, ["03000", "03040"], "09:00"), (9, ["01450"]), case_id=str(i)) for i in range(30000)]
    data = kvdt_bytes(cases)
    c, python = outcome(data)
    assert c == python and c[0] == cases and c[3] == data.count(b"\n")
    # An error in the third block names its own line in both, also when blocks end in unused fields.
    data = data.replace(b"01380000101", b"0096001\r\n01380000101")
    at = data.index(b"\n", int(2.5 * (1 << 20))) + 1
    c, python = outcome(data[:at] + b"0095001\r\n" + data[at:])
    assert c == python and c[0] == data[:at].count(b"\n") + 1
