"""A data scientist's SageMaker Python SDK v2 script, unchanged but for the endpoint.

Run in a venv with ``sagemaker<3`` and ``AWS_ENDPOINT_URL`` pointing at the sandbox:
``python v2_sklearn.py WORKDIR``. It trains a scikit-learn model with the ``SKLearn`` estimator
on CSV data in S3, deploys it, predicts, deploys the same artifact again with ``SKLearnModel``
and predicts again; it prints one JSON line with what it saw.
"""

import json
import sys
from pathlib import Path

import boto3
import numpy as np
import sagemaker
from sagemaker.sklearn.estimator import SKLearn
from sagemaker.sklearn.model import SKLearnModel

TRAIN_SCRIPT = """
import argparse, os
import joblib, numpy as np
from sklearn.linear_model import LogisticRegression


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN"))
    args = parser.parse_args()
    data = np.loadtxt(os.path.join(args.train, "train.csv"), delimiter=",")
    model = LogisticRegression(C=args.C).fit(data[:, 1:], data[:, 0])
    print(f"train_accuracy={model.score(data[:, 1:], data[:, 0]):.4f}")
    joblib.dump(model, os.path.join(args.model_dir, "model.joblib"))
"""

workdir = Path(sys.argv[1])
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
boto_session = boto3.Session(region_name="us-east-1")
# The SDK asks STS's public endpoint for the account to name its default bucket: name it.
session = sagemaker.Session(boto_session=boto_session, default_bucket="sdk-v2-demo")

# Training data: label = x0 + x1 > 0, points kept away from the boundary.
rng = np.random.default_rng(0)
X = rng.normal(size=(200, 2))
X = X[np.abs(X.sum(axis=1)) > 0.3]
y = (X.sum(axis=1) > 0).astype(int)
(workdir / "data").mkdir(parents=True, exist_ok=True)
np.savetxt(workdir / "data" / "train.csv", np.column_stack([y, X]), delimiter=",")
(workdir / "train.py").write_text(TRAIN_SCRIPT)
train_uri = session.upload_data(str(workdir / "data"), key_prefix="demo/train")

estimator = SKLearn(
    entry_point="train.py",
    source_dir=str(workdir),
    role=ROLE,
    instance_type="ml.m5.large",
    instance_count=1,
    framework_version="1.2-1",
    hyperparameters={"C": 0.5},
    sagemaker_session=session,
    metric_definitions=[{"Name": "train:accuracy", "Regex": r"train_accuracy=([0-9.]+)"}],
)
estimator.fit({"train": train_uri})
job = estimator.latest_training_job.describe()

probe = np.array([[2.0, 1.0], [-1.5, -2.0], [0.5, 1.5], [-3.0, 0.5]])
predictor = estimator.deploy(initial_instance_count=1, instance_type="ml.m5.large")
first = predictor.predict(probe)

model = SKLearnModel(
    model_data=estimator.model_data,
    role=ROLE,
    entry_point="train.py",
    source_dir=str(workdir),
    framework_version="1.2-1",
    sagemaker_session=session,
)
second_predictor = model.deploy(initial_instance_count=1, instance_type="ml.m5.large")
second = second_predictor.predict(probe)

predictor.delete_endpoint()
second_predictor.delete_endpoint()
print(
    json.dumps(
        {
            "sagemaker": sagemaker.__version__,
            "status": job["TrainingJobStatus"],
            "metrics": job.get("FinalMetricDataList", []),
            "image": job["AlgorithmSpecification"]["TrainingImage"],
            "model_data": estimator.model_data,
            "estimator_predictions": np.asarray(first).tolist(),
            "model_predictions": np.asarray(second).tolist(),
        },
        default=str,
    )
)
