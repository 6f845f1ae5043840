import pytest
import yaml

from crosstrain.errors import CrosstrainError
from crosstrain.labs.manifest import load_manifest

GOOD = {
    "id": "42-demo",
    "title": "Demo",
    "summary": "A demo.",
    "tracks": ["cloud-for-data-scientists"],
    "minutes": 10,
    "level": "intro",
    "steps": [{"id": "make-bucket", "title": "Make a bucket", "points": 2}],
}


def write(tmp_path, data, folder="42-demo"):
    path = tmp_path / folder / "lab.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def error_for(tmp_path, data, folder="42-demo") -> str:
    path = write(tmp_path, data, folder)
    with pytest.raises(CrosstrainError) as err:
        load_manifest(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    return message


def test_valid_manifest_loads(tmp_path):
    manifest = load_manifest(write(tmp_path, GOOD))
    assert manifest.points == 2
    assert manifest.step_ids == ["make-bucket"]


def test_demo_manifest_loads(repo_root):
    manifest = load_manifest(repo_root / "labs" / "00-sandbox-orientation" / "lab.yaml")
    assert manifest.points == 10


def test_missing_field_names_field_and_fix(tmp_path):
    message = error_for(tmp_path, {k: v for k, v in GOOD.items() if k != "minutes"})
    assert "'minutes' is missing" in message
    assert "minutes: 30" in message


def test_wrong_type_in_a_step_names_the_nested_field(tmp_path):
    data = GOOD | {"steps": [{"id": "make-bucket", "title": "Make", "points": "three"}]}
    message = error_for(tmp_path, data)
    assert "'steps.0.points'" in message
    assert "'three'" in message


def test_unknown_field_lists_the_valid_ones(tmp_path):
    message = error_for(tmp_path, GOOD | {"stpes": []})
    assert "unknown field 'stpes'" in message
    assert "steps" in message


@pytest.mark.parametrize(
    "extra, where, fields",
    [
        (
            {"steps": [{"id": "a", "title": "A", "points": 1, "pts": 2}]},
            "steps.0.pts",
            "id, title, points",
        ),
        (
            {"submission": {"notebook": ["x.ipynb"]}},
            "submission.notebook",
            "notebooks, scripts, time_limit",
        ),
    ],
)
def test_unknown_nested_field_lists_the_valid_ones_there(tmp_path, extra, where, fields):
    message = error_for(tmp_path, GOOD | extra)
    assert f"unknown field '{where}'" in message
    assert f"use one of: {fields}" in message
    assert "see the docs" not in message


def test_sandbox_settings_default_off_and_can_enforce_iam(tmp_path):
    assert load_manifest(write(tmp_path, GOOD)).sandbox.enforce_iam is False
    manifest = load_manifest(write(tmp_path, GOOD | {"sandbox": {"enforce_iam": True}}))
    assert manifest.sandbox.enforce_iam is True
    message = error_for(tmp_path, GOOD | {"sandbox": {"enforce": True}})
    assert "use one of: enforce_iam" in message


def test_unknown_track_lists_the_tracks(tmp_path):
    message = error_for(tmp_path, GOOD | {"tracks": ["data-science"]})
    assert "ml-for-cloud-engineers" in message


def test_duplicate_step_ids_are_refused(tmp_path):
    step = {"id": "same", "title": "Same", "points": 1}
    message = error_for(tmp_path, GOOD | {"steps": [step, step]})
    assert "appears twice" in message


def test_id_must_match_the_folder(tmp_path):
    message = error_for(tmp_path, GOOD, folder="43-other")
    assert "id: 43-other" in message


def test_invalid_yaml_names_the_line(tmp_path):
    message = error_for(tmp_path, "id: 42-demo\ntitle: [unclosed\n")
    assert "not valid YAML at line" in message
