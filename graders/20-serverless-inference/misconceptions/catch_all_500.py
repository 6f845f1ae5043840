"""No validation, but every error is caught and answered 500: the caller cannot tell bad input
from a broken service."""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "validate-input"
HINT = "validation"


def apply(ctx):
    lab = load_module(Path(__file__).with_name("_lab.py")).solves(ctx)
    source = lab.handler_source(ctx, validation=False, logging=False)
    source = lab.replace(source, "except BadRequest as exc:", "except Exception as exc:")
    source = lab.replace(source, "answer = respond(400,", "answer = respond(500,")
    lab.redeploy(ctx, source, write=False)
