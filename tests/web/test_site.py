"""Building the site: strict, cached until a source changes, one-line errors."""

from __future__ import annotations

import os

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.web.site import STAMP, build_site, is_stale


def test_fresh_site_is_not_rebuilt(built_site, content):
    build_site(built_site, root=content)  # fresh now, whatever changed since the session began
    before = (built_site / STAMP).stat().st_mtime_ns
    assert build_site(built_site, root=content) == built_site
    assert (built_site / STAMP).stat().st_mtime_ns == before


def test_a_changed_source_makes_the_site_stale(built_site, content):
    page = content / "docs" / "index.md"
    build_site(built_site, root=content)
    assert not is_stale(built_site, content)
    later = (built_site / STAMP).stat().st_mtime + 5
    os.utime(page, (later, later))
    try:
        assert is_stale(built_site, content)
    finally:
        os.utime(page, (later - 10, later - 10))


def test_broken_link_fails_the_strict_build_in_one_error(tmp_path, content):
    import shutil

    root = tmp_path / "content"
    shutil.copytree(content, root)
    (root / "docs" / "index.md").write_text("# Home\n\n[gone](missing.md)\n")
    with pytest.raises(CrosstrainError, match="missing.md"):
        build_site(tmp_path / "site", root=root)


def test_missing_config_names_it(tmp_path):
    (tmp_path / "labs").mkdir()
    with pytest.raises(CrosstrainError, match="mkdocs.yml"):
        build_site(tmp_path / "site", root=tmp_path)


@pytest.mark.slow
def test_the_course_site_builds_strict(repo_root, tmp_path):
    site = build_site(tmp_path / "site", root=repo_root)
    assert (site / "index.html").is_file()
    assert (site / "labs" / "index.html").is_file()
    assert (site / "reference" / "sandbox-services" / "index.html").is_file()
