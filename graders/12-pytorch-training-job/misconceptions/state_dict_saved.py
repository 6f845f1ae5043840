"""model.pt saved with torch.save(state_dict): torch.jit.load cannot read it.

It holds only the weights, which nobody can use without the Python class.
"""

from pathlib import Path

from crosstrain.labs.catalog import load_module

STEP = "training-job"
HINT = "torchscript"


def apply(ctx):
    cases = load_module(Path(__file__).with_name("_cases.py"))
    source = cases.variant(
        ctx,
        (
            'torch.jit.script(serving).save(os.path.join(model_dir, "model.pt"))',
            'torch.save(serving.state_dict(), os.path.join(model_dir, "model.pt"))',
        ),
    )
    job = cases.run(ctx, source)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
