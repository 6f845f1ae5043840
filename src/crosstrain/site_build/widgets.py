"""The HTML the build puts on pages: lab cards, check widgets, a lab page's header.

``crosstrain.js`` (``docs/assets``) makes the widgets work against the site's API.
"""

from __future__ import annotations

import html
import posixpath
from pathlib import Path

TRACK_NAMES = {
    "cloud-for-data-scientists": "Cloud for data scientists",
    "ml-for-cloud-engineers": "ML for cloud engineers",
}


def lab_title(slug: str, manifest) -> str:
    return f"{slug[:2]} · {manifest.title}"


def lab_cards(manifests: dict, selector: str | None, page_uri: str, docs_dir: Path) -> str:
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
    notebooks = manifest.submission.notebooks if manifest.submission else []
    notebook = notebooks[0] if notebooks else ""
    header = (
        f'\n<section class="ct-lab" data-search-exclude data-lab="{slug}" data-steps="{steps}" '
        f'data-points="{manifest.points}">'
        f'<div class="ct-progress" data-lab="{slug}"></div>'
        '<div class="ct-lab__actions">'
        '<button type="button" class="md-button ct-lab__check">Check all steps</button>'
        '<button type="button" class="md-button ct-lab__reset">Reset lab</button>'
        f'<a class="md-button ct-lab__jupyter" data-notebook="{html.escape(notebook)}" hidden>'
        "Open in JupyterLab</a>"
        '<a class="md-button ct-lab__terminal" hidden>Open a terminal</a>'
        "</div></section>\n"
    )
    first = markdown.lstrip("\n").split("\n", 1)
    if first[0].startswith("# "):
        return first[0] + "\n" + header + (first[1] if len(first) > 1 else "")
    return header + "\n" + markdown
