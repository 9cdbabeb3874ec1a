"""`autograder similar` (autograder.similar) on a made-up class of 04_optimizers generated here:
alice (the solution woven into the released notebook), mallory (alice's cells with the local
names renamed, a copy), bob (an independent, honest implementation written below), chloe (the
untouched template). The copy is found; the two honest solutions are not a pair; the template's
cells match nothing; the page escapes the students' code and names."""
import csv
import io
import keyword
import os
import subprocess
import sys
import tokenize

import pytest

from autograder import similar
from autograder import spec as specmod
from autograder.authoring import weave
from autograder.submission import import_nbformat

pytest.importorskip("copydetect")
nbformat = import_nbformat()
A = "04_optimizers"
ROOT = specmod.repo_root()

# an independent implementation of the same contract (CS231n's update rules), written apart from
# solutions/04_optimizers.py: other names, other structure, other idioms
HONEST = """\
import numpy as np


def sgd(w, grad_fn, config=None):
    cfg = dict(config or {})
    lr = cfg.get("learning_rate", 0.01)
    cfg["learning_rate"] = lr
    step = grad_fn(w)
    return w - lr * step, cfg


def momentum(w, grad_fn, config=None):
    cfg = dict(config or {})
    cfg.setdefault("learning_rate", 0.01)
    cfg.setdefault("momentum", 0.9)
    velocity = cfg["velocity"] if "velocity" in cfg else np.zeros(np.shape(w))
    velocity = cfg["momentum"] * velocity - cfg["learning_rate"] * grad_fn(w)
    cfg["velocity"] = velocity
    return w + velocity, cfg


def nesterov(w, grad_fn, config=None):
    cfg = dict(config or {})
    for key, default in (("learning_rate", 0.01), ("momentum", 0.9)):
        if key not in cfg:
            cfg[key] = default
    v_old = cfg.get("velocity")
    if v_old is None:
        v_old = np.zeros(np.shape(w))
    lookahead = w + cfg["momentum"] * v_old
    v_new = cfg["momentum"] * v_old - cfg["learning_rate"] * grad_fn(lookahead)
    cfg["velocity"] = v_new
    return w + v_new, cfg


def adagrad(w, grad_fn, config=None):
    cfg = dict(config or {})
    lr = cfg.setdefault("learning_rate", 0.01)
    eps = cfg.setdefault("epsilon", 1e-6)
    grad = grad_fn(w)
    acc = cfg.get("cache")
    acc = grad ** 2 if acc is None else acc + grad ** 2
    cfg["cache"] = acc
    new_w = w - lr * grad / np.sqrt(acc + eps)
    return new_w, cfg


def rmsprop(w, grad_fn, config=None):
    cfg = dict(config or {})
    lr = cfg.setdefault("learning_rate", 0.001)
    decay = cfg.setdefault("rho", 0.9)
    eps = cfg.setdefault("epsilon", 1e-8)
    grad = grad_fn(w)
    avg = cfg.get("cache")
    if avg is None:
        avg = np.zeros(np.shape(w))
    avg = decay * avg + (1.0 - decay) * np.square(grad)
    cfg["cache"] = avg
    return w - lr * grad / np.sqrt(avg + eps), cfg


def adam(w, grad_fn, config=None):
    cfg = dict(config or {})
    defaults = {"learning_rate": 0.001, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    for key in defaults:
        cfg.setdefault(key, defaults[key])
    grad = grad_fn(w)
    step_no = cfg.get("t", 0) + 1
    first = cfg.get("m", np.zeros(np.shape(w)))
    second = cfg.get("v", np.zeros(np.shape(w)))
    first = cfg["beta1"] * first + (1 - cfg["beta1"]) * grad
    second = cfg["beta2"] * second + (1 - cfg["beta2"]) * np.square(grad)
    cfg["m"], cfg["v"], cfg["t"] = first, second, step_no
    first_unbiased = first / (1 - cfg["beta1"] ** step_no)
    second_unbiased = second / (1 - cfg["beta2"] ** step_no)
    return w - cfg["learning_rate"] * first_unbiased / (np.sqrt(second_unbiased) + cfg["epsilon"]), cfg


def minimize(update, grad_fn, w0, steps, config=None):
    current = np.asarray(w0, dtype=float).copy()
    trail = np.empty((steps + 1, current.size))
    trail[0] = current
    for i in range(1, steps + 1):
        current, config = update(current, grad_fn, config)
        trail[i] = current
    return current, trail
"""

RENAMES = {"config": "settings", "m": "vel", "g": "grad", "s": "acc", "beta": "bb", "b1": "beta_one",
           "b2": "beta_two", "t": "step_count", "v": "sq", "m_hat": "m_corr", "v_hat": "v_corr", "path": "hist"}


def _rename(source, mapping):
    """The source with every NAME token in mapping renamed (layout and comments kept)."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.NAME and tok.string in mapping and not keyword.iskeyword(tok.string):
            tok = tok._replace(string=mapping[tok.string])
        out.append(tok)
    return tokenize.untokenize(out)


def _solution():
    with open(os.path.join(ROOT, "solutions", f"{A}.py"), encoding="utf-8") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    template = nbformat.read(os.path.join(ROOT, "assignments", f"{A}.ipynb"), as_version=4)
    alice = weave(template, _solution(), markers=False)
    nbformat.write(alice, str(folder / "alice.ipynb"))
    copy = nbformat.from_dict(alice)
    changed = 0
    for cell in copy.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            renamed = _rename(cell.source, RENAMES)
            changed += renamed != cell.source
            cell.source = renamed
    assert changed >= 5  # the copy's text differs in every function it took
    nbformat.write(copy, str(folder / "mallory.ipynb"))
    bob = weave(template, HONEST, markers=False)
    nbformat.write(bob, str(folder / "bob.ipynb"))
    nbformat.write(template, str(folder / "chloe.ipynb"))
    return folder


def _pairs(folder, **kwargs):
    return {(a, b): (sa, sb) for a, b, sa, sb, *_ in similar.run(A, [str(folder)], str(folder.parent / "sim"),
                                                              quiet=True, **kwargs)}


def test_the_honest_solution_is_its_own_work(klass):
    """bob's implementation differs from the solution's text (the test's premise), and both are
    correct implementations of the same functions."""
    import ast
    names = lambda src: {n.name for n in ast.parse(src).body if isinstance(n, ast.FunctionDef)}  # noqa: E731
    assert names(HONEST) == names(_solution())
    own = similar.student_code(str(klass / "bob.ipynb"), A)
    assert "cfg" in own and "config[" not in own
    from autograder import grading
    result = grading.grade_file(str(klass / "bob.ipynb"), assignment=A)
    assert result["score"] == specmod.load_spec(A).max_score, result["tests"]


def test_renamed_copy_is_found_and_honest_work_is_not(klass):
    pairs = _pairs(klass)
    assert ("alice", "mallory") in pairs
    assert min(pairs[("alice", "mallory")]) >= similar.DEFAULT_THRESHOLD
    assert ("alice", "bob") not in pairs and ("bob", "mallory") not in pairs
    assert not [p for p in pairs if "chloe" in p]


def test_honest_pair_is_well_below_the_threshold(klass):
    """Measured, not only thresholded: the honest pair's shared share is far from the copy's."""
    everything = _pairs(klass, threshold=0.01, min_tokens=1)
    copy = min(everything[("alice", "mallory")])
    honest = max(everything.get(("alice", "bob"), (0.0, 0.0)))
    assert honest < similar.DEFAULT_THRESHOLD < copy


def test_template_cells_are_left_out(klass):
    assert similar.student_code(str(klass / "chloe.ipynb"), A).strip() == ""
    given, _ = similar.template_cells(A)
    own = similar.student_code(str(klass / "alice.ipynb"), A)
    assert "bowl_grad" not in own  # the template's given code
    assert all(chunk not in given for chunk in own.split("\n\n") if chunk.strip())


def test_page_and_csv_list_the_pair_side_by_side_escaped(tmp_path):
    folder = tmp_path / "subs"
    folder.mkdir()
    body = _solution()
    evil = "</pre><script>alert(1)</script>"
    (folder / "alice.py").write_text(f"# {evil}\n" + body, encoding="utf-8")
    (folder / "=copy.py").write_text(f"# {evil}\n" + _rename(body, RENAMES), encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "autograder", "similar", A, str(folder), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "=copy" in proc.stdout and "alice" in proc.stdout
    page = (out / similar.HTML_NAME).read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert page.count("<mark>") >= 2 and page.count("<td><pre>") == 2
    rows = list(csv.DictReader(open(out / similar.CSV_NAME, encoding="utf-8")))
    assert [(r["student_a"], r["student_b"]) for r in rows] == [("'=copy", "alice")]


def test_similar_refuses_a_missing_path(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "autograder", "similar", A, str(tmp_path / "none"),
                           "--out", str(tmp_path / "out")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "none" in proc.stderr
