"""Lambda cold starts with zygote workers, against a fresh ``python`` and blank workers, one run.

Measures boto3 ``Invoke`` round trips of a cold worker (UpdateFunctionConfiguration retires the
warm one before each) for a hello handler and for one that loads a scikit-learn model with joblib
at init, in two sandboxes started in the same run: zygotes on (the default) and off
(``CROSSTRAIN_WORKER_ZYGOTES=false``: every worker starts as a blank Python, as before). Baseline in
the same run: a fresh ``python`` process doing what the sklearn handler does (import joblib, load
the model, predict once) and a fresh ``python -c pass``. Each sandbox is taught first (one invoke
per function) and the benchmark waits until its health shows scikit-learn preloaded.
Goals: sklearn cold <= 150 ms and <= 0.15x the fresh python; hello cold <= 15 ms.

    .venv/bin/python benchmarks/cold_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lambda_invoke import HELLO, ROW, SKLEARN, client, deploy, make_zip, model_bytes

from crosstrain import sandbox


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def fresh_python(script: str, cwd: Path, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        command = [sys.executable, "-c", script]
        subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - began)
    return samples


def cold_invokes(lam, name: str, payload: bytes, runs: int) -> list[float]:
    samples = []
    for i in range(runs):
        lam.update_function_configuration(
            FunctionName=name, Environment={"Variables": {"RUN": str(i)}}
        )
        began = time.perf_counter()
        response = lam.invoke(FunctionName=name, Payload=payload)
        response["Payload"].read()
        samples.append(time.perf_counter() - began)
        assert "FunctionError" not in response, response
    return samples


def measure(zygotes: bool, hello_zip: bytes, sk_zip: bytes, runs: int) -> dict[str, float]:
    os.environ["CROSSTRAIN_WORKER_ZYGOTES"] = "true" if zygotes else "false"  # read by start
    with sandbox.start() as sb:
        deploy(sb.endpoint_url, "hello", hello_zip)
        deploy(sb.endpoint_url, "sklearn", sk_zip, memory=512)
        lam = client("lambda", sb.endpoint_url)
        sk_payload = f'{{"row": {ROW}}}'.encode()
        cold_invokes(lam, "hello", b"{}", 2)  # teaches the zygote its factory
        cold_invokes(lam, "sklearn", sk_payload, 1)  # ... and what the handler imports
        if zygotes:
            deadline = time.monotonic() + 120
            while "sklearn" not in str(sb.health().get("zygotes")):
                assert time.monotonic() < deadline, "the zygote never preloaded sklearn"
                time.sleep(0.1)
        cold_invokes(lam, "hello", b"{}", 2)
        hello = cold_invokes(lam, "hello", b"{}", runs)
        sk = cold_invokes(lam, "sklearn", sk_payload, runs)
    os.environ.pop("CROSSTRAIN_WORKER_ZYGOTES")
    return {"hello": median_ms(hello), "sklearn": median_ms(sk)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    model = model_bytes()
    hello_zip = make_zip({"app.py": HELLO})
    sk_zip = make_zip({"app.py": SKLEARN, "model.joblib": model})
    folder = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    (folder / "model.joblib").write_bytes(model)
    script = (
        "import joblib; model = joblib.load('model.joblib'); "
        f"print(model.predict([{ROW}]).tolist())"
    )
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    on = measure(True, hello_zip, sk_zip, args.runs)
    off = measure(False, hello_zip, sk_zip, args.runs)
    fresh_sk = median_ms(fresh_python(script, folder, args.runs))
    fresh_pass = median_ms(fresh_python("pass", folder, args.runs))
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    rows = [
        ("cold sklearn, zygote workers", on["sklearn"]),
        ("cold sklearn, blank workers (before)", off["sklearn"]),
        ("fresh python: import joblib, load, predict", fresh_sk),
        ("cold hello, zygote workers", on["hello"]),
        ("cold hello, blank workers (before)", off["hello"]),
        ("fresh python -c pass", fresh_pass),
    ]
    print(f"{'measure (median of ' + str(args.runs) + ')':48} {'ms':>9}")
    for label, value in rows:
        print(f"{label:48} {value:9.1f}")
    print()
    ratio = on["sklearn"] / fresh_sk
    print(
        f"cold sklearn / fresh python: {ratio:.3f} (goal <= 0.15); "
        f"{on['sklearn']:.0f} ms (goal <= 150 ms)"
    )
    print(f"cold sklearn zygote / blank: {on['sklearn'] / off['sklearn']:.3f}")
    print(
        f"cold hello: {on['hello']:.1f} ms (goal <= 15 ms); zygote / blank: "
        f"{on['hello'] / off['hello']:.2f}"
    )


if __name__ == "__main__":
    main()
