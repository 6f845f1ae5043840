"""Intake: make sure a submission holds this lab's work before it is graded.

A submission's files are laid over the lab's starter kit, so a missing notebook would be graded
as the untouched starter ("cell 4 raised NotImplementedError", 0 points) without a word. Intake
stops that:

- a notebook under another name (``orientation (1).ipynb``, what LMS bulk downloads make) is
  recognised by its content — the starter's cell ids and nbgrader ``grade_id``\\ s — and renamed;
- a notebook of another lab, or no notebook at all, rejects the submission with a message that
  says what was found.

It also says which steps the learner attempted (their solution cell differs from the starter's),
so the item analysis can tell "not attempted" from "attempted and wrong".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crosstrain.grading.unpack import JUNK, Rejected

if TYPE_CHECKING:
    from crosstrain.labs.catalog import Lab

MATCH = 0.5  # share of a starter's cell ids a notebook must carry to be that starter's work
SHOWN = 5  # files named in a rejection message


@dataclass
class Intake:
    """What intake did: renamed files, notes for the feedback, steps the learner attempted."""

    renamed: dict[str, str] = field(default_factory=dict)  # found name -> expected name
    notes: list[str] = field(default_factory=list)
    attempted: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True)
class Signature:
    """What identifies a lab's notebook: its cell ids and its steps' nbgrader grade ids."""

    lab: str
    name: str
    cell_ids: frozenset[str]
    grade_ids: frozenset[str]
    step_sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def share(self, nb: dict) -> float:
        """How much of this signature ``nb`` carries (0 to 1)."""
        ids = {c.get("id") for c in nb.get("cells", [])} - {None}
        grades = set(grade_ids(nb))
        by_ids = len(ids & self.cell_ids) / len(self.cell_ids) if self.cell_ids else 0.0
        by_grades = len(grades & self.grade_ids) / len(self.grade_ids) if self.grade_ids else 0.0
        return max(by_ids, by_grades)  # notebooks saved as nbformat < 4.5 lose their cell ids


def read_notebook(path: Path) -> dict | None:
    """The notebook's JSON, or None when it is not a readable notebook."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("cells"), list) else None


def grade_ids(nb: dict) -> dict[str, str]:
    """nbgrader ``grade_id`` → the cell's source, for every cell that has one."""
    out = {}
    for cell in nb.get("cells", []):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if meta.get("grade_id"):
            source = cell.get("source", "")
            out[str(meta["grade_id"])] = "".join(source) if isinstance(source, list) else source
    return out


def signatures(lab: Lab) -> list[Signature]:
    """The signature of each notebook of ``lab``'s starter kit."""
    out = []
    for rel in lab.manifest.submission.notebooks:
        nb = read_notebook(lab.lab_dir / rel)
        if nb is None:
            continue
        ids = frozenset(c["id"] for c in nb["cells"] if c.get("id"))
        grades = grade_ids(nb)
        out.append(Signature(lab.slug, rel, ids, frozenset(grades), grades))
    return out


def other_signatures(lab: Lab) -> list[Signature]:
    """Signatures of every other lab's notebooks (to name the lab a wrong notebook is from)."""
    from crosstrain.labs.catalog import list_labs

    return [
        s for other in list_labs(root=lab.root) if other.slug != lab.slug for s in signatures(other)
    ]


def notebooks_in(folder: Path) -> list[str]:
    """Every ``.ipynb`` in ``folder`` (relative, POSIX), junk folders left out."""
    found = []
    for path in sorted(folder.rglob("*.ipynb")):
        rel = path.relative_to(folder)
        if not JUNK & set(rel.parts) and path.is_file() and not path.is_symlink():
            found.append(rel.as_posix())
    return found


def describe(folder: Path) -> str:
    """A short list of what a submission holds, for a rejection message."""
    files = sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and not JUNK & set(p.relative_to(folder).parts)
    )
    if not files:
        return "it is empty"
    more = f" and {len(files) - SHOWN} more" if len(files) > SHOWN else ""
    return "it holds " + ", ".join(files[:SHOWN]) + more


def check(lab: Lab, upload: Path) -> Intake:
    """Match the submission in ``upload`` to ``lab``'s notebooks, renaming in place.

    Raises :class:`Rejected` when a notebook the lab needs is missing or belongs elsewhere.
    """
    out = Intake()
    sigs = signatures(lab)
    expected = lab.manifest.submission
    if not expected.notebooks:
        if not any((upload / rel).is_file() for rel in expected.scripts):
            wanted = ", ".join(expected.scripts)
            raise Rejected(
                f"none of the lab's files ({wanted}) is in the submission; {describe(upload)}"
            )
        return out
    for sig in sigs:
        target = upload / sig.name
        nb = read_notebook(target) if target.is_file() else None
        if nb is not None and sig.share(nb) >= MATCH:
            out.attempted |= attempted_steps(sig, nb)
            continue
        if nb is not None and not _belongs_elsewhere(lab, nb):  # the learner's own, rewritten
            out.attempted |= attempted_steps(sig, nb)
            continue
        found = _find_renamed(upload, sig, exclude={s.name for s in sigs})
        if found is not None:
            rel, nb = found
            if target.exists():
                target.unlink()
            target.parent.mkdir(parents=True, exist_ok=True)
            (upload / rel).rename(target)
            out.renamed[rel] = sig.name
            out.notes.append(f"graded {rel} as {sig.name} (its cells are this lab's notebook)")
            out.attempted |= attempted_steps(sig, nb)
            continue
        raise Rejected(_why_missing(lab, upload, sig))
    return out


def _find_renamed(upload: Path, sig: Signature, exclude: set[str]) -> tuple[str, dict] | None:
    """The best-matching notebook under another name, if one carries the signature."""
    best = None
    for rel in notebooks_in(upload):
        nb = read_notebook(upload / rel)
        if nb is None:
            continue
        share = sig.share(nb)
        if share >= MATCH and (best is None or share > best[0]):
            best = (share, rel, nb)
    return (best[1], best[2]) if best else None


def _owner(lab: Lab, nb: dict) -> Signature | None:
    """The other lab whose notebook ``nb`` is, if any."""
    owner = max(other_signatures(lab), key=lambda s: s.share(nb), default=None)
    return owner if owner is not None and owner.share(nb) >= MATCH else None


def _belongs_elsewhere(lab: Lab, nb: dict) -> bool:
    return _owner(lab, nb) is not None


def _why_missing(lab: Lab, upload: Path, sig: Signature) -> str:
    """The rejection message: what was expected and what was found instead."""
    found = notebooks_in(upload)
    if not found:
        return f"no notebook found (expected {sig.name}); {describe(upload)}"
    said = []
    for rel in found[:SHOWN]:
        nb = read_notebook(upload / rel)
        if nb is None:
            said.append(f"{rel} (not a readable notebook)")
            continue
        owner = _owner(lab, nb)
        if owner is not None:
            said.append(f"{rel} (the notebook of lab {owner.lab})")
        else:
            said.append(f"{rel} (not this lab's notebook: none of its cells match)")
    return f"{sig.name} of lab {lab.slug} is not in the submission; found " + ", ".join(said)


def attempted_steps(sig: Signature, nb: dict) -> dict[str, bool]:
    """Step id → whether the learner changed that step's solution cell from the starter's
    (a notebook without the cell cannot tell: counted as attempted)."""
    cells = grade_ids(nb)
    return {
        step: step not in cells or cells[step].strip() != source.strip()
        for step, source in sig.step_sources.items()
    }
