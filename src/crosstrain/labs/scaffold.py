"""``crosstrain author new NN-slug``: a new lab in its four places, with one working example step.

The example step (create a versioned bucket) passes the self-test as generated, so an author
starts from a green ``crosstrain author test`` and changes one piece at a time.
"""

from __future__ import annotations

import re
from pathlib import Path

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import Lab, content_root
from crosstrain.labs.manifest import SLUG
from crosstrain.labs.release import release

LAB_YAML = """\
id: {slug}
title: {title}
summary: Create a versioned S3 bucket from boto3 (replace with what the learner will be able to do).
tracks: [ml-for-cloud-engineers, cloud-for-data-scientists]
minutes: 20
level: intro
prerequisites: [00-sandbox-orientation]
services: [s3]
steps:
  - id: make-bucket
    title: Create a versioned bucket
    points: 2
submission:
  notebooks: [lab.ipynb]
  scripts: []
  time_limit: 120
"""

README = """\
# {title}

Work in `lab.ipynb`; check a step with `crosstrain lab check {slug} make-bucket`.
"""

SOLVE = '''\
"""Solves for {slug}: one per step, and a teardown."""

from crosstrain.labs.solves import solve, teardown

BUCKET = "{bucket}"


@solve("make-bucket")
def make_bucket(ctx):
    s3 = ctx.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={{"Status": "Enabled"}})


@teardown
def remove_resources(ctx):
    s3 = ctx.client("s3")
    if BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        versions = s3.list_object_versions(Bucket=BUCKET)
        for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"], VersionId=item["VersionId"])
        s3.delete_bucket(Bucket=BUCKET)
'''

CHECKS = '''\
"""Checks for {slug}."""

from crosstrain.labs.checks import Fail, check

BUCKET = "{bucket}"


@check(
    "make-bucket",
    points=2,
    hint=f"Create the bucket {{BUCKET}} with s3.create_bucket.",
    hints={{"versioning": "Turn on versioning with s3.put_bucket_versioning."}},
)
def bucket_versioned(ctx):
    s3 = ctx.client("s3")
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    if BUCKET not in names:
        raise Fail(f"there is no bucket {{BUCKET}} (buckets: {{', '.join(names) or 'none'}})")
    status = s3.get_bucket_versioning(Bucket=BUCKET).get("Status", "never enabled")
    if status != "Enabled":
        raise Fail(f"bucket {{BUCKET}} exists; versioning: {{status}}", hint="versioning", points=1)
    return f"bucket {{BUCKET}} exists with versioning on"
'''

MISCONCEPTION = '''\
"""The bucket is created but versioning is never turned on."""

STEP = "make-bucket"
HINT = "versioning"
BUCKET = "{bucket}"


def apply(ctx):
    ctx.client("s3").create_bucket(Bucket=BUCKET)
'''

PAGE = """\
# {title}

!!! info "At a glance"
    **For:** (who) · **You will build:** (what) · **Time:** 20 minutes ·
    **You need first:** 00 · Sandbox orientation.

## Why it matters

(One paragraph in business terms.)

## Step 1 · Create a versioned bucket

(What to do and why.)

```python
BUCKET = "{bucket}"
s3.create_bucket(Bucket=BUCKET)
s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={{"Status": "Enabled"}})
```

<!-- check: make-bucket -->

## If you are stuck

??? tip "Hints"
    - "there is no bucket": create `{bucket}` exactly.

`crosstrain lab skip {slug} make-bucket` runs the reference solution.

## Clean up

`crosstrain lab reset {slug}`

## What carries over to real AWS

(What is identical, what differs, what it would cost.)
"""


def solution_notebook(bucket: str) -> str:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    metadata = {
        "nbgrader": {
            "grade": False,
            "grade_id": "make-bucket",
            "locked": False,
            "schema_version": 3,
            "solution": True,
        }
    }
    cells = [
        new_markdown_cell("## Step 1 · Create a versioned bucket"),
        new_code_cell(f'import boto3\n\ns3 = boto3.client("s3")\nBUCKET = "{bucket}"'),
        new_code_cell(
            "### BEGIN SOLUTION\n"
            "s3.create_bucket(Bucket=BUCKET)\n"
            "s3.put_bucket_versioning(Bucket=BUCKET, "
            'VersioningConfiguration={"Status": "Enabled"})\n'
            "### END SOLUTION",
            metadata=metadata,
        ),
    ]
    nb = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
    )
    return nbformat.writes(nb) + "\n"


def new_lab(slug: str, root: Path | None = None) -> list[Path]:
    """Create the four places of lab ``slug``; refuse if any of them exists. Return the files."""
    if not re.match(SLUG, slug):
        raise CrosstrainError(
            f"{slug!r} is not a lab id; use two digits and a kebab-case name, e.g. 42-my-lab"
        )
    lab = Lab(root or content_root(), slug)
    places = [lab.lab_dir, lab.solution_dir, lab.grader_dir, lab.doc_page]
    taken = [p for p in places if p.exists()]
    if taken:
        raise CrosstrainError(f"{taken[0]} already exists; pick another id or remove it first")
    name = slug.split("-", 1)[1]
    values = {
        "slug": slug,
        "title": name.replace("-", " ").capitalize(),
        "bucket": f"{slug[:58]}-data",  # bucket names have at most 63 characters
    }
    files = {
        lab.lab_dir / "lab.yaml": LAB_YAML,
        lab.lab_dir / "README.md": README,
        lab.solution_dir / "solve.py": SOLVE,
        lab.solution_dir / "lab.ipynb": None,
        lab.grader_dir / "checks.py": CHECKS,
        lab.grader_dir / "misconceptions" / "versioning_off.py": MISCONCEPTION,
        lab.doc_page: PAGE,
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        text = solution_notebook(values["bucket"]) if template is None else template
        path.write_text(text.format(**values) if template is not None else text)
    written = list(files)
    written += [lab.lab_dir / rel for rel in release(lab)]
    return written
