"""The learner-code service: checks get plain data back, learner code runs where it belongs.

Adversarial: a "model" whose unpickling runs code (issue #17, class 1) runs jailed, as the
submission's uid, without the grader's environment, and cannot touch the grader's files.
"""

from __future__ import annotations

import ast
import os
import pickle
from pathlib import Path

import pytest

from crosstrain.grading import jail
from crosstrain.grading.isolate import Confinement, default_isolation, hand_over
from crosstrain.grading.learnercode import JailedLearnerCode
from crosstrain.grading.limits import Limits
from crosstrain.labs.catalog import content_root
from crosstrain.labs.learnercode import LOCAL, LearnerCodeError

ECHO = "import sys\nanswer({'args': sys.argv[1:], 'data': open('in.txt').read()})\n"
# Calls that load or run what a learner made, when a grader makes them in its own process.
BANNED_CALLS = {
    ("joblib", "load"),
    ("pickle", "load"),
    ("pickle", "loads"),
    ("torch", "load"),
    ("jit", "load"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("importlib", "import_module"),
    ("util", "spec_from_file_location"),
    ("runpy", "run_path"),
    ("runpy", "run_module"),
    ("os", "system"),
}
BANNED_NAMES = {"exec", "eval", "compile", "__import__"}
BANNED_MODULES = {"importlib", "runpy", "subprocess", "dill", "cloudpickle", "marshal", "shelve"}
LOADERS = {"joblib", "pickle", "torch", "torch.jit"}  # `from joblib import load` counts too


def grader_modules() -> list[Path]:
    graders = content_root() / "graders"
    return [p for p in graders.rglob("*.py") if "misconceptions" not in p.parts]


def violations(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names.append(getattr(node, "module", None) or "")
            found += [f"imports {n}" for n in names if n.split(".")[0] in BANNED_MODULES]
            if isinstance(node, ast.ImportFrom) and node.module in LOADERS:
                found += [f"imports {a.name}" for a in node.names if a.name in ("load", "loads")]
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in BANNED_NAMES:
                found.append(f"calls {func.id}()")
            elif isinstance(func, ast.Attribute) and isinstance(
                func.value, ast.Name | ast.Attribute
            ):
                owner = func.value.id if isinstance(func.value, ast.Name) else func.value.attr
                if (owner, func.attr) in BANNED_CALLS:
                    found.append(f"calls {owner}.{func.attr}()")
                keywords = {k.arg: k.value for k in node.keywords}
                pickled = keywords.get("allow_pickle")
                if func.attr == "load" and isinstance(pickled, ast.Constant) and pickled.value:
                    found.append("calls load(allow_pickle=True)")
    return [f"{path.parent.name}/{path.name}:{v}" for v in found]


def test_no_grader_loads_or_runs_learner_artifacts_in_its_own_process():
    found = [v for path in grader_modules() for v in violations(path)]
    assert found == [], "use ctx.learner.run (crosstrain.labs.learnercode) instead: " + str(found)


def test_the_audit_catches_each_way_of_loading(tmp_path):
    bad = tmp_path / "graders" / "checks.py"
    bad.parent.mkdir()
    bad.write_text(
        "import joblib, torch, subprocess\nimport numpy as np\nfrom pickle import loads\n"
        "m = joblib.load('m')\nt = torch.jit.load('t')\nexec('1')\n"
        "x = np.load('x', allow_pickle=True)\n"
    )
    found = "\n".join(violations(bad))
    for what in ("joblib.load", "jit.load", "exec()", "allow_pickle", "subprocess", "loads"):
        assert what in found


def test_local_service_answers_plain_data():
    found = LOCAL.run(ECHO, files={"in.txt": b"hello"}, args=["a", "b"])
    assert found == {"args": ["a", "b"], "data": "hello"}


@pytest.mark.parametrize(
    ("script", "said"),
    [
        ("raise ValueError('bad model')", "ValueError: bad model"),
        ("import time\ntime.sleep(30)", "did not finish within 2 s"),
        ("print('no answer')", "without an answer"),
        ("open('answer.json', 'w').write('not json')", "not plain JSON"),
    ],
)
def test_local_service_turns_every_failure_into_one_line(script, said):
    with pytest.raises(LearnerCodeError, match=said):
        LOCAL.run(script, timeout=2)


def test_files_cannot_escape_the_folder():
    with pytest.raises(ValueError, match="plain relative"):
        LOCAL.run("answer(1)", files={"../x": b""})


class Payload:
    """Unpickling this runs code: what a hostile model.joblib does."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        code = f"import os, json; open({self.marker!r}, 'w').write('pwned'); None"
        return (exec, (code,))


def unpickle_script(path: str) -> str:
    return (
        "import os, pickle\n"
        "leak = {k: v for k, v in os.environ.items() if 'SECRET' in k}\n"
        "try:\n"
        "    pickle.load(open('model.pkl', 'rb'))\n"
        "    wrote = 'yes'\n"
        "except OSError as exc:\n"
        "    wrote = type(exc).__name__\n"
        f"sees = os.path.exists({path!r})\n"
        "answer({'uid': os.getuid(), 'leak': leak, 'wrote': wrote, 'sees': sees})\n"
    )


@pytest.fixture
def jailed(tmp_path):
    isolation = default_isolation()
    if not isolation.jailed:
        pytest.skip("the jail needs root on Linux")
    folder = tmp_path / "run"
    (folder / "home" / "tmp").mkdir(parents=True)
    secret_dir = tmp_path / "grader-only"
    secret_dir.mkdir()
    user = isolation.user_for(7)
    hand_over(folder, user)
    plan = jail.make_plan(hide=[secret_dir], keep=[folder, *jail.python_paths()])
    unit = Confinement(folder, {}, Limits(memory_mb=300), user=user, plan=plan)
    return JailedLearnerCode(unit, folder / "home"), secret_dir, user


def test_a_hostile_pickle_runs_jailed_as_the_learner_without_secrets(jailed, monkeypatch):
    service, secret_dir, user = jailed
    monkeypatch.setenv("CROSSTRAIN_GRADING_SECRET", "s3cret")
    marker = secret_dir / "pwned"
    blob = pickle.dumps(Payload(str(marker)))
    found = service.run(unpickle_script(str(secret_dir)), files={"model.pkl": blob})
    assert found["uid"] == jail.ids(user)[0] and found["uid"] != os.getuid()
    assert found["leak"] == {}
    assert found["sees"] is False
    assert not marker.exists()


def test_a_memory_hog_in_the_service_is_a_one_line_failure(jailed):
    service, _, _ = jailed
    hog = "x = bytearray(800 * 1024 * 1024)\nanswer(len(x))\n"
    with pytest.raises(LearnerCodeError, match="memory"):
        service.run(hog, timeout=30)


def test_grader_scripts_can_read_plain_frames_back():
    pytest.importorskip("pandas")
    script = (
        "import pandas as pd\nfrom crosstrain.labs.checkkit import frame_to_plain\n"
        "answer(frame_to_plain(pd.DataFrame({'a': pd.array([1, None], dtype='Int64')})))\n"
    )
    from crosstrain.labs.checkkit import frame_from_plain

    frame = frame_from_plain(LOCAL.run(script))
    assert str(frame["a"].dtype) == "Int64" and frame["a"].isna().tolist() == [False, True]
