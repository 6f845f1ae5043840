"""The archive holds code/train.py (the folder was packed), not train.py at its root.

SageMaker runs sagemaker_program from the archive's root, so the job cannot find the script.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "inputs"
HINT = "layout"


def apply(ctx):
    ref = load_module(Path(__file__).with_name("_cases.py")).solves(ctx)
    s3 = ctx.client("s3")
    ref.upload_data(s3, *ref.split())
    archive = ref.source_archive({"code/train.py": ctx.solution_file("train.py").read_text()})
    s3.put_object(Bucket=ref.BUCKET, Key=ref.CODE_KEY, Body=archive)
