"""The training job (given; do not edit): read the training table from S3, fit a churn-rate
table, write the model to SM_MODEL_DIR and a metrics report back to S3."""

import csv
import io
import json
import os

import boto3

BUCKET = os.environ["DATA_BUCKET"]


def main() -> None:
    s3 = boto3.client("s3")
    body = s3.get_object(Bucket=BUCKET, Key="train/customers.csv")["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    base = sum(int(r["churned"]) for r in rows) / len(rows)
    by_contract = {}
    for contract in sorted({r["contract_type"] for r in rows}):
        group = [int(r["churned"]) for r in rows if r["contract_type"] == contract]
        by_contract[contract] = round(sum(group) / len(group), 4)
    failed = [r for r in rows if float(r["failed_payments_12m"] or 0) > 0]
    lift = sum(int(r["churned"]) for r in failed) / max(1, len(failed)) - base
    model = {
        "base": round(base, 4),
        "by_contract": by_contract,
        "failed_payment_lift": round(lift, 4),
    }
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as out:
        json.dump(model, out)
    report = {"rows": len(rows), **model}
    key = f"reports/{os.environ.get('TRAINING_JOB_NAME', 'local')}.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(report).encode())
    print(f"trained on {len(rows)} customers; base churn rate {base:.3f}")


if __name__ == "__main__":
    main()
