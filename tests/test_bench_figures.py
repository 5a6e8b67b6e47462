"""The benches print their figures for people, so in German (1.234,56 · 14,29 s · 8 %) through the
one formatter, ``sprechzimmer.core.formats``. A format spec that writes a float, thousands or a
percentage (``{x:.2f}``, ``{n:,}``, ``{r:.0%}``, ``{v:,.0f}``, ``{x:g}``) prints English figures;
padding (``{label:>17}``, ``{'':21}``), zero-filled integers (``{m:02d}``) and date specs
(``{day:%d.%m.%Y}``) are fine. No Django, no database: only the sources are read."""

import ast
import re
import string
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

#: The standard format spec mini-language: [[fill]align][sign][z][#][0][width][grouping][.precision][type].
STANDARD_SPEC = re.compile(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)(?P<grouping>[,_])?(?P<precision>\.\d+)?(?P<type>[bcdeEfFgGnosxX%])?",
    re.DOTALL,
)
#: printf style: "%.2f" % x, "%5.1f%%" % x
PRINTF_FLOAT = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?[eEfFgG]")


def english_figure(spec: str) -> bool:
    """Whether the format spec writes a number in English notation (decimal point, "," or "_" for
    thousands, or a percentage): a float type, a precision, or grouping."""
    match = STANDARD_SPEC.fullmatch(spec)
    if match is None:
        return False  # not a number spec: a strftime pattern, or a type's own __format__
    return bool(match["grouping"] or match["precision"] or (match["type"] or "") in set("eEfFgGn%"))


def _spec_text(spec: ast.JoinedStr) -> str:
    """The spec of an f-string field as written; a nested field ``{width}`` stands in as 9."""
    return "".join(part.value if isinstance(part, ast.Constant) else "9" for part in spec.values)


def english_figures(source: str, filename: str = "<bench>") -> list[str]:
    """Every place in a Python source that formats a number the English way, as
    "file:line: snippet" (f-string fields, format(x, spec), "...{:spec}...".format(), "%.1f" % x)."""
    lines = source.splitlines()
    found = []

    def report(line: int, snippet: str) -> None:
        found.append((line, f"{filename}:{line}: {snippet}"))

    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.JoinedStr):
            # Python 3.11 gives the fields of an f-string spread over lines the string's first line:
            # find each offending spec in the string's own text, one occurrence after the other.
            text = "\n".join(lines[node.lineno - 1 : node.end_lineno])
            start = {}
            for value in node.values:
                if not (isinstance(value, ast.FormattedValue) and value.format_spec is not None):
                    continue
                spec = _spec_text(value.format_spec)
                if not english_figure(spec):
                    continue
                needle = f":{spec}}}"
                at = text.find(needle, start.get(needle, node.col_offset))
                line = node.lineno if at < 0 else node.lineno + text.count("\n", 0, at)
                start[needle] = at + 1 if at >= 0 else start.get(needle, node.col_offset)
                report(line, f"{{{ast.unparse(value.value)}:{spec}}}")
        elif isinstance(node, ast.Call):
            function = node.func
            if (  # format(value, ".2f")
                isinstance(function, ast.Name)
                and function.id == "format"
                and len(node.args) == 2
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and english_figure(node.args[1].value)
            ):
                report(node.lineno, ast.unparse(node))
            elif (  # "{:.2f}".format(value)
                isinstance(function, ast.Attribute)
                and function.attr == "format"
                and isinstance(function.value, ast.Constant)
                and isinstance(function.value.value, str)
            ):
                try:
                    fields = list(string.Formatter().parse(function.value.value))
                except ValueError:
                    continue
                for _, name, spec, _ in fields:
                    if name is not None and spec and english_figure(spec):
                        report(node.lineno, f"{{{name}:{spec}}}")
        elif (  # "%.2f" % value
            isinstance(node, ast.BinOp)
            and isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            for match in PRINTF_FLOAT.finditer(node.left.value.replace("%%", "")):
                report(node.lineno, match.group())
    return [hit for _, hit in sorted(found, key=lambda item: item[0])]


@pytest.mark.parametrize(
    "spec",
    [".2f", ".1f", ".0f", ">7.1f", ">8.1f", ",", ",d", ",.0f", ">12,", "_", ".0%", "%", "g", ".3", "e", "n"],
)
def test_english_number_specs_are_caught(spec):
    source = f"print(f'figure {{x:{spec}}} here')\n"
    assert english_figures(source, "sample.py") == [f"sample.py:1: {{x:{spec}}}"]


@pytest.mark.parametrize("spec", [">17", "21", "<19", "02d", ">4", "^10", "%d.%m.%Y", "%H:%M", "s", "d", "x"])
def test_padding_integers_and_dates_pass(spec):
    assert english_figures(f"print(f'figure {{x:{spec}}} here')\n") == []


def test_the_line_of_each_figure_in_a_string_spread_over_lines():
    source = 'print(\n    f"a {a:>4} b "\n    f"c {b:.2f} d {c:,}"\n    f" e {d:.2f}"\n)\nx = format(y, ".1f")\nz = "%.1f" % y\n'
    assert english_figures(source, "s.py") == [
        "s.py:3: {b:.2f}",
        "s.py:3: {c:,}",
        "s.py:4: {d:.2f}",
        "s.py:6: format(y, '.1f')",
        "s.py:7: %.1f",
    ]


def test_the_benches_print_figures_through_the_formatter():
    scripts = sorted(BENCH.glob("*.py"))
    assert scripts, f"no benches in {BENCH}"
    found = [hit for script in scripts for hit in english_figures(script.read_text(), f"bench/{script.name}")]
    assert not found, (
        "English figures in the benches: print them with sprechzimmer.core.formats.number (share for a "
        "fraction as a percentage):\n" + "\n".join(found)
    )
