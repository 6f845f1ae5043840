"""mkdocs build hooks: check widgets on lab pages, the labs index and generated reference pages.

``mkdocs.yml`` names this file under ``hooks:``. On every build it:

- reads every lab manifest (``labs/NN-slug/lab.yaml`` next to ``mkdocs.yml``);
- adds each lab page ``docs/labs/NN-slug.md`` to the Labs section of the navigation;
- turns each ``<!-- check: STEP_ID -->`` line of a lab page into a check widget, and fails the
  build, naming the page and the step, when the step is not in the lab's manifest, or naming the
  line when a marker would not render (:mod:`crosstrain.labs.markers`, the grammar the self-test
  uses too);
- adds a progress bar to the top of each lab page;
- replaces ``<!-- lab-cards -->`` on any page with cards of the labs (``<!-- lab-cards: TRACK -->``
  for one track, ``<!-- lab-cards: 90 -->`` for the labs whose id starts with ``90``);
- generates ``labs/index.md`` (cards), ``reference/cli.md``, ``reference/sandbox-services.md``
  and ``reference/settings.md`` unless those files exist in ``docs/``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from crosstrain.errors import CrosstrainError
from crosstrain.labs import markers
from crosstrain.site_build.pagecode import parse
from crosstrain.site_build.pages import (
    cli_reference,
    labs_index,
    ledger_reference,
    settings_reference,
)
from crosstrain.site_build.widgets import add_lab_header, check_widget, lab_cards, lab_title

LAB_PAGE = re.compile(r"^labs/(\d\d-[a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
CARDS = re.compile(r"^<!--\s*lab-cards(?::\s*(?P<selector>\S+?))?\s*-->[ \t]*$")
FENCE = re.compile(r"^[ \t]*(```|~~~)")
LABS_SECTION = "Labs"
log = logging.getLogger("mkdocs.plugins.crosstrain")

# Manifests of the current build, keyed by lab slug (filled by on_config).
manifests: dict = {}
# Code blocks on lab pages marked <!-- illustrative --> in this build, keyed by page.
illustrative: dict[str, int] = {}


def content_root(config) -> Path:
    """The folder holding ``mkdocs.yml`` (and ``labs/``)."""
    return Path(config.config_file_path).resolve().parent


def load_manifests(root: Path) -> dict:
    """Every lab manifest under ``root/labs``, keyed by slug; a bad manifest fails the build."""
    from crosstrain.labs.catalog import list_labs

    try:
        return {lab.slug: lab.manifest for lab in list_labs(root=root)}
    except CrosstrainError as err:
        raise PluginError(f"crosstrain: {err}") from None


# -- navigation --------------------------------------------------------------------------------
def on_config(config):
    manifests.clear()
    illustrative.clear()
    manifests.update(load_manifests(content_root(config)))
    add_lab_pages(config)
    return config


def lab_pages(docs_dir: Path) -> list[str]:
    """``labs/NN-slug.md`` for every lab page in ``docs_dir``, in number order."""
    pages = sorted((docs_dir / "labs").glob("*.md"))
    return [f"labs/{p.name}" for p in pages if LAB_PAGE.match(f"labs/{p.name}")]


def nav_targets(items) -> set[str]:
    """Every page path named anywhere in a nav (sub)tree."""
    found: set[str] = set()
    for item in items or []:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if isinstance(value, list):
            found |= nav_targets(value)
        elif isinstance(value, str):
            found.add(value)
    return found


def add_lab_pages(config) -> None:
    """Append the lab pages the nav does not name yet to its Labs section."""
    section = next(
        (item for item in config.nav or [] if isinstance(item, dict) and LABS_SECTION in item),
        None,
    )
    if section is None:
        return
    listed = nav_targets(config.nav)
    for page in lab_pages(Path(config.docs_dir)):
        if page in listed:
            continue
        slug = LAB_PAGE.match(page).group(1)
        manifest = manifests.get(slug)
        section[LABS_SECTION].append({lab_title(slug, manifest): page} if manifest else page)


# -- generated pages ---------------------------------------------------------------------------
def on_files(files, config):
    generated = {
        "labs/index.md": labs_index,
        "reference/cli.md": cli_reference,
        "reference/sandbox-services.md": ledger_reference,
        "reference/settings.md": settings_reference,
    }
    for src_uri, render in generated.items():
        if files.get_file_from_path(src_uri) is None:
            files.append(File.generated(config, src_uri, content=render(config)))
    return files


# -- lab pages ---------------------------------------------------------------------------------
def on_page_markdown(markdown, page, config, files):
    match = LAB_PAGE.match(page.file.src_uri)
    slug = match.group(1) if match else None
    manifest = manifests.get(slug) if slug else None
    where = f"docs/{page.file.src_uri}"
    found = markers.scan(markdown, where)
    if slug is not None and found.problems:
        raise PluginError(found.problems[0])
    at = {m.line - 1: m for m in found.markers}
    lines = markdown.split("\n")
    fenced = False
    for i, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
            continue
        cards = None if fenced else CARDS.match(line)
        if cards is not None:
            selector = cards.group("selector")
            lines[i] = lab_cards(manifests, selector, page.file.src_uri, Path(config.docs_dir))
    for i, marker in at.items():
        step = marker.step
        if manifest is None:
            why = f"labs/{slug}/lab.yaml does not exist" if slug else "it is not a lab page"
            raise PluginError(f"{where}: check marker for step {step!r}, but {why}")
        if step not in manifest.step_ids:
            raise PluginError(
                f"{where}: check marker names unknown step {step!r}; "
                f"lab {slug} has steps: {', '.join(manifest.step_ids)}"
            )
        lines[i] = "\n" + marker.indent + check_widget(slug, manifest.step(step)) + "\n"
    markdown = "\n".join(lines)
    if manifest is not None:
        count_page_code(markdown, where)
        markdown = add_lab_header(markdown, slug, manifest)
    return markdown


def count_page_code(markdown: str, where: str) -> None:
    """Fail on a lab-page block that can neither run nor says it is illustrative; count those that
    say so (CI runs every other block: ``tests/site_build/test_lab_pages_run.py``)."""
    page = parse(markdown, where)
    problems = page.problems()
    if problems:
        raise PluginError(problems[0])
    illustrative[where] = sum(block.illustrative for block in page.blocks)


def on_post_build(config):
    total = sum(illustrative.values())
    pages = ", ".join(f"{page} ({n})" for page, n in sorted(illustrative.items()) if n)
    log.info(
        "crosstrain: %d code block%s on lab pages marked illustrative (not run by CI)%s",
        total,
        "" if total == 1 else "s",
        f": {pages}" if pages else "",
    )
