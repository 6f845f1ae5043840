"""crosstrain.datasets: deterministic, realistic, messy as documented, cleanable, learnable."""

from __future__ import annotations

import ast
import re
import time
from pathlib import Path

import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.dummy import DummyClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from crosstrain import datasets as ds
from crosstrain.datasets import card
from crosstrain.datasets.schema import DATE_FORMATS, MISSING_TOKENS
from crosstrain.datasets.simulate import simulate

PACKAGE = Path(ds.__file__).parent
DATE_PATTERNS = (r"\d{4}-\d{2}-\d{2}", r"\d{2}/\d{2}/\d{4}", r"\d{1,2} [A-Z][a-z]{2} \d{4}")


@pytest.fixture(scope="module")
def raw():
    return ds.generate(ds.LEARNER_SEED)


@pytest.fixture(scope="module")
def clean(raw):
    return ds.clean_reference(raw)


def test_same_seed_writes_byte_identical_csvs(raw, tmp_path):
    first = ds.write_raw(raw, tmp_path / "a")
    second = ds.write_raw(ds.generate(ds.LEARNER_SEED), tmp_path / "b")
    assert [p.name for p in first] == [t.file for t in ds.schema()]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_csvs_read_back_exactly(raw, clean, tmp_path):
    ds.write_raw(raw, tmp_path)
    back = ds.read_raw(tmp_path)
    for name, df in raw.tables().items():
        pd.testing.assert_frame_equal(back.tables()[name], df)
    for name, df in clean.tables().items():
        pd.testing.assert_frame_equal(ds.clean_reference(back).tables()[name], df)


def test_different_seeds_give_different_data():
    a, b = ds.generate(1, 300), ds.generate(2, 300)
    assert not a.customers.equals(b.customers)
    assert not a.usage.equals(b.usage)


def test_hidden_seed_is_stable_secret_dependent_and_not_the_learners():
    assert ds.hidden_seed("course-secret") == 13540188604883561206  # graders rely on it
    assert ds.hidden_seed("course-secret") != ds.hidden_seed("course-secret2")
    assert ds.LEARNER_SEED not in {ds.hidden_seed(s) for s in ("a", "b", "c")}
    with pytest.raises(ValueError):
        ds.hidden_seed("")


def test_mess_changes_the_writing_not_the_business():
    truth = simulate(5, 400)
    tidy = ds.clean_reference(ds.generate(5, 400, mess=ds.NO_MESS))
    messy = ds.clean_reference(ds.generate(5, 400))
    for name, expected in truth.items():
        pd.testing.assert_frame_equal(tidy.tables()[name], expected)
        got = messy.tables()[name]
        both = got.notna() & expected.notna()
        pd.testing.assert_frame_equal(got.where(both), expected.where(both))
        blanked = (got.isna() & expected.notna()).to_numpy().mean()
        assert blanked < 0.05, name  # only injected missing values and outliers


def test_exact_and_near_duplicates_are_present_then_removed(raw, clean):
    for name in ("customers", "usage", "tickets"):
        assert raw.tables()[name].duplicated().sum() > 0, name
    customers = raw.customers.drop_duplicates()
    near = customers[customers["customer_id"].duplicated(keep=False)]
    assert near["customer_id"].nunique() > 100  # same customer, written differently
    for t in ds.schema():
        assert not clean.tables()[t.name].duplicated(list(t.key)).any(), t.name
    assert len(clean.customers) == len(clean.churn) == 5000


def test_missing_tokens_are_present_then_missing(raw, clean):
    for token in MISSING_TOKENS:
        assert (raw.customers["contract_type"] == token).any(), repr(token)
    assert clean.customers["contract_type"].isna().mean() == pytest.approx(0.03, abs=0.01)
    for df in clean.tables().values():
        text = df.select_dtypes(include=["object", "str"])
        assert not text.isin(MISSING_TOKENS).any().any()


def test_mixed_date_formats_are_present_then_parsed(raw, clean):
    dates = raw.customers["signup_date"]
    for pattern in DATE_PATTERNS:
        assert dates.str.fullmatch(pattern).sum() > 100, pattern
    assert DATE_FORMATS[1] == "%m/%d/%Y"  # slashed dates are month first
    row = raw.customers[dates.str.fullmatch(r"\d{2}/\d{2}/\d{4}")].iloc[0]
    parsed = clean.customers.set_index("customer_id").loc[row["customer_id"], "signup_date"]
    assert parsed.strftime("%m/%d/%Y") == row["signup_date"]
    assert pd.api.types.is_datetime64_dtype(clean.usage["month"])
    assert clean.usage["month"].dt.day.eq(1).all()
    assert clean.tickets["opened_date"].notna().all()


def test_category_spellings_are_inconsistent_then_canonical(raw, clean):
    plans = set(raw.customers["plan"])
    assert {"premium ", "PREM", "Premium"} <= plans
    for t in ds.schema():
        for col in t.columns:
            if col.kind == "category":
                values = set(clean.tables()[t.name][col.name].dropna())
                assert values <= set(col.categories), (t.name, col.name)
                if "spelling" in col.mess:
                    assert len(set(raw.tables()[t.name][col.name])) > len(col.categories) + 3


def test_outliers_are_present_then_blanked(raw, clean):
    for t in ds.schema():
        for col in t.columns:
            if "outliers" in col.mess:
                values = pd.to_numeric(raw.tables()[t.name][col.name].replace(MISSING_TOKENS, None))
                assert (~values.dropna().between(*col.valid)).sum() > 5, col.name
            if col.valid is not None:
                assert clean.tables()[t.name][col.name].dropna().between(*col.valid).all()
    assert (pd.to_numeric(raw.usage["sessions"].replace(MISSING_TOKENS, None)) < 0).any()


def test_leaky_column_predicts_the_label_and_training_frame_drops_it(clean):
    leak = clean.customers[ds.LEAK_COLUMN].notna().astype(int)
    assert roc_auc_score(clean.churn["churned"], leak) > 0.9
    frame = ds.training_frame(clean)
    assert ds.LEAK_COLUMN not in frame.columns
    assert list(frame.columns) == ["customer_id", *ds.FEATURES, ds.LABEL]
    assert frame["customer_id"].is_unique and len(frame) == 5000
    leaky = ds.training_frame(clean, include_leak=True)
    assert leaky[ds.LEAK_COLUMN].notna().sum() == leak.sum()


def test_churn_rate_is_realistic():
    for seed in (ds.LEARNER_SEED, 1, 2):
        assert 0.15 <= simulate(seed, 5000)["churn"]["churned"].mean() <= 0.25, seed


def _pipeline(categorical, numeric, model):
    prepare = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
                ),
                categorical,
            ),
        ]
    )
    return make_pipeline(prepare, model)


def test_a_decent_model_learns_and_a_trivial_one_does_not(clean):
    train = ds.training_frame(clean)
    test = ds.training_frame(ds.generate(ds.hidden_seed("test-secret")))
    categorical, numeric = list(ds.CATEGORICAL_FEATURES), list(ds.NUMERIC_FEATURES)

    def auc(cat, num, model):
        fitted = _pipeline(cat, num, model).fit(train[cat + num], train[ds.LABEL])
        return roc_auc_score(test[ds.LABEL], fitted.predict_proba(test[cat + num])[:, 1])

    decent = auc(categorical, numeric, LogisticRegression(max_iter=1000))
    assert 0.75 <= decent <= 0.86
    assert auc(["region"], ["age"], LogisticRegression()) < 0.6
    assert auc(categorical, numeric, DummyClassifier()) == 0.5


def test_generating_5000_customers_is_fast():
    start = time.process_time()
    ds.generate(3)
    assert time.process_time() - start < 2.0


def test_small_datasets_work():
    tiny = ds.clean_reference(ds.generate(7, 3))
    assert len(tiny.customers) == 3 and len(ds.training_frame(tiny)) == 3
    with pytest.raises(ValueError):
        ds.generate(7, 0)
    with pytest.raises(ValueError):
        ds.Mess(missing=1.5)


def test_write_raw_refuses_clean_data(clean, tmp_path):
    with pytest.raises(ValueError):
        ds.write_raw(clean, tmp_path)


def test_data_card_is_generated_from_the_schema(repo_root):
    page = (repo_root / "docs" / "data-card.md").read_text()
    assert card.generated_part(page) == card.render(), (
        "docs/data-card.md is stale: run python -m crosstrain.datasets.card docs/data-card.md"
    )
    for t in ds.schema():
        assert f"`{t.file}`" in page
        for col in t.columns:
            assert re.search(rf"^\| `{col.name}` \|", page, re.M), col.name
    for name in ds.FEATURES:
        assert f"| `{name}` |" in page
    assert ds.LEAK_COLUMN in page and str(ds.LEARNER_SEED) in page


def test_package_imports_nothing_else_from_crosstrain():
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1, path.name
                assert node.level == 1 or not (node.module or "").startswith("crosstrain"), path
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("crosstrain") for a in node.names), path


def test_usage_signal_is_visible_in_the_data(clean):
    frame = ds.training_frame(clean)
    churners = frame[frame[ds.LABEL] == 1]
    stayers = frame[frame[ds.LABEL] == 0]
    assert churners["usage_change"].median() < stayers["usage_change"].median()
    assert churners["open_tickets"].mean() > 1.5 * stayers["open_tickets"].mean()
    contract = frame.groupby("contract_type", observed=True)[ds.LABEL].mean()
    assert contract["Monthly"] > 2 * contract["Two-year"]
