"""What the checks of 20-serverless-inference compare with and how they reach the deployment: the
lab's names, the reference model and the customers it scores, the function's configuration,
direct invocations and calls to the HTTP API."""

import json
import re
import sys
import types
import urllib.error
import urllib.request

from botocore.exceptions import ClientError

from crosstrain.labs import checkkit
from crosstrain.labs.checkkit import error_code
from crosstrain.labs.checks import Fail

BUCKET = "churn-serving-artifacts"
MODEL_KEY = "models/churn/v1/model.joblib"
CODE_KEY = "code/churn-predict.zip"
FUNCTION, API, ROUTE = "churn-predict", "churn-api", "/predict"
MODEL_URI = f"s3://{BUCKET}/{MODEL_KEY}"
TOLERANCE = 0.01  # absolute, on a probability
MEMORY, TIMEOUT = (512, 3008), (10, 30)
# A URL literal that pins boto3 to one endpoint: localhost, the loopback address or LocalStack.
HARD_CODED = re.compile(
    r"""["']https?://(localhost|127\.0\.0\.1|[\w.-]*localstack[\w.-]*)(:\d+)?[^"']*["']"""
)
CATEGORICAL, NUMERIC = checkkit.CATEGORICAL, checkkit.NUMERIC
PUBLIC_ROWS = [0, 1, 2, 7, 11]  # learner-seed customers the lab page's example also uses


# -- reference model and payloads ------------------------------------------------------------


def cache() -> types.ModuleType:
    """A per-process cache: the reference model is trained once per grader process."""
    return sys.modules.setdefault("crosstrain_cache_20_checks", types.ModuleType("cache"))


def reference_model():
    """The lab's model, trained with the recipe of step 1 on the learner seed."""
    store = cache()
    if not hasattr(store, "model"):
        from sklearn.compose import make_column_transformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        from crosstrain import datasets

        frame = datasets.training_frame(datasets.generate(datasets.LEARNER_SEED))
        model = make_pipeline(
            make_column_transformer(
                (make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
                (
                    make_pipeline(
                        SimpleImputer(strategy="most_frequent"),
                        OneHotEncoder(handle_unknown="ignore"),
                    ),
                    CATEGORICAL,
                ),
            ),
            LogisticRegression(max_iter=1000),
        )
        model.fit(frame[CATEGORICAL + NUMERIC], frame["churned"])
        store.model, store.learner_frame = model, frame
    return store.model


def records(frame) -> list[dict]:
    """Rows as the JSON an API client sends: missing values become null."""
    columns = ["customer_id", *CATEGORICAL, *NUMERIC]
    return json.loads(frame[columns].to_json(orient="records"))


def customers(ctx, name: str, hidden_count: int) -> list[dict]:
    """Public customers (learner seed), plus ``hidden_count`` from the hidden seed when grading."""
    reference_model()
    found = records(cache().learner_frame.iloc[PUBLIC_ROWS])
    if ctx.hidden:
        from crosstrain import datasets

        store = cache()
        secret = ctx.hidden.secret.decode()
        if getattr(store, "hidden_secret", None) != secret:
            raw = datasets.generate(datasets.hidden_seed(secret), n_customers=300)
            store.hidden_frame, store.hidden_secret = datasets.training_frame(raw), secret
        rng = ctx.hidden.rng(name)
        rows = rng.sample(range(len(store.hidden_frame)), hidden_count)
        found += records(store.hidden_frame.iloc[rows])
    return found


def expected(batch: list[dict]) -> dict[str, float]:
    import pandas as pd

    frame = pd.DataFrame.from_records(batch, columns=CATEGORICAL + NUMERIC)
    frame[NUMERIC] = frame[NUMERIC].astype("float64")
    probabilities = reference_model().predict_proba(frame)[:, 1]
    return {c["customer_id"]: float(p) for c, p in zip(batch, probabilities, strict=True)}


# -- sandbox helpers -------------------------------------------------------------------------


def function_config(ctx) -> dict:
    lam = ctx.client("lambda")
    try:
        return lam.get_function_configuration(FunctionName=FUNCTION)
    except ClientError as exc:
        if error_code(exc) != "ResourceNotFoundException":
            raise
        names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
        raise Fail(
            f"there is no function {FUNCTION} (functions: {', '.join(names) or 'none'})"
        ) from None


def read_object(ctx, key: str) -> bytes | None:
    try:
        return ctx.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    except ClientError as exc:
        if error_code(exc) in ("NoSuchKey", "NoSuchBucket", "404"):
            return None
        raise


def proxy_event(body: str) -> dict:
    """What an HTTP API (payload 2.0) sends the function for POST /predict."""
    return {
        "version": "2.0",
        "routeKey": f"POST {ROUTE}",
        "rawPath": ROUTE,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {"http": {"method": "POST", "path": ROUTE}},
        "body": body,
        "isBase64Encoded": False,
    }


def invoke(ctx, body: str) -> tuple[dict | None, dict | str]:
    """Invoke the function directly with a proxy event: (its error payload or None, answer)."""
    response = ctx.client("lambda").invoke(
        FunctionName=FUNCTION, Payload=json.dumps(proxy_event(body)).encode()
    )
    raw = response["Payload"].read()
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = raw.decode(errors="replace")
    if response.get("FunctionError"):
        return (answer if isinstance(answer, dict) else {"errorMessage": answer}), answer
    return None, answer


def api_url(ctx) -> str:
    """The URL of POST /predict on the API churn-api (an HTTP API, or a REST API)."""
    base = ctx.sandbox.endpoint_url
    gw = ctx.client("apigatewayv2")
    for api in gw.get_apis()["Items"]:
        if api["Name"] == API:
            stages = [s["StageName"] for s in gw.get_stages(ApiId=api["ApiId"])["Items"]]
            if not stages:
                raise Fail(f"the HTTP API {API} has no stage: nothing is deployed")
            stage = "$default" if "$default" in stages else stages[0]
            return f"{base}/restapis/{api['ApiId']}/{stage}/_user_request_{ROUTE}"
    rest = ctx.client("apigateway")
    for api in rest.get_rest_apis()["items"]:
        if api["name"] == API:
            stages = [s["stageName"] for s in rest.get_stages(restApiId=api["id"])["item"]]
            if not stages:
                raise Fail(f"the REST API {API} has no stage: deploy it (create_deployment)")
            return f"{base}/restapis/{api['id']}/{stages[0]}/_user_request_{ROUTE}"
    names = [a["Name"] for a in gw.get_apis()["Items"]]
    names += [a["name"] for a in rest.get_rest_apis()["items"]]
    raise Fail(f"there is no API named {API} (APIs: {', '.join(names) or 'none'})")


def post(url: str, body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - sandbox URL
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def shown(body: bytes, limit: int = 160) -> str:
    text = body.decode(errors="replace")
    return text if len(text) <= limit else text[:limit] + "..."
