"""The first CloudFormation call in a fresh sandbox: time and the sandbox's memory it costs.

Starts a sandbox, then times CreateStack of a one-bucket template until CREATE_COMPLETE and
reads the sandbox process's PSS before and after. Baseline in the same run: the same first S3
CreateBucket call on its own in another fresh sandbox. Goal: <= 1 s and <= 60 MB.

    .venv/bin/python benchmarks/cloudformation_first.py
"""

from __future__ import annotations

import json
import os
import time

import psutil

from crosstrain import sandbox

TEMPLATE = json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}})


def pss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_full_info().pss / 2**20


def main() -> None:
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    with sandbox.start() as sb:
        s3 = sb.client("s3")
        before = pss_mb(sb.pid)
        began = time.perf_counter()
        s3.create_bucket(Bucket="plain")
        s3_seconds, s3_mb = time.perf_counter() - began, pss_mb(sb.pid) - before
    with sandbox.start() as sb:
        cfn = sb.client("cloudformation")
        before = pss_mb(sb.pid)
        began = time.perf_counter()
        cfn.create_stack(StackName="first", TemplateBody=TEMPLATE)
        while True:
            status = cfn.describe_stacks(StackName="first")["Stacks"][0]["StackStatus"]
            if not status.endswith("IN_PROGRESS"):
                break
            time.sleep(0.02)
        cfn_seconds, cfn_mb = time.perf_counter() - began, pss_mb(sb.pid) - before
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} (1 and 5 min)")
    print(
        f"first CreateStack -> {status}: {cfn_seconds:.2f} s, +{cfn_mb:.0f} MB PSS "
        "(goal <= 1 s, <= 60 MB)"
    )
    print(
        f"baseline, first CreateBucket: {s3_seconds:.2f} s, +{s3_mb:.0f} MB PSS; "
        f"ratio {cfn_seconds / s3_seconds:.1f}x"
    )


if __name__ == "__main__":
    main()
