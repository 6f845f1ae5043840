"""Fixtures of the Athena tests: clients on a fresh sandbox, a partitioned parquet table."""

from __future__ import annotations

import io

import pandas as pd
import pytest


@pytest.fixture
def aws(sandbox):
    """S3, Glue and Athena clients on a fresh sandbox with a data and a results bucket."""
    clients = {name: sandbox.client(name) for name in ("s3", "glue", "athena")}
    clients["s3"].create_bucket(Bucket="lake")
    clients["s3"].create_bucket(Bucket="athena-results")
    return clients


@pytest.fixture
def orders(aws) -> pd.DataFrame:
    """Orders as Hive-partitioned parquet under s3://lake/orders/year=YYYY/ (no catalog yet)."""
    frames = []
    for year in (2022, 2023, 2024):
        frame = pd.DataFrame(
            {
                "order_id": range(year * 1000, year * 1000 + 300),
                "region": ["eu", "us", "apac"] * 100,
                "amount": [round(1.25 * i + year % 7, 2) for i in range(300)],
            }
        )
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        aws["s3"].put_object(
            Bucket="lake", Key=f"orders/year={year}/part-0.parquet", Body=buffer.getvalue()
        )
        frames.append(frame.assign(year=year))
    return pd.concat(frames, ignore_index=True)
