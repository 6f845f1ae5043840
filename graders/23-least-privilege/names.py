"""Lab 23's names: account, resources, roles, the forbidden calls and the hints' texts."""

ACCOUNT, REGION, BUCKET = "000000000000", "us-east-1", "churn-lp-data"
FUNCTION, ENDPOINT, TRAINING_JOB = "churn-score", "churn-endpoint", "churn-train"
ROLES = {
    "training": "churn-training-role",
    "endpoint": "churn-endpoint-role",
    "scoring": "churn-scoring-role",
}
SERVICES = {
    "training": "sagemaker.amazonaws.com",
    "endpoint": "sagemaker.amazonaws.com",
    "scoring": "lambda.amazonaws.com",
}
ENDPOINT_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}"
S3 = f"arn:aws:s3:::{BUCKET}"
# Calls no workload of the lab may make; the check asks the simulator about each, per role.
FORBIDDEN = [
    ("s3:DeleteObject", f"{S3}/train/customers.csv"),
    ("s3:PutObject", f"{S3}/train/customers.csv"),
    ("s3:GetObject", f"{S3}/scores/run1-customer1.json"),
    ("s3:ListBucket", S3),
    ("s3:GetObject", "arn:aws:s3:::another-teams-bucket/data.csv"),
    ("sagemaker:DeleteEndpoint", ENDPOINT_ARN),
    ("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/churn-ml-role"),
]
TRUST_HINT = (
    "Each role's trust policy must name the service that runs its workload: "
    "sagemaker.amazonaws.com for the training job and the endpoint, lambda.amazonaws.com for "
    "the scoring function. A role the service cannot assume leaves the workload with no "
    "credentials at all."
)
WILDCARD_HINT = (
    'Name each action (s3:GetObject, not s3:* or *) and each resource (an ARN, not "*"): '
    "build the policy from the calls in observed.json. Only an object key that changes per "
    "run may end in /* (arn:aws:s3:::churn-lp-data/scores/*)."
)
ADMIN_HINT = (
    "Detach managed policies such as AdministratorAccess: they allow everything, so the role "
    "is no safer than the shared one. Give each role only its inline least-privilege policy."
)
OBJECT_ARN_HINT = (
    "An S3 object permission needs the object's ARN: arn:aws:s3:::churn-lp-data/scores/* "
    "(with /*). arn:aws:s3:::churn-lp-data/scores names no object (and no folder), so "
    "PutObject on scores/c1.json is denied."
)
