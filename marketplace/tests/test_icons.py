"""Issue 13, item 12: the icon font is subset to the icons the site uses
(scripts/subset_icons.py); every `bi-*` class in the templates must be in the subset."""

import importlib.util
from pathlib import Path

import pytest
from django.conf import settings
from fontTools.ttLib import TTFont

ROOT = Path(settings.BASE_DIR)
spec = importlib.util.spec_from_file_location("subset_icons", ROOT / "scripts" / "subset_icons.py")
subset_icons = importlib.util.module_from_spec(spec)
spec.loader.exec_module(subset_icons)


def test_every_icon_the_site_uses_is_in_the_subset_css_list_and_font():
    known = subset_icons.vendor_icons()
    used = subset_icons.used_icons(known)
    listed = (subset_icons.VENDOR / "icons-used.txt").read_text().split()
    css = (ROOT / "static" / "css" / "icons.css").read_text()
    font = TTFont(subset_icons.VENDOR / "fonts" / "bootstrap-icons-subset.woff2")
    glyphs = font.getBestCmap()

    assert used, "no icon found: the scan is broken"
    missing = [name for name in used if name not in listed]
    assert not missing, f"run scripts/subset_icons.py: {missing} are not in the subset"
    for name in used:
        assert f".bi-{name}::before" in css
        assert known[name] in glyphs, name


def test_the_subset_is_up_to_date_and_small():
    known = subset_icons.vendor_icons()
    css = (ROOT / "static" / "css" / "icons.css").read_text()

    assert css == subset_icons.icons_css(subset_icons.used_icons(known), known)
    assert (subset_icons.VENDOR / "fonts" / "bootstrap-icons-subset.woff2").stat().st_size < 20_000


@pytest.mark.django_db
def test_the_pages_load_the_subset_not_the_whole_icon_font(client):
    page = client.get("/").content.decode()

    assert "/static/css/icons.css" in page
    assert "bootstrap-icons.min.css" not in page


def test_an_icon_used_only_in_a_template_is_found(tmp_path, monkeypatch):
    (tmp_path / "page.html").write_text('<i class="bi bi-emoji-smile"></i> bi-not-an-icon')
    monkeypatch.setattr(subset_icons, "SOURCES", [(tmp_path, "*.html")])
    monkeypatch.setattr(subset_icons, "ROOT", tmp_path)

    assert subset_icons.used_icons(subset_icons.vendor_icons()) == ["emoji-smile"]
