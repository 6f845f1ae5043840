"""One marker grammar: a marker alone on its line outside a fence; anything else is a problem."""

from crosstrain.labs.markers import scan


def test_a_marker_alone_on_its_line_is_found_with_its_indent():
    found = scan("# T\n\n<!-- check: a -->\n\n!!! tip\n    <!-- check: b-2 -->\n")
    assert found.steps == ["a", "b-2"]
    assert found.markers[1].indent == "    "
    assert found.markers[1].line == 6
    assert found.problems == []


def test_a_marker_with_other_text_on_its_line_is_a_problem():
    found = scan("Now check it: <!-- check: a -->\n", "p.md")
    assert found.steps == []
    (problem,) = found.problems
    assert problem.startswith("p.md:1: a check marker must be alone on its line")


def test_a_marker_inside_a_fenced_block_is_a_problem():
    found = scan("```python\nx = 1\n<!-- check: a -->\n```\n<!-- check: b -->\n", "p.md")
    assert found.steps == ["b"]
    (problem,) = found.problems
    assert problem.startswith("p.md:3: a check marker inside a fenced code block")


def test_a_marker_shown_in_an_illustrative_block_is_fine():
    found = scan("<!-- illustrative: syntax -->\n```markdown\n<!-- check: a -->\n```\n")
    assert found.steps == []
    assert found.problems == []
