from click.testing import CliRunner

from crosstrain.cli import main


def test_data_generate_writes_the_raw_csvs(tmp_path):
    result = CliRunner().invoke(
        main, ["data", "generate", "--out", str(tmp_path), "--customers", "50"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "customers.csv").read_text().count("\n") >= 50


def test_seed_and_secret_exclude_each_other(tmp_path):
    result = CliRunner().invoke(
        main, ["data", "generate", "--out", str(tmp_path), "--seed", "1", "--secret", "s"]
    )
    assert result.exit_code == 2 and "exclude each other" in result.output


def test_secret_gives_other_data_than_the_learner_seed(tmp_path):
    runner = CliRunner()
    runner.invoke(main, ["data", "generate", "--out", str(tmp_path / "a"), "--customers", "30"])
    runner.invoke(
        main,
        ["data", "generate", "--out", str(tmp_path / "b"), "--customers", "30", "--secret", "x"],
    )
    assert (tmp_path / "a/customers.csv").read_bytes() != (
        tmp_path / "b/customers.csv"
    ).read_bytes()
