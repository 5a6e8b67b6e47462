"""The browser's ES modules: every `<script src>` of a template and every `import` of a module names a
file that exists (a wrong path is a 404 and a page without its script), and the layers stay apart
(docs/architecture.md, "Browser"): `lib/` has no page DOM and no page wiring, `ui/` holds the DOM
pieces several pages share, `pages/` one entry module per page that only templates load."""

import re
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "sprechzimmer"
STATIC = SRC / "static"
JS = STATIC / "sprechzimmer" / "js"
LAYERS = ("lib", "ui", "pages")
#: Static imports (`import … from "x"`, `import "x"`, `export … from "x"`), dynamic `import("x")`
#: and JSDoc's `import("x").Type`: each must name a file.
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']""")
SCRIPT = re.compile(r"""<script\b[^>]*\bsrc=["']\{%\s*static\s+["']([^"']+)["']\s*%\}["']""")


def modules() -> list[Path]:
    return sorted(JS.rglob("*.js"))


def layer(path: Path) -> str:
    return path.relative_to(JS).parts[0]


def imports(path: Path) -> list[str]:
    return IMPORT.findall(path.read_text())


def scripts() -> dict[str, list[Path]]:
    """Every static path a template loads as a script, with the templates that load it."""
    found: dict[str, list[Path]] = {}
    for template in SRC.rglob("templates/**/*.html"):
        for static_path in SCRIPT.findall(template.read_text()):
            found.setdefault(static_path, []).append(template)
    return found


def test_every_module_sits_in_a_layer_and_is_type_checked():
    """`// @ts-check` also makes an editor without jsconfig.json check the module (scripts/lint-js
    checks them all in CI)."""
    assert modules()
    for path in modules():
        assert len(path.relative_to(JS).parts) == 2 and layer(path) in LAYERS, path
        assert path.read_text().startswith("// @ts-check\n"), path


def test_every_script_tag_names_a_page_module_that_exists():
    loaded = scripts()
    assert "sprechzimmer/js/pages/accountforms.js" in loaded
    for static_path, templates in loaded.items():
        target = STATIC / static_path
        assert target.is_file(), (static_path, templates)
        if target.suffix == ".js":
            assert target.parent == JS / "pages", (static_path, "templates load page modules only")


def test_every_page_module_is_loaded_by_a_template():
    loaded = {STATIC / p for p in scripts()}
    for path in (JS / "pages").glob("*.js"):
        assert path in loaded, f"{path.name} is loaded by no template"


def test_every_import_resolves_to_a_module_of_an_allowed_layer():
    allowed = {"lib": {"lib"}, "ui": {"lib", "ui"}, "pages": {"lib", "ui"}}
    for path in modules():
        for specifier in imports(path):
            assert specifier.startswith(("./", "../")), (path, specifier, "relative paths only: no host, no bundler")
            target = (path.parent / specifier).resolve()
            assert target.is_file(), (path, specifier)
            assert target.is_relative_to(JS), (path, specifier)
            assert layer(target) in allowed[layer(path)], (path, specifier)


def test_library_modules_touch_no_page():
    """Library code reads at most the base template's <meta> tags (through lib/meta.js); elements,
    events and text of a page belong to its page module."""
    page_access = re.compile(r"\bdocument\.|\bwindow\.|\.querySelector|getElementById|addEventListener")
    for path in (JS / "lib").glob("*.js"):
        if path.name == "meta.js":
            continue
        code = "\n".join(
            line for line in path.read_text().splitlines() if not line.lstrip().startswith(("//", "*", "/*"))
        )
        assert not page_access.search(code), (path, page_access.search(code).group(0))
