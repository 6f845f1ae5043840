"""Lab pages parsed as a learner meets them: blocks and check markers in order, illustrative
blocks marked, the kit notebook's given cells split by step."""

from __future__ import annotations

from pathlib import Path

import nbformat

from crosstrain.site_build.pagecode import Block, Marker, last_line, notebook_sections, parse

PAGE = """\
# Demo

```bash
crosstrain lab start 99-demo
```

!!! tip
    ```python
    x = 1
    ```

<!-- check: first -->

<!-- illustrative: output -->
```text
42
```

```yaml
a: 1
```
"""


def test_blocks_and_markers_come_in_page_order_with_admonitions_dedented():
    page = parse(PAGE, "demo.md")
    kinds = [(type(i).__name__, getattr(i, "lang", getattr(i, "step", ""))) for i in page.items]
    assert kinds == [
        ("Block", "bash"),
        ("Block", "python"),
        ("Marker", "first"),
        ("Block", "text"),
        ("Block", "yaml"),
    ]
    assert page.blocks[1].code == "x = 1"


def test_only_a_marked_block_is_illustrative_and_an_unmarked_other_language_is_a_problem():
    page = parse(PAGE, "demo.md")
    assert [b.illustrative for b in page.blocks] == [False, False, True, False]
    (problem,) = page.problems()
    assert problem.startswith("demo.md:19: a ```yaml block cannot run")


def test_a_blank_line_keeps_the_marker_but_text_in_between_does_not():
    page = parse("<!-- illustrative -->\n\n```text\nx\n```\n\nprose\n\n```text\ny\n```\n")
    assert [b.illustrative for b in page.blocks] == [True, False]


def test_runner_of_a_block():
    assert Block(1, "python", "").runner == "python"
    assert Block(1, "sh", "").runner == "bash"
    assert Block(1, "python", "", illustrative=True).runner is None
    assert Marker(1, "s").step == "s"


def test_a_notebook_is_split_by_step_at_the_learners_answer(tmp_path):
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell("# YOUR CODE HERE")
    answer.metadata["nbgrader"] = {"solution": True}
    nb.cells = [
        nbformat.v4.new_code_cell("import boto3"),
        nbformat.v4.new_markdown_cell("## Step 1 · Do it (`one`)"),
        nbformat.v4.new_code_cell("role = 1"),
        answer,
        nbformat.v4.new_code_cell("print(result)"),
        nbformat.v4.new_markdown_cell("## Step 2 · Again (`two`)"),
        nbformat.v4.new_code_cell("setup = 2"),
    ]
    path = Path(tmp_path / "kit.ipynb")
    nbformat.write(nb, path)
    sections = notebook_sections(path, ["one", "two"])
    assert (sections[None].before, sections[None].rest) == (["import boto3"], [])
    assert (sections["one"].before, sections["one"].rest) == (
        ["role = 1"],
        ["# YOUR CODE HERE", "print(result)"],
    )
    assert (sections["two"].before, sections["two"].rest) == (["setup = 2"], [])


def test_last_line_names_the_error():
    text = "Traceback...\n\x1b[31mNameError\x1b[0m: name 'x' is not defined\n"
    assert last_line(text) == "NameError: name 'x' is not defined"
