"""Subset Bootstrap Icons to the icons the site uses (README "Page weight").

Run once after using a new `bi-*` icon (needs requirements-dev.txt: fonttools, brotli):

    .venv/bin/python scripts/subset_icons.py

It scans templates/, static/js/ and marketplace/ (tests excluded) for `bi-<name>` classes and
writes, from the vendored static/vendor/bootstrap-icons/:
- static/vendor/bootstrap-icons/icons-used.txt: the icons, one per line;
- static/vendor/bootstrap-icons/fonts/bootstrap-icons-subset.woff2: only their glyphs;
- static/css/icons.css: the @font-face, the base rule and one rule per icon.
marketplace/tests/test_icons.py fails when a template uses an icon missing from the subset.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor" / "bootstrap-icons"
SOURCES = [
    (ROOT / "templates", "*.html"),
    (ROOT / "static" / "js", "*.js"),
    (ROOT / "marketplace", "*.py"),
    (ROOT / "marketplace", "*.html"),
]
ICON_RULE = re.compile(r'\.bi-([a-z0-9-]+)::before \{ content: "\\([0-9a-f]+)"; \}')
USED = re.compile(r"\bbi-([a-z0-9]+(?:-[a-z0-9]+)*)")


def vendor_icons() -> dict[str, int]:
    """Every icon of the vendored CSS: name -> code point."""
    css = (VENDOR / "bootstrap-icons.css").read_text()
    return {name: int(code, 16) for name, code in ICON_RULE.findall(css)}


def used_icons(known: dict[str, int]) -> list[str]:
    """The icon names used by the site's own files (tests are not the site)."""
    found: set[str] = set()
    for folder, pattern in SOURCES:
        for path in folder.rglob(pattern):
            if "tests" in path.relative_to(ROOT).parts:
                continue
            found.update(name for name in USED.findall(path.read_text()) if name in known)
    return sorted(found)


def icons_css(names: list[str], known: dict[str, int]) -> str:
    css = (VENDOR / "bootstrap-icons.css").read_text()
    base = css[css.index(".bi::before,") : css.index("}", css.index(".bi::before,")) + 1]
    rules = "\n".join(f'.bi-{name}::before {{ content: "\\{known[name]:x}"; }}' for name in names)
    return (
        "/* Bootstrap Icons v1.13.1 (MIT, static/vendor/bootstrap-icons/LICENSE), subset to the\n"
        "   icons in icons-used.txt by scripts/subset_icons.py: do not edit by hand. */\n"
        "@font-face {\n"
        "  font-display: block;\n"
        '  font-family: "bootstrap-icons";\n'
        '  src: url("../vendor/bootstrap-icons/fonts/bootstrap-icons-subset.woff2") format("woff2");\n'
        "}\n\n" + base + "\n" + rules + "\n"
    )


def main() -> None:
    from fontTools import subset

    known = vendor_icons()
    names = used_icons(known)
    (VENDOR / "icons-used.txt").write_text("\n".join(names) + "\n")
    (ROOT / "static" / "css" / "icons.css").write_text(icons_css(names, known))
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = []
    options.name_IDs = ["*"]  # keep the copyright and licence names
    font = subset.load_font(str(VENDOR / "fonts" / "bootstrap-icons.woff2"), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[known[name] for name in names])
    subsetter.subset(font)
    out = VENDOR / "fonts" / "bootstrap-icons-subset.woff2"
    subset.save_font(font, str(out), options)
    print(
        f"{len(names)} icons; {out.relative_to(ROOT)}: {out.stat().st_size} bytes", file=sys.stderr
    )


if __name__ == "__main__":
    main()
