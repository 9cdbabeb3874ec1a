"""Trust (issues 11 and 19), tried as a student who studies the grader: nothing of the reference is
reachable from student code, one question never costs another, `check` and `grade` agree on every
public case, hard-coding the public answers earns nothing, and hidden cases tell only the kind of a
failure."""
import os

import numpy as np
import pytest

from autograder import grading, i18n, references, sandbox
from autograder import spec as specmod
from autograder.child import wire

REPO = specmod.repo_root()
CONFIG = sandbox.GraderConfig.from_env().with_limits(call_seconds=2.0, question_seconds=60.0)


def solution_source(assignment):
    with open(os.path.join(REPO, "solutions", f"{assignment}.py"), encoding="utf-8") as fh:
        return fh.read()


def grade_text(tmp_path, name, source, assignment, include_hidden=True, config=CONFIG):
    path = tmp_path / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    return grading.grade_file(str(path), assignment=assignment, include_hidden=include_hidden, config=config)


def with_function(source, name, new_def):
    from grading_helpers import replace_function
    return replace_function(source, name, new_def)


# ---- 1. no reference code beside student code -----------------------------------------------------
SPY = r'''
import gc, sys, types

def _everything(needles):
    """Which of `needles` (lines of the solution) appear anywhere in this process's objects, and
    every source file behind a function object or a module this process holds."""
    files, texts = set(), set()
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType):
            files.add(obj.__code__.co_filename)
            texts.update(c for c in obj.__code__.co_consts if isinstance(c, str))
        elif isinstance(obj, str) and len(obj) < 100000:
            texts.add(obj)
    for mod in list(sys.modules.values()):
        files.add(str(getattr(mod, "__file__", "")))
    found = [n for n in needles if any(n in t for t in texts)]
    suspicious = sorted(f for f in files if "solution" in f or "assignments" in f or "reference" in f)
    return {"found": found, "files": suspicious}
'''


def test_no_reference_function_exists_in_the_student_process_even_while_injected(tmp_path):
    """03 with a broken sigmoid: forward is graded with the reference's sigmoid in place of the
    student's. The student's forward looks through its own process while the reference is in use and
    reports what it finds; nothing of solutions/ is there: no file, no function, no source text."""
    needles = sorted({ln.strip() for ln in solution_source("03_backprop").splitlines()
                      if len(ln.strip()) > 25 and not ln.strip().startswith(("#", "def ", '"""', "import", "return"))})
    source = "import numpy as np\n\ndef sigmoid(z):\n    raise ValueError('broken on purpose')\n" + SPY + '''
def spy(X, W1, needles):
    h = sigmoid(X @ W1)          # answered by the grader, through the stub
    return {"h": h, **_everything(needles)}
'''
    setup, _, _ = grading.sandbox_setup(specmod.load_spec("03_backprop"), CONFIG)
    helpers = {"sigmoid": references.solution_functions("03_backprop")["sigmoid"]}
    with sandbox.Session([{"index": 0, "source": source}], setup, pool=None) as session, \
            session.question("forward") as run:
        X, W1 = np.array([[0.5, -1.0]]), np.array([[1.0], [2.0]])
        reply = run.call({"fn": "spy", "args": [{"value": wire.encode(v)} for v in (X, W1, needles)],
                          "kwargs": {}, "remote": ["sigmoid"]}, timeout=20, helpers=helpers)
    seen = wire.decode(reply["value"]) if reply.get("ok") else reply
    assert reply.get("ok"), reply
    assert np.allclose(seen["h"], helpers["sigmoid"](X @ W1))   # the stub did answer with the reference's value
    assert needles and seen["found"] == [], seen["found"]
    assert seen["files"] == [], seen["files"]


def test_forwarding_to_whatever_is_found_in_the_process_scores_nothing(tmp_path):
    """The attack of issue 11: implement nothing, forward every graded name to a function of that
    name found anywhere in the process (gc, frames, modules)."""
    spec = specmod.load_spec("03_backprop")
    names = sorted({fn for q in spec.questions for fn in q.functions})
    forwarder = '''
import gc, sys, types
def _find(name, me):
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and obj.__name__ == name and obj is not me \\
                and obj.__code__.co_filename != me.__code__.co_filename:
            return obj
    for mod in list(sys.modules.values()):
        f = getattr(mod, name, None)
        if callable(f) and f is not me:
            return f
    raise NotImplementedError(name)
'''
    for name in names:
        forwarder += f"\ndef {name}(*a, **k):\n    return _find({name!r}, {name})(*a, **k)\n"
    result = grade_text(tmp_path, "forwarder", forwarder, "03_backprop")
    assert result["score"] <= 5, {t["name"]: t["score"] for t in result["tests"] if t["score"]}


# ---- 2. one question never costs another --------------------------------------------------------------
def test_an_endless_backward_costs_backward_only(tmp_path):
    source = with_function(solution_source("03_backprop"), "backward",
                           "def backward(t, params, cache):\n    while True:\n        pass")
    result = grade_text(tmp_path, "loop", source, "03_backprop")
    got = grading.question_scores(result)
    assert got["backward"][0] == 0
    assert all(s == m for q, (s, m) in got.items() if q != "backward"), got
    out = grading.by_question(result)["backward"]["output"]
    assert "ran longer than" in out and "not called" in out, out


@pytest.mark.parametrize("poison", [
    "import numpy as np\n    np.exp = lambda z: 0 * z\n    np.sum = lambda *a, **k: 0.0",   # patches the library
    "import builtins\n    builtins.sum = lambda *a: 0; builtins.float = lambda *a: 0.0",    # patches builtins
    "import os\n    os._exit(0)",                                                            # exits
    "globals()['forward'] = lambda X, p: (0, {})",                                          # rebinds a neighbour
])
def test_what_one_question_does_to_its_process_reaches_no_other(tmp_path, poison):
    """loss poisons its process, then answers correctly (or exits): every other question is intact."""
    body = "def loss(y, t):\n    " + poison + "\n    return 0.5 * float(((y - t) ** 2).sum())"
    source = with_function(solution_source("03_backprop"), "loss", body)
    got = grading.question_scores(grade_text(tmp_path, "poison", source, "03_backprop"))
    assert all(s == m for q, (s, m) in got.items() if q not in ("loss", "train")), got


# ---- 3. check agrees with grade ----------------------------------------------------------------------
MISTAKES = [
    ("03_backprop", "sigmoid_grad_from_output", "def sigmoid_grad_from_output(y):\n    return y * (1 + y)"),
    ("03_backprop", "loss", "def loss(y, t):\n    import numpy as np\n    return float(0.5 * np.mean((y - t) ** 2))"),
    ("01_perceptron", "step", "def step(z):\n    return 1 if z >= 0 else 0"),
    ("02_xor_mlp", "layer_forward", "def layer_forward(X, W, b, activation):\n    return activation(X @ W.T + b)"),
]


@pytest.mark.parametrize("assignment,fn,new_def", MISTAKES, ids=[f"{a}-{f}" for a, f, _ in MISTAKES])
def test_check_and_grade_reach_the_same_verdict_on_every_public_case(tmp_path, assignment, fn, new_def):
    source = with_function(solution_source(assignment), fn, new_def)
    graded = grade_text(tmp_path, "g", source, assignment, include_hidden=True)
    checked = grade_text(tmp_path, "c", source, assignment, include_hidden=False)
    public = lambda r: {(t["extra_data"]["question"], c["name"]): c["passed"]  # noqa: E731
                        for t in r["tests"] for c in t["extra_data"]["cases"] if c["public"]}
    assert public(graded) == public(checked)
    assert not all(public(graded).values())  # the mistake is seen


def test_injected_questions_say_so_and_name_the_failing_helper(tmp_path):
    source = with_function(solution_source("03_backprop"), "sigmoid", "def sigmoid(z):\n    return z")
    result = grade_text(tmp_path, "inj", source, "03_backprop")
    forward = grading.by_question(result)["forward"]
    assert forward["score"] == forward["max_score"]
    assert "`sigmoid`" in forward["output"] and "reference" in forward["output"], forward["output"]
    assert forward["extra_data"]["injected"] == ["sigmoid"]


# ---- 4. hard-coding earns nothing ----------------------------------------------------------------------
@pytest.mark.parametrize("assignment", ["01_perceptron", "02_xor_mlp", "03_backprop", "04_optimizers",
                                        "05_keras_tanh"])
def test_reproducing_the_public_expected_values_scores_at_most_5(assignment):
    """What a submission that answers every public call from a table of the shipped expected values
    earns: each such case passes (by construction), while the cases the harness drives (probes) and
    the hidden cases, whose inputs it cannot know, fail. At most 5 points on any assignment."""
    spec = specmod.load_spec(assignment)
    refs, _ = references.load(assignment, include_hidden=True)
    total = 0.0
    for q in spec.questions:
        storable = lambda c: c["public"] and "fn" in c["call"] and c.get("stand_in") is None  # noqa: E731
        cases = [grading.CaseResult(c["name"], bool(c["public"]),
                                    grading.Verdict(True) if storable(c) else grading.Verdict.fail("value"),
                                    c["call"].get("fn", ""), not storable(c) and c["public"])
                 for c in refs.get(q.name, [])]
        total += sum(e["score"] for e in grading.question_entries(assignment, grading.QuestionResult(q, cases), "en"))
    assert total <= 5, total


def test_honest_partial_work_keeps_its_partial_credit(tmp_path):
    """A sigmoid that overflows at |z| = 1000 (the usual first try) still earns the cases it gets right."""
    source = with_function(solution_source("03_backprop"), "sigmoid",
                           "def sigmoid(z):\n    import numpy as np\n    return 1.0 / (1.0 + np.exp(-z))")
    got = grading.question_scores(grade_text(tmp_path, "partial", source, "03_backprop"))
    assert 0 < got["sigmoid"][0] < got["sigmoid"][1], got


# ---- 5. hidden cases tell the kind only -----------------------------------------------------------------
def test_hidden_failures_say_only_what_kind_of_failure(tmp_path):
    source = with_function(solution_source("03_backprop"), "sigmoid",
                           "def sigmoid(z):\n    import numpy as np\n    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30))) + 1e-3")
    result = grade_text(tmp_path, "hid", source, "03_backprop")
    from autograder.compare import KINDS
    kinds = {i18n.t(f"hidden_{k}", "en") for k in set(KINDS.values()) if k != "passed"}
    hidden = [c for t in result["tests"] for c in t["extra_data"]["cases"] if not c["public"] and not c["passed"]]
    assert hidden
    assert all(c["message"] in kinds for c in hidden), [c["message"] for c in hidden]
    for t in result["tests"]:
        if not t["extra_data"]["public"]:
            for line in t["output"].splitlines():
                if line.startswith("✗"):
                    assert line.rsplit(": ", 1)[-1] in kinds, line


# ---- 6. each question tests what it names (issue 19) -------------------------------------------------
FD_BACKWARD = '''
def backward(t, params, cache):
    """Richardson-extrapolated finite differences of the student's own forward and loss."""
    import numpy as np
    X = cache["X"]
    def f():
        return loss(forward(X, params)[0], t)
    grads = {}
    for k, v in params.items():
        v = params[k] = np.array(v, dtype=np.float64)
        g = np.zeros_like(v)
        for i in np.ndindex(v.shape):
            old = v[i]
            def d(h):
                v[i] = old + h; up = f(); v[i] = old - h; down = f(); v[i] = old
                return (up - down) / (2 * h)
            g[i] = (4 * d(1e-3) - d(2e-3)) / 3
        grads[k] = g
    return grads
'''


def test_backward_must_come_from_the_cache(tmp_path):
    """A finite-difference backward matches on consistent caches but not where the cache holds h and y
    from other weights: it loses the question, while the solution keeps every case."""
    source = with_function(solution_source("03_backprop"), "backward", FD_BACKWARD)
    result = grade_text(tmp_path, "fd", source, "03_backprop", config=CONFIG.with_limits(call_seconds=20.0))
    backward = grading.by_question(result)["backward"]
    failed = [c["name"] for c in backward["extra_data"]["cases"] if not c["passed"]]
    assert failed and all("other weights" in name for name in failed), failed
    assert backward["score"] <= 0.75 * backward["max_score"], backward["score"]
    solution = grading.by_question(grade_text(tmp_path, "sol", solution_source("03_backprop"), "03_backprop"))
    assert solution["backward"]["score"] == solution["backward"]["max_score"]


STRUCTURE_ATTACKS = {
    "lookup gates": ("gates", '''
def AND(x1, x2):
    return [0, 0, 0, 1][2 * int(x1) + int(x2)]
def OR(x1, x2):
    return [0, 1, 1, 1][2 * int(x1) + int(x2)]
def NAND(x1, x2):
    return [1, 1, 1, 0][2 * int(x1) + int(x2)]
'''),
    "gates that call perceptron for show": ("gates", '''
def AND(x1, x2):
    perceptron([0, 0], [0, 0], 0.0)
    return int(x1 and x2)
def OR(x1, x2):
    perceptron([0, 0], [0, 0], 0.0)
    return int(x1 or x2)
def NAND(x1, x2):
    perceptron([0, 0], [0, 0], 0.0)
    return int(not (x1 and x2))
'''),
    "XOR bound through globals": ("XOR", '''
import operator
globals()["X" + "OR"] = lambda x1, x2: operator.xor(int(x1), int(x2))
'''),
    "XOR that calls a gate and returns xor": ("XOR", '''
def XOR(x1, x2):
    import operator
    NAND(x1, x2)
    return operator.xor(int(x1), int(x2))
'''),
    "XOR that launders xor through a gate": ("XOR", '''
def XOR(x1, x2):
    import operator
    r = operator.xor(int(x1), int(x2))
    return AND(r, r)
'''),
    "patched probes and stand-ins": ("XOR", '''
import sys
for name, mod in list(sys.modules.items()):
    if name.startswith("agchild"):
        for attr in dir(mod):
            if attr.startswith("probe") or attr == "perform_call":
                try:
                    setattr(mod, attr, lambda *a, **k: {"table": [0, 1, 1, 0], "gate_calls": {"AND": 4}})
                except Exception:
                    pass
def XOR(x1, x2):
    import operator
    return operator.xor(int(x1), int(x2))
'''),
}


@pytest.mark.parametrize("name", sorted(STRUCTURE_ATTACKS))
def test_structure_is_judged_outside_and_cannot_be_dodged(tmp_path, name):
    question, attack = STRUCTURE_ATTACKS[name]
    source = solution_source("01_perceptron")
    for fn in ("AND", "OR", "NAND") if question == "gates" else ("XOR",):
        source = with_function(source, fn, "")
    source += "\n" + attack
    got = grading.question_scores(grade_text(tmp_path, "attack", source, "01_perceptron"))
    assert got[question][0] <= 0.35 * got[question][1], (name, got)
    if "patched" not in name:  # (patching the harness in the child only breaks the student's own answers)
        assert all(s == m for q, (s, m) in got.items() if q != question), (name, got)


def test_a_numerical_gradient_that_calls_a_library_loses_the_question(tmp_path):
    """SciPy's approx_fprime (forward differences, its own step) in place of central differences
    with the given h: the cases tell them apart."""
    library = '''
def numerical_gradient(f, x, h=1e-5):
    import numpy as np
    from scipy.optimize import approx_fprime
    flat = x.reshape(-1)
    original = flat.copy()
    def at(v):
        flat[:] = v
        return f()
    grad = approx_fprime(original.copy(), at)
    flat[:] = original
    return grad.reshape(x.shape)
'''
    pytest.importorskip("scipy")
    source = with_function(solution_source("03_backprop"), "numerical_gradient", library)
    got = grading.question_scores(grade_text(tmp_path, "lib", source, "03_backprop"))
    assert got["numerical_gradient"][0] < got["numerical_gradient"][1], got


@pytest.mark.slow
def test_a_keras_model_trained_twice_loses_train_model(tmp_path):
    twice = '''
def train_model(model, X, y, epochs=100):
    model.fit(X, y, epochs=epochs, verbose=0)
    return model.fit(X, y, epochs=epochs, verbose=0)
'''
    source = with_function(solution_source("05_keras_tanh"), "train_model", twice)
    config = sandbox.GraderConfig.from_env()
    result = grade_text(tmp_path, "twice", source, "05_keras_tanh", config=config)
    got = grading.question_scores(result)
    assert got["train_model"][0] < got["train_model"][1], got
    assert "optimizer steps" in grading.by_question(result)["train_model"]["output"]
