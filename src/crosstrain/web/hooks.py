"""mkdocs build hooks: check widgets on lab pages, the labs index and generated reference pages.

``mkdocs.yml`` names this file under ``hooks:``. On every build it:

- reads every lab manifest (``labs/NN-slug/lab.yaml`` next to ``mkdocs.yml``);
- adds each lab page ``docs/labs/NN-slug.md`` to the Labs section of the navigation;
- turns each ``<!-- check: STEP_ID -->`` line of a lab page into a check widget, and fails the
  build, naming the page and the step, when the step is not in the lab's manifest;
- adds a progress bar to the top of each lab page;
- replaces ``<!-- lab-cards -->`` on any page with cards of the labs (``<!-- lab-cards: TRACK -->``
  for one track, ``<!-- lab-cards: 90 -->`` for the labs whose id starts with ``90``);
- generates ``labs/index.md`` (cards), ``reference/cli.md`` and ``reference/sandbox-services.md``
  unless those files exist in ``docs/``.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

from crosstrain.errors import CrosstrainError

LAB_PAGE = re.compile(r"^labs/(\d\d-[a-z0-9]+(?:-[a-z0-9]+)*)\.md$")
MARKER = re.compile(r"^(?P<indent>[ \t]*)<!--\s*check:\s*(?P<step>\S*?)\s*-->[ \t]*$")
CARDS = re.compile(r"^<!--\s*lab-cards(?::\s*(?P<selector>\S+?))?\s*-->[ \t]*$")
FENCE = re.compile(r"^[ \t]*(```|~~~)")
LABS_SECTION = "Labs"
TRACK_NAMES = {
    "cloud-for-data-scientists": "Cloud for data scientists",
    "ml-for-cloud-engineers": "ML for cloud engineers",
}

# Manifests of the current build, keyed by lab slug (filled by on_config).
manifests: dict = {}


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


def lab_title(slug: str, manifest) -> str:
    return f"{slug[:2]} · {manifest.title}"


# -- generated pages ---------------------------------------------------------------------------
def on_files(files, config):
    generated = {
        "labs/index.md": labs_index,
        "reference/cli.md": cli_reference,
        "reference/sandbox-services.md": ledger_reference,
    }
    for src_uri, render in generated.items():
        if files.get_file_from_path(src_uri) is None:
            files.append(File.generated(config, src_uri, content=render(config)))
    return files


def labs_index(config) -> str:
    """The Labs landing page: one card per lab (filled in by :func:`lab_cards`)."""
    return "\n".join(
        [
            "# Labs",
            "",
            "Each lab is a page of steps with a **Check** button per step. Start with `00` if "
            "the sandbox is new to you; each card says what the lab needs first.",
            "",
            "<!-- lab-cards -->",
            "",
        ]
    )


def lab_cards(selector: str | None, page_uri: str, docs_dir: Path) -> str:
    """Cards for the labs of track ``selector`` (or whose id starts with it; all when None)."""
    chosen = [
        (slug, m)
        for slug, m in manifests.items()
        if not selector or selector in m.tracks or slug.startswith(selector)
    ]
    if not chosen:
        return "*No lab of this kind is ready yet.*"
    here = posixpath.dirname(page_uri)
    lines = ['<div class="ct-cards" markdown>', ""]
    for slug, manifest in chosen:
        has_page = (docs_dir / "labs" / f"{slug}.md").is_file()
        link = posixpath.relpath(f"labs/{slug}.md", here or ".") if has_page else None
        lines += lab_card(slug, manifest, link)
    return "\n".join([*lines, "</div>", ""])


def lab_card(slug: str, manifest, link: str | None) -> list[str]:
    title = f"[{lab_title(slug, manifest)}]({link})" if link else lab_title(slug, manifest)
    tracks = ", ".join(TRACK_NAMES.get(t, t) for t in manifest.tracks)
    prereqs = ", ".join(manifest.prerequisites) or "none"
    attrs = f'class="ct-card" data-lab="{slug}" data-tracks="{" ".join(manifest.tracks)}"'
    return [
        f"<div {attrs} markdown>",
        "",
        f"### {title}",
        "",
        html.escape(manifest.summary),
        "",
        f'<p class="ct-card__facts"><span>{tracks}</span> · <span>{manifest.minutes} min</span>'
        f" · <span>{manifest.level}</span> · <span>{manifest.points} points</span></p>",
        f'<p class="ct-card__prereqs">Do first: {html.escape(prereqs)}</p>',
        f'<div class="ct-progress ct-progress--small" data-lab="{slug}"></div>',
        "",
        "</div>",
        "",
    ]


def ledger_reference(config) -> str:
    """The sandbox services ledger as a table, generated from ``crosstrain.sandbox.core.ledger``."""
    from crosstrain.sandbox.core.ledger import ledger

    lines = [
        "# Sandbox services",
        "",
        "What the local sandbox does for each AWS service (generated from "
        "`crosstrain.sandbox.core.ledger`; `crosstrain sandbox services` prints the same table).",
        "",
        "- **real**: crosstrain runs it for real: code executes, queries compute answers.",
        "- **moto**: moto emulates the control plane: resources are stored and described.",
        "- **stub**: calls succeed but nothing happens behind them; do not rely on the result.",
        "",
        "| service | mode | note |",
        "|---|---|---|",
    ]
    for row in ledger():
        note = row["note"].replace("|", "\\|")
        lines.append(f"| `{row['service']}` | {row['mode']} | {note} |")
    return "\n".join(lines) + "\n"


def cli_reference(config) -> str:
    """Every `crosstrain` command's ``--help``, generated from the click command tree."""
    import click

    from crosstrain.cli import main

    lines = [
        "# Command line",
        "",
        "Every command of `crosstrain`, as its `--help` prints it (generated from the code).",
        "",
    ]

    def visit(command, name: str, parent) -> None:
        ctx = click.Context(command, info_name=name, parent=parent, terminal_width=100)
        lines.extend([f"## `{ctx.command_path}`", "", "```text", command.get_help(ctx), "```", ""])
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                visit(command.get_command(ctx, sub), sub, ctx)

    visit(main, "crosstrain", None)
    return "\n".join(lines)


# -- lab pages ---------------------------------------------------------------------------------
def on_page_markdown(markdown, page, config, files):
    match = LAB_PAGE.match(page.file.src_uri)
    slug = match.group(1) if match else None
    manifest = manifests.get(slug) if slug else None
    where = f"docs/{page.file.src_uri}"
    lines = markdown.split("\n")
    fenced = False
    for i, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
            continue
        cards = None if fenced else CARDS.match(line)
        if cards is not None:
            selector = cards.group("selector")
            lines[i] = lab_cards(selector, page.file.src_uri, Path(config.docs_dir))
            continue
        marker = None if fenced else MARKER.match(line)
        if marker is None:
            continue
        step = marker.group("step")
        if manifest is None:
            why = f"labs/{slug}/lab.yaml does not exist" if slug else "it is not a lab page"
            raise PluginError(f"{where}: check marker for step {step!r}, but {why}")
        if step not in manifest.step_ids:
            raise PluginError(
                f"{where}: check marker names unknown step {step!r}; "
                f"lab {slug} has steps: {', '.join(manifest.step_ids)}"
            )
        lines[i] = "\n" + marker.group("indent") + check_widget(slug, manifest.step(step)) + "\n"
    markdown = "\n".join(lines)
    if manifest is not None:
        markdown = add_lab_header(markdown, slug, manifest)
    return markdown


def check_widget(slug: str, step) -> str:
    """The widget's HTML on one line (crosstrain.js makes it work).

    The outer element is a ``<section>`` because Material's search indexer stops excluding an
    element (``data-search-exclude``) at the first closing tag of the same name inside it.
    """
    points = f"{step.points} point{'s' if step.points != 1 else ''}"
    return (
        f'<section class="ct-check" data-search-exclude data-lab="{slug}" data-step="{step.id}" '
        f'data-points="{step.points}">'
        f'<div class="ct-check__head"><span class="ct-check__title">Check: '
        f"{html.escape(step.title)}</span>"
        f'<span class="ct-check__points">{points}</span></div>'
        '<div class="ct-check__actions">'
        '<button type="button" class="md-button md-button--primary ct-check__run">Check</button>'
        '<button type="button" class="md-button ct-check__skip">Skip</button></div>'
        '<div class="ct-check__result" role="status" aria-live="polite" hidden></div>'
        "</section>"
    )


def add_lab_header(markdown: str, slug: str, manifest) -> str:
    """Put the lab's progress bar (and its Check all / Reset buttons) under the first heading."""
    steps = " ".join(manifest.step_ids)
    header = (
        f'\n<section class="ct-lab" data-search-exclude data-lab="{slug}" data-steps="{steps}" '
        f'data-points="{manifest.points}">'
        f'<div class="ct-progress" data-lab="{slug}"></div>'
        '<div class="ct-lab__actions">'
        '<button type="button" class="md-button ct-lab__check">Check all steps</button>'
        '<button type="button" class="md-button ct-lab__reset">Reset lab</button>'
        '<a class="md-button ct-lab__jupyter" hidden>Open in JupyterLab</a>'
        "</div></section>\n"
    )
    first = markdown.lstrip("\n").split("\n", 1)
    if first[0].startswith("# "):
        return first[0] + "\n" + header + (first[1] if len(first) > 1 else "")
    return header + "\n" + markdown
