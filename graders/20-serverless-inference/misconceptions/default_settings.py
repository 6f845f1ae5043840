"""Deployed with Lambda's defaults: 128 MB and 3 s, too little for scikit-learn and a cold start."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "deploy-function"
HINT = "config"


def apply(ctx):
    lab = load_module(Path(__file__).with_name("_lab.py")).solves(ctx)
    lab.deploy(ctx, MemorySize=128, Timeout=3)
