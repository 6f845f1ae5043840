"""The build hooks: check widgets validated against manifests, lab cards, generated pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.web.site import build_site

LAB = "99-web-demo"  # the lab conftest.py writes


@pytest.fixture
def make_site(tmp_path, content_factory):
    """Build a fresh copy of the demo content whose lab page is ``page``; the site folder."""

    def build(page: str) -> Path:
        root = content_factory(tmp_path / "content", page)
        return build_site(tmp_path / "site", root=root)

    return build


def test_unknown_step_fails_the_build_naming_page_and_step(make_site):
    with pytest.raises(CrosstrainError) as err:
        make_site("# Demo\n\n<!-- check: make-bucket -->\n\n<!-- check: make-bukcet -->\n")
    message = str(err.value)
    assert f"docs/labs/{LAB}.md" in message
    assert "'make-bukcet'" in message
    assert "make-bucket, write-notes" in message


@pytest.mark.parametrize(
    "page, why",
    [
        ("# Demo\n\nDone? <!-- check: make-bucket -->\n", "must be alone on its line"),
        ("# Demo\n\n```python\nx = 1\n<!-- check: make-bucket -->\n```\n", "fenced code block"),
    ],
)
def test_a_marker_that_would_not_render_fails_the_build(make_site, page, why):
    with pytest.raises(CrosstrainError, match=why):
        make_site(page)


def test_marker_on_a_page_without_a_manifest_fails(tmp_path, content_factory):
    root = content_factory(tmp_path / "content")
    (root / "docs" / "labs" / "98-no-manifest.md").write_text("# X\n\n<!-- check: a -->\n")
    with pytest.raises(CrosstrainError, match="labs/98-no-manifest/lab.yaml does not exist"):
        build_site(tmp_path / "site", root=root)


def test_each_marker_becomes_a_widget_and_fenced_markers_stay_text(built_site):
    page = (built_site / "labs" / LAB / "index.html").read_text()
    assert page.count('class="ct-check"') == 2
    assert 'data-step="make-bucket" data-points="2"' in page
    assert "&lt;!-- check: not-a-step-inside-a-fence --&gt;" in page


def test_lab_page_gets_its_progress_header(built_site):
    page = (built_site / "labs" / LAB / "index.html").read_text()
    assert f'data-lab="{LAB}" data-steps="make-bucket write-notes"' in page


def test_lab_pages_are_added_to_the_labs_navigation(built_site):
    home = (built_site / "index.html").read_text()
    assert f'href="labs/{LAB}/"' in home
    assert "99 · Web demo" in home


def test_labs_index_has_a_card_per_lab_with_its_facts(built_site):
    index = (built_site / "labs" / "index.html").read_text()
    assert f'class="ct-card" data-lab="{LAB}"' in index
    assert f'href="{LAB}/"' in index
    facts = ("Cloud for data scientists", "5 min", "intro", "3 points", "00-sandbox-orientation")
    for fact in facts:
        assert fact in index


def test_ledger_page_lists_every_service_of_the_ledger(built_site):
    from crosstrain.sandbox.core.ledger import ledger

    page = (built_site / "reference" / "sandbox-services" / "index.html").read_text()
    for row in ledger():
        assert f"<code>{row['service']}</code>" in page


def test_cli_reference_shows_every_command_help(built_site):
    page = (built_site / "reference" / "cli" / "index.html").read_text()
    assert "crosstrain up" in page and "--jupyter" in page
    assert "crosstrain sandbox services" in page


def test_widgets_are_left_out_of_the_search_index(built_site):
    import json

    index = json.loads((built_site / "search" / "search_index.json").read_text())
    text = " ".join(d["text"] for d in index["docs"] if d["location"].startswith(f"labs/{LAB}/"))
    assert "Make a bucket." in text
    assert "Skip" not in text and "Reset lab" not in text


def test_an_unmarked_block_that_cannot_run_fails_the_build(make_site):
    page = "# Demo\n\n```yaml\na: 1\n```\n\n<!-- check: make-bucket -->\n"
    with pytest.raises(CrosstrainError, match=r"a ```yaml block cannot run"):
        make_site(page)


def test_a_marked_illustrative_block_builds(make_site):
    page = "# Demo\n\n<!-- illustrative: a file -->\n```yaml\na: 1\n```\n"
    assert (make_site(page) / "labs" / LAB / "index.html").is_file()
