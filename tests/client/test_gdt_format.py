"""The GDT line format both ways: whatever the bridge writes, in each of GDT's character sets, reads
back as the same fields with every line length and the record length (8100) right."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sprechzimmer_client import gdt

FIELD_IDS = st.from_regex(r"[0-7][0-9]{3}", fullmatch=True)  # not 8000/8100, which write() sets itself
TEXT = {
    "1": st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    "2": st.text(st.sampled_from("abcXYZ 0123.,-/äöüÄÖÜßé"), max_size=60),
    "3": st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=60).filter(
        lambda t: all(not 0x80 <= ord(c) < 0xA0 for c in t)
    ),
}


@given(
    st.sampled_from(sorted(TEXT)).flatmap(
        lambda cs: st.tuples(st.just(cs), st.lists(st.tuples(FIELD_IDS, TEXT[cs]), max_size=25))
    )
)
def test_written_records_read_back_the_same(case):
    charset, fields = case
    data = gdt.write("6310", [("9206", charset), *fields], charset)
    lines = data.split(b"\r\n")[:-1]
    assert all(int(line[:3]) == len(line) + 2 for line in lines)
    assert lines[1][3:7] == b"8100" and int(lines[1][7:]) == len(data)
    record = gdt.parse(data)
    assert record.kind == "6310" and record.charset == charset
    assert record.fields[2:] == fields
