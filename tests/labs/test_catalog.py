import pytest

from crosstrain.errors import CrosstrainError
from crosstrain.labs.catalog import content_root, get_lab, list_labs

DEMO = "00-sandbox-orientation"


def test_content_root_defaults_to_the_checkout(repo_root, monkeypatch):
    monkeypatch.delenv("CROSSTRAIN_CONTENT_DIR", raising=False)
    assert content_root() == repo_root


def test_content_root_follows_the_setting(content):
    assert content_root() == content.resolve()
    assert [lab.slug for lab in list_labs()] == [DEMO]


def test_content_root_without_labs_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("CROSSTRAIN_CONTENT_DIR", str(tmp_path))
    with pytest.raises(CrosstrainError, match="set CROSSTRAIN_CONTENT_DIR"):
        content_root()


def test_unknown_lab_suggests_the_closest(content):
    with pytest.raises(CrosstrainError) as err:
        get_lab("00-sandbox-orientaton")
    assert f"did you mean: {DEMO}?" in str(err.value)


def test_lab_by_number(content):
    assert get_lab("00").slug == DEMO


def test_unknown_step_suggests_the_closest(content):
    with pytest.raises(CrosstrainError) as err:
        get_lab(DEMO).step("store-datset")
    assert "did you mean: store-dataset?" in str(err.value)


def test_track_filter(content):
    assert list_labs("cloud-for-data-scientists")
    other = content / "labs" / DEMO / "lab.yaml"
    other.write_text(
        other.read_text().replace("cloud-for-data-scientists", "ml-for-cloud-engineers")
    )
    assert list_labs("cloud-for-data-scientists") == []
