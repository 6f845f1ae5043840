"""Where the kernel refuses a network namespace per submission, the per-sandbox access key
holds instead (issue #17): a submission's code finds its neighbour's sandbox on the shared
loopback, but cannot make a call it accepts; the neighbour is graded as if alone."""

from __future__ import annotations

import importlib.util
import json
import re
import uuid
from pathlib import Path

import pytest

from crosstrain.grading import netns
from crosstrain.grading.batch import grade
from crosstrain.grading.isolate import default_isolation
from crosstrain.grading.limits import Limits
from crosstrain.grading.store import GradeStore

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not default_isolation().jailed, reason="needs root on Linux"),
]
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("forgery", HERE / "fixtures/forgery.py")
    forgery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(forgery)
    token = uuid.uuid4().hex[:10]
    subs = tmp_path_factory.mktemp("shared-net-subs")
    forgery.build_shared_network(subs, token)
    out = tmp_path_factory.mktemp("shared-net-out")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(netns.Namespace, "create", classmethod(lambda cls: None))  # "refused"
        summary = grade(subs, forgery.LAB, out, jobs=2, progress=False, limits=Limits(timeout=120))
    store = GradeStore(out, summary.lab)
    try:
        results = {r.student: r for r in store.results()}
    finally:
        store.close()
    said = {s: "".join(run.output for run in r.runs) for s, r in results.items()}
    return {"token": token, "results": results, "said": said}


def test_the_prober_reaches_its_neighbours_port(batch):
    port = re.search(r"my port: (\d+)", batch["said"]["b-neighbour"])
    found = re.search(r"foreign sandboxes: \[(.*)\]", batch["said"]["a-prober"])
    assert port and found, batch["said"]
    assert port[1] in found[1].replace(" ", "").split(","), batch["said"]["a-prober"]


def test_no_call_of_the_prober_is_accepted_by_the_neighbours_sandbox(batch):
    accepted = json.loads(re.search(r"accepted: (.*)", batch["said"]["a-prober"])[1])
    port = re.search(r"my port: (\d+)", batch["said"]["b-neighbour"])[1]
    assert accepted.get(port) == [], accepted
    assert f"pwned-{batch['token']}" not in batch["said"]["b-neighbour"]


def test_the_neighbour_is_graded_as_if_alone(batch):
    neighbour = batch["results"]["b-neighbour"]
    assert (str(neighbour.status), neighbour.points) == ("graded", 10), neighbour.message
