"""The in-notebook check of a Keras question: served by a warm sandbox that lives as long as the
kernel (here: the test process), replaying the cells the kernel ran, with the same verdict on every
public case as `autograder check` of the same code."""
import os

import pytest

from autograder import grading, notebook
from autograder import spec as specmod
from autograder.submission import import_nbformat

pytestmark = [pytest.mark.keras, pytest.mark.xdist_group("keras-cache")]

ASSIGNMENT = "05_keras_tanh"
SAMPLE = os.path.join(specmod.repo_root(), "samples", ASSIGNMENT, "alice.ipynb")


def _history(replace=None):
    """The sample's code cells as a kernel's input history (In[0] is empty, In[-1] the running cell)."""
    nb = import_nbformat().read(SAMPLE, as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    if replace:
        sources = [s.replace(*replace) for s in sources]
    return [""] + sources + [f'check("{ASSIGNMENT}.train_model")']


def _public_verdicts(entry):
    return [(c["name"], c["passed"]) for c in entry["extra_data"]["cases"]]


def _cli_entry(tmp_path, history, question):
    """What `autograder check FILE -q question` grades: the same cells, as a file."""
    path = tmp_path / f"{ASSIGNMENT}.py"
    path.write_text("".join(f"# %%\n{src}\n" for src in history[1:-1]), encoding="utf-8")
    result = grading.grade_file(str(path), assignment=ASSIGNMENT, include_hidden=False, questions=[question])
    data = result.as_json() if hasattr(result, "as_json") else result
    return next(t for t in data["tests"] if t["extra_data"]["question"] == question and t["extra_data"]["public"])


def test_the_sandbox_is_used_only_for_keras_questions_and_can_be_turned_off(monkeypatch):
    spec = specmod.load_spec(ASSIGNMENT)
    by_name = {q.name: q for q in spec.questions}
    assert not notebook._warm_sandbox_usable(spec, by_name["load_data"])
    usable = notebook._warm_sandbox_usable(spec, by_name["train_model"])
    if specmod.sandbox_env(spec)[1] is None:      # the spec's backend (JAX) is installed here
        assert usable
    monkeypatch.setenv("AUTOGRADER_CHECK_SANDBOX", "0")
    assert not notebook._warm_sandbox_usable(spec, by_name["train_model"])


def test_keras_checks_reuse_the_kernels_warm_sandbox(tmp_path):
    spec = specmod.load_spec(ASSIGNMENT)
    if specmod.sandbox_env(spec)[1] is not None:
        pytest.skip("the spec's Keras backend is not installed here: the check runs in the kernel")
    history = _history()
    first = notebook.run_check(f"{ASSIGNMENT}.train_model", {"In": history}, lang="en")
    assert first["extra_data"].get("warm_sandbox") is True
    assert first["status"] == "passed", first["output"]
    idle = set(notebook.warm_state()["idle_zygotes"])
    assert idle, "the check's sandbox waits, warm, for the next check"
    checks = notebook.warm_state()["checks"]
    second = notebook.run_check(f"{ASSIGNMENT}.build_model", {"In": history[:-1] + ['check("x")']}, lang="en")
    assert second["extra_data"].get("warm_sandbox") is True and second["status"] == "passed", second["output"]
    assert notebook.warm_state()["checks"] == checks + 1
    # the second check was served by a child of a sandbox that was already warm: none was started
    assert set(notebook.warm_state()["idle_zygotes"]) == idle
    # and its verdict is `autograder check`'s on the same cells
    assert _public_verdicts(first) == _public_verdicts(_cli_entry(tmp_path, history, "train_model"))


def test_a_wrong_training_fails_the_same_cases_as_the_command_line_check(tmp_path):
    spec = specmod.load_spec(ASSIGNMENT)
    if specmod.sandbox_env(spec)[1] is not None:
        pytest.skip("the spec's Keras backend is not installed here: the check runs in the kernel")
    history = _history(replace=("epochs: int = 100", "epochs: int = 10"))
    assert any("epochs: int = 10)" in src for src in history), "the sample's train_model states its default epochs"
    entry = notebook.run_check(f"{ASSIGNMENT}.train_model", {"In": history}, lang="en")
    assert entry["extra_data"].get("warm_sandbox") is True
    assert entry["status"] != "passed"
    verdicts = _public_verdicts(entry)
    assert not all(ok for _, ok in verdicts)
    assert verdicts == _public_verdicts(_cli_entry(tmp_path, history, "train_model"))


def test_a_check_from_a_kernel_never_loads_the_solution(tmp_path, monkeypatch):
    """The kernel runs the student's code: a check made from it must not bring the reference's helpers
    into it, even where solutions/ is here (an instructor's machine running nbgrader's autograde) and a
    helper fails (where `grade` would serve the reference's in its place)."""
    from autograder import references
    calls = []
    real = references.solution_functions
    monkeypatch.setattr(references, "solution_functions", lambda *a, **k: calls.append(a) or real(*a, **k))
    sample = os.path.join(specmod.repo_root(), "samples", "03_backprop", "alice.ipynb")
    nb = import_nbformat().read(sample, as_version=4)
    sources = [c.source.replace("return y * (1 - y)", "return y * (1 + y)").replace(
        "return y * (1.0 - y)", "return y * (1.0 + y)") for c in nb.cells if c.cell_type == "code"]
    assert any("(1 + y)" in s or "(1.0 + y)" in s for s in sources), "the sample's sigmoid_grad_from_output"
    entry = notebook._sandboxed_check("03_backprop", "backward", sources, "en")
    assert entry is not None and calls == []
    assert "sigmoid_grad_from_output" in entry["output"]          # said: a failing helper, not replaced
    # the same submission graded as `grade` grades it does serve the reference's helper (the spy works)
    path = tmp_path / "03_backprop.py"
    path.write_text("".join(f"# %%\n{src}\n" for src in sources), encoding="utf-8")
    grading.grade_file(str(path), assignment="03_backprop", include_hidden=False, questions=["backward"])
    assert calls
