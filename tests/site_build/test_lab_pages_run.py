"""Every code block on every lab page runs, in order, against a fresh sandbox, in the state the
page says (after the previous steps' solves): a doctest for pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from crosstrain.labs.catalog import get_lab
from crosstrain.site_build.pagecode import parse, run_page

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
PAGES = sorted(p for p in (REPO / "docs" / "labs").glob("[0-9][0-9]-*.md"))


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_every_block_of_the_lab_page_runs(path, monkeypatch):
    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(REPO))
    page = parse(path.read_text(), path.relative_to(REPO))
    assert page.problems() == []
    result = run_page(get_lab(path.stem), page)
    assert result.failure is None, result.failure
    assert result.ran + result.illustrative == len(page.blocks)
    assert result.ran > 0
