"""The bench scripts are run by hand, not by the suite, so a moved name breaks them unnoticed (the
signalling bench imported TOKEN_SALT from a module it had left). Every name a bench imports from
the project must exist where the bench looks for it."""

import ast
import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def project_imports():
    for script in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module
                and node.module.split(".")[0].startswith("sprechzimmer")
            ):
                for alias in node.names:
                    yield pytest.param(node.module, alias.name, id=f"{script.name}:{node.module}.{alias.name}")


@pytest.mark.parametrize(("module", "name"), list(project_imports()))
def test_every_name_a_bench_imports_exists(module, name):
    imported = importlib.import_module(module)
    assert hasattr(imported, name) or importlib.util.find_spec(f"{module}.{name}") is not None, (
        f"{module} has no {name}"
    )


def readme_bench_commands():
    readme = (BENCH.parent / "README.md").read_text()
    for line in readme.splitlines():
        if line.startswith(".venv/bin/python bench/"):
            command = line.split("#")[0].split()
            yield pytest.param(command[1], [word for word in command[2:] if word.startswith("--")], id=command[1])


@pytest.mark.parametrize(("script", "options"), list(readme_bench_commands()))
def test_every_bench_command_in_the_readme_names_a_script_and_options_it_has(script, options):
    """The README's bench lines work as written: the script is there and takes every option shown."""
    import subprocess
    import sys

    assert (BENCH.parent / script).is_file()
    shown = subprocess.run(
        [sys.executable, script, "--help"], cwd=BENCH.parent, capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    for option in options:
        assert option in shown.stdout, f"{script} has no {option}"
