"""model.tar.gz packs the build folder, not the files: nothing is at the root of the archive.

The archive holds model/model.joblib and model/code/inference.py, so SageMaker finds no model or
code at the root of /opt/ml/model.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "package-model"
HINT = "layout"


def apply(ctx):
    lab = load_module(Path(__file__).with_name("_lab.py")).solves(ctx)
    lab.package(ctx, "v1", folder="model/")
