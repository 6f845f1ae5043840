"""A data scientist's SageMaker Python SDK v3 script, unchanged but for the endpoint.

Run in a venv with ``sagemaker>=3`` and ``AWS_ENDPOINT_URL`` pointing at the sandbox:
``python v3_model_trainer.py WORKDIR``. It trains a scikit-learn model with ``ModelTrainer`` on
CSV data in S3, deploys the artifact with sagemaker-core resources (``Model``,
``EndpointConfig``, ``Endpoint``) and invokes it; then deploys it again with ``ModelBuilder``.
It prints one JSON line with what it saw.
"""

import json
import sys
from pathlib import Path

import boto3
import numpy as np
from sagemaker.core import image_uris
from sagemaker.core.helper.session_helper import Session
from sagemaker.core.resources import Endpoint, EndpointConfig, Model, TrainingJob
from sagemaker.core.shapes import ContainerDefinition, ProductionVariant
from sagemaker.core.training.configs import Compute, InputData, SourceCode
from sagemaker.serve.model_builder import ModelBuilder
from sagemaker.train.model_trainer import ModelTrainer

TRAIN_SCRIPT = """
import argparse, os, shutil
import joblib, numpy as np
from sklearn.linear_model import LogisticRegression

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, default=1.0)
args = parser.parse_args()
data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"), delimiter=",")
model = LogisticRegression(C=args.C).fit(data[:, 1:], data[:, 0])
print(f"train_accuracy={model.score(data[:, 1:], data[:, 0]):.4f}")
model_dir = os.environ["SM_MODEL_DIR"]
joblib.dump(model, os.path.join(model_dir, "model.joblib"))
# Ship the inference handlers inside the model, where the serving container looks for them.
os.makedirs(os.path.join(model_dir, "code"), exist_ok=True)
shutil.copy("inference.py", os.path.join(model_dir, "code", "inference.py"))
"""
INFERENCE_SCRIPT = """
import json, os
import joblib, numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    return np.array(json.loads(body), dtype=float)


def predict_fn(data, model):
    return model.predict(data).tolist()
"""

workdir = Path(sys.argv[1])
REGION = "us-east-1"
ROLE = "arn:aws:iam::000000000000:role/SageMakerRole"
boto_session = boto3.Session(region_name=REGION)
boto_session.client("iam").create_role(
    RoleName="SageMakerRole",
    AssumeRolePolicyDocument=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "sagemaker.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    ),
)
boto_session.client("iam").attach_role_policy(
    RoleName="SageMakerRole", PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
)
# The SDK asks STS's public endpoint for the account to name its default bucket: name it.
session = Session(boto_session=boto_session, default_bucket="sdk-v3-demo")

rng = np.random.default_rng(1)
X = rng.normal(size=(200, 2))
X = X[np.abs(X.sum(axis=1)) > 0.3]
y = (X.sum(axis=1) > 0).astype(int)
source = workdir / "src"
source.mkdir(parents=True, exist_ok=True)
(source / "train.py").write_text(TRAIN_SCRIPT)
(source / "inference.py").write_text(INFERENCE_SCRIPT)
(workdir / "data").mkdir(exist_ok=True)
np.savetxt(workdir / "data" / "train.csv", np.column_stack([y, X]), delimiter=",")
train_uri = session.upload_data(str(workdir / "data"), key_prefix="demo/train")

image = image_uris.retrieve(framework="sklearn", region=REGION, version="1.2-1")
trainer = ModelTrainer(
    training_image=image,
    source_code=SourceCode(source_dir=str(source), entry_script="train.py"),
    compute=Compute(instance_type="ml.m5.large", instance_count=1),
    hyperparameters={"C": 0.5},
    role=ROLE,
    sagemaker_session=session,
    base_job_name="v3-sklearn",
)
trainer.train(input_data_config=[InputData(channel_name="train", data_source=train_uri)])
job = TrainingJob.get(trainer._latest_training_job.training_job_name, session=boto_session)
artifact = job.model_artifacts.s3_model_artifacts

probe = [[2.0, 1.0], [-1.5, -2.0], [0.5, 1.5], [-3.0, 0.5]]
model = Model.create(
    model_name="v3-sklearn-model",
    primary_container=ContainerDefinition(image=image, model_data_url=artifact),
    execution_role_arn=ROLE,
    session=boto_session,
)
config = EndpointConfig.create(
    endpoint_config_name="v3-sklearn-config",
    production_variants=[
        ProductionVariant(
            variant_name="AllTraffic",
            model_name=model.model_name,
            initial_instance_count=1,
            instance_type="ml.m5.large",
        )
    ],
    session=boto_session,
)
endpoint = Endpoint.create(
    endpoint_name="v3-sklearn",
    endpoint_config_name=config.endpoint_config_name,
    session=boto_session,
)
endpoint.wait_for_status("InService")
answer = endpoint.invoke(body=json.dumps(probe), content_type="application/json")
core_predictions = json.loads(answer.body.read())
endpoint.delete()

# The same artifact through ModelBuilder: an image and model data (the model carries its code).
builder = ModelBuilder(
    s3_model_data_url=artifact,
    image_uri=image,
    role_arn=ROLE,
    instance_type="ml.m5.large",
    sagemaker_session=session,
)
builder.build(model_name="v3-builder-model")
built = builder.deploy(endpoint_name="v3-builder", initial_instance_count=1)
answer = built.invoke(body=json.dumps(probe), content_type="application/json")
builder_predictions = json.loads(answer.body.read())
built.delete()

print(
    json.dumps(
        {
            "status": job.training_job_status,
            "image": job.algorithm_specification.training_image,
            "model_data": artifact,
            "core_predictions": core_predictions,
            "builder_predictions": builder_predictions,
        }
    )
)
