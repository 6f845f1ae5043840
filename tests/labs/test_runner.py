from xml.etree import ElementTree as ET

import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.labs import progress
from crosstrain.labs.runner import check_lab, junit_xml
from crosstrain.labs.workspace import start_workspace

DEMO = "00-sandbox-orientation"


def test_check_needs_a_started_workspace(content, workspace_root, connected):
    with pytest.raises(CrosstrainError, match="crosstrain lab start 00-sandbox-orientation"):
        check_lab(DEMO)


def test_check_records_one_row_per_check(content, workspace_root, connected):
    from crosstrain.labs.catalog import get_lab

    start_workspace(get_lab(DEMO))
    report = check_lab(DEMO, "store-dataset")
    assert [r.check for r in report.results] == ["dataset_uploaded", "bucket_protected"]
    rows = progress.history(workspace_root)
    assert [(r["step"], r["status"]) for r in rows] == [("store-dataset", "failed")] * 2


def test_junit_marks_failures(content, workspace_root, connected):
    from crosstrain.labs.catalog import get_lab

    start_workspace(get_lab(DEMO))
    suite = ET.fromstring(junit_xml(check_lab(DEMO)))
    assert suite.get("tests") == "6"
    assert suite.get("failures") == "6"
    assert "hint:" in suite.find("testcase/failure").text
