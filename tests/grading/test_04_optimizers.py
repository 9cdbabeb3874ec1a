"""Grading 04_optimizers end to end (spec: autograder/assignments/04_optimizers/spec.py).

A correct implementation written differently from solutions/ (config changed in place as in
CS231n, state created with np.zeros_like after a None check, state arrays updated in place, the
velocity stored with the other sign, t a NumPy int, sqrt as ** 0.5, minimize filling a
preallocated path) gets every point; each plausible mistake loses points on its own question
only; the untouched template scores 0 with every question "not attempted"; grading is
deterministic.
"""
import os
import textwrap

import pytest

from autograder.grading import by_question, grade_file, question_scores
from autograder.spec import load_spec

ASSIGNMENT = "04_optimizers"
SPEC = load_spec(ASSIGNMENT)   # its max_score: the autograded part of the 100 (the written answers are the rest)
QUESTIONS = {q.name: q.points for q in SPEC.questions}
TEMPLATE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "assignments", f"{ASSIGNMENT}.ipynb")


def _src(text):
    return textwrap.dedent(text).strip() + "\n"


# ---- correct, written differently from solutions/ -----------------------------------------------
CORRECT = {
    "sgd": _src("""
        def sgd(w, grad_fn, config=None):
            if config is None:
                config = {}
            config.setdefault("learning_rate", 1e-2)
            next_w = w - config["learning_rate"] * grad_fn(w)
            return next_w, config
    """),
    # v = beta v + lr g; w <- w - v: the lecture's rule with the velocity's sign flipped.
    "momentum": _src("""
        def momentum(w, grad_fn, config=None):
            if config is None:
                config = {}
            config.setdefault("learning_rate", 1e-2)
            config.setdefault("momentum", 0.9)
            v = config.get("velocity")
            if v is None:
                v = np.zeros_like(w)
            v = config["momentum"] * v + config["learning_rate"] * grad_fn(w)
            config["velocity"] = v
            return w - v, config
    """),
    "nesterov": _src("""
        def nesterov(w, grad_fn, config=None):
            if config is None:
                config = {}
            lr = config.setdefault("learning_rate", 1e-2)
            beta = config.setdefault("momentum", 0.9)
            v = config.get("velocity")
            if v is None:
                v = np.zeros_like(w)
            v = beta * v + lr * grad_fn(w - beta * v)
            config["velocity"] = v
            return w - v, config
    """),
    "adagrad": _src("""
        def adagrad(w, grad_fn, config=None):
            if config is None:
                config = {}
            config.setdefault("learning_rate", 1e-2)
            config.setdefault("epsilon", 1e-6)
            cache = config.setdefault("cache", np.zeros_like(w))
            g = grad_fn(w)
            cache += g ** 2
            return w - config["learning_rate"] * (g / (cache + config["epsilon"]) ** 0.5), config
    """),
    "rmsprop": _src("""
        def rmsprop(w, grad_fn, config=None):
            config = config if config is not None else {}
            config.setdefault("learning_rate", 1e-3)
            config.setdefault("rho", 0.9)
            config.setdefault("epsilon", 1e-8)
            if "cache" not in config:
                config["cache"] = np.zeros(w.shape)
            g = grad_fn(w)
            cache = config["cache"]
            cache *= config["rho"]
            cache += (1.0 - config["rho"]) * np.square(g)
            step = config["learning_rate"] * g / np.sqrt(cache + config["epsilon"])
            return w - step, config
    """),
    "adam": _src("""
        def adam(w, grad_fn, config=None):
            if config is None:
                config = {}
            for key, default in (("learning_rate", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
                config.setdefault(key, default)
            g = grad_fn(w)
            m = config.get("m", np.zeros_like(w))
            v = config.get("v", np.zeros_like(w))
            t = np.int64(config.get("t", 0)) + 1
            m = m + (1 - config["beta1"]) * (g - m)
            v = config["beta2"] * v + (1 - config["beta2"]) * (g * g)
            m_hat = m / (1 - config["beta1"] ** t)
            v_hat = v / (1 - config["beta2"] ** t)
            config["m"], config["v"], config["t"] = m, v, t
            return w - config["learning_rate"] * m_hat / (v_hat ** 0.5 + config["epsilon"]), config
    """),
    "minimize": _src("""
        def minimize(update, grad_fn, w0, steps, config=None):
            w = np.asarray(w0, dtype=float).copy()
            path = np.empty((steps + 1,) + w.shape)
            path[0] = w
            for k in range(steps):
                w, config = update(w, grad_fn, config)
                path[k + 1] = w
            return w, path
    """),
}

# ---- one plausible mistake each: (question, label, replacement for that function) ---------------
MUTANTS = [
    ("sgd", "gradient ascent", """
        def sgd(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            return w + config["learning_rate"] * grad_fn(w), config
    """),
    ("sgd", "default learning rate 0.1", """
        def sgd(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.1)
            return w - config["learning_rate"] * grad_fn(w), config
    """),
    ("sgd", "w changed in place", """
        def sgd(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            w -= config["learning_rate"] * grad_fn(w)
            return w, config
    """),
    ("sgd", "default not written into config", """
        def sgd(w, grad_fn, config=None):
            config = dict(config or {})
            return w - config.get("learning_rate", 0.01) * grad_fn(w), config
    """),
    ("momentum", "w - m with m = beta m - lr g", """
        def momentum(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            config.setdefault("momentum", 0.9)
            m = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * grad_fn(w)
            config["velocity"] = m
            return w - m, config
    """),
    ("momentum", "velocity not carried over (always zeros)", """
        def momentum(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            config.setdefault("momentum", 0.9)
            m = config["momentum"] * np.zeros_like(w) - config["learning_rate"] * grad_fn(w)
            config["velocity"] = m
            return w + m, config
    """),
    ("momentum", "update with the old velocity", """
        def momentum(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            config.setdefault("momentum", 0.9)
            m = config.get("velocity", np.zeros_like(w))
            w_next = w + m
            config["velocity"] = config["momentum"] * m - config["learning_rate"] * grad_fn(w)
            return w_next, config
    """),
    ("nesterov", "gradient at w instead of the look-ahead", """
        def nesterov(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            config.setdefault("momentum", 0.9)
            m = config["momentum"] * config.get("velocity", np.zeros_like(w)) - config["learning_rate"] * grad_fn(w)
            config["velocity"] = m
            return w + m, config
    """),
    ("nesterov", "the slides' w_temp + m (momentum counted twice)", """
        def nesterov(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            config.setdefault("momentum", 0.9)
            m = config.get("velocity", np.zeros_like(w))
            w_temp = w + config["momentum"] * m
            m = config["momentum"] * m - config["learning_rate"] * grad_fn(w_temp)
            config["velocity"] = m
            return w_temp + m, config
    """),
    ("adagrad", "epsilon outside the square root", """
        def adagrad(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            config.setdefault("epsilon", 1e-6)
            g = grad_fn(w)
            s = config.get("cache", np.zeros_like(w)) + g * g
            config["cache"] = s
            return w - config["learning_rate"] * g / (np.sqrt(s) + config["epsilon"]), config
    """),
    ("adagrad", "Keras's default epsilon 1e-7", """
        def adagrad(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            config.setdefault("epsilon", 1e-7)
            g = grad_fn(w)
            s = config.get("cache", np.zeros_like(w)) + g * g
            config["cache"] = s
            return w - config["learning_rate"] * g / np.sqrt(s + config["epsilon"]), config
    """),
    ("adagrad", "cache not accumulated (s = g^2)", """
        def adagrad(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.01)
            config.setdefault("epsilon", 1e-6)
            g = grad_fn(w)
            s = g * g
            config["cache"] = s
            return w - config["learning_rate"] * g / np.sqrt(s + config["epsilon"]), config
    """),
    ("rmsprop", "no (1 - rho) factor", """
        def rmsprop(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.001)
            config.setdefault("rho", 0.9)
            config.setdefault("epsilon", 1e-8)
            g = grad_fn(w)
            s = config["rho"] * config.get("cache", np.zeros_like(w)) + g * g
            config["cache"] = s
            return w - config["learning_rate"] * g / np.sqrt(s + config["epsilon"]), config
    """),
    ("rmsprop", "epsilon outside the square root", """
        def rmsprop(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.001)
            config.setdefault("rho", 0.9)
            config.setdefault("epsilon", 1e-8)
            g = grad_fn(w)
            s = config["rho"] * config.get("cache", np.zeros_like(w)) + (1 - config["rho"]) * g * g
            config["cache"] = s
            return w - config["learning_rate"] * g / (np.sqrt(s) + config["epsilon"]), config
    """),
    ("rmsprop", "default rho 0.99", """
        def rmsprop(w, grad_fn, config=None):
            config = dict(config or {})
            config.setdefault("learning_rate", 0.001)
            config.setdefault("rho", 0.99)
            config.setdefault("epsilon", 1e-8)
            g = grad_fn(w)
            s = config["rho"] * config.get("cache", np.zeros_like(w)) + (1 - config["rho"]) * g * g
            config["cache"] = s
            return w - config["learning_rate"] * g / np.sqrt(s + config["epsilon"]), config
    """),
    ("adam", "t incremented after use (first step t = 0)", """
        def adam(w, grad_fn, config=None):
            config = dict(config or {})
            for k, d in (("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
                config.setdefault(k, d)
            g = grad_fn(w)
            b1, b2, t = config["beta1"], config["beta2"], config.get("t", 0)
            m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * g
            v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * g * g
            w_next = w - config["learning_rate"] * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + config["epsilon"])
            config.update(m=m, v=v, t=t + 1)
            return w_next, config
    """),
    ("adam", "t counted from 1 and incremented after use", """
        def adam(w, grad_fn, config=None):
            config = dict(config or {})
            for k, d in (("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
                config.setdefault(k, d)
            g = grad_fn(w)
            b1, b2, t = config["beta1"], config["beta2"], config.get("t", 1)
            m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * g
            v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * g * g
            w_next = w - config["learning_rate"] * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + config["epsilon"])
            config.update(m=m, v=v, t=t + 1)
            return w_next, config
    """),
    ("adam", "epsilon inside the square root", """
        def adam(w, grad_fn, config=None):
            config = dict(config or {})
            for k, d in (("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
                config.setdefault(k, d)
            g = grad_fn(w)
            b1, b2, t = config["beta1"], config["beta2"], config.get("t", 0) + 1
            m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * g
            v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * g * g
            config.update(m=m, v=v, t=t)
            return w - config["learning_rate"] * (m / (1 - b1 ** t)) / np.sqrt(v / (1 - b2 ** t) + config["epsilon"]), config
    """),
    ("adam", "no bias correction", """
        def adam(w, grad_fn, config=None):
            config = dict(config or {})
            for k, d in (("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
                config.setdefault(k, d)
            g = grad_fn(w)
            b1, b2, t = config["beta1"], config["beta2"], config.get("t", 0) + 1
            m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * g
            v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * g * g
            config.update(m=m, v=v, t=t)
            return w - config["learning_rate"] * m / (np.sqrt(v) + config["epsilon"]), config
    """),
    ("adam", "t stored as a float", """
        def adam(w, grad_fn, config=None):
            config = dict(config or {})
            for k, d in (("learning_rate", 0.001), ("beta1", 0.9), ("beta2", 0.999), ("epsilon", 1e-8)):
                config.setdefault(k, d)
            g = grad_fn(w)
            b1, b2, t = config["beta1"], config["beta2"], config.get("t", 0.0) + 1.0
            m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * g
            v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * g * g
            config.update(m=m, v=v, t=t)
            return w - config["learning_rate"] * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + config["epsilon"]), config
    """),
    ("minimize", "path without w0", """
        def minimize(update, grad_fn, w0, steps, config=None):
            w, path = np.array(w0, dtype=float), []
            for _ in range(steps):
                w, config = update(w, grad_fn, config)
                path.append(w)
            return w, np.array(path).reshape(steps, -1)
    """),
    ("minimize", "config not threaded (the given one every call)", """
        def minimize(update, grad_fn, w0, steps, config=None):
            w = np.array(w0, dtype=float)
            path = [w]
            for _ in range(steps):
                w, _ = update(w, grad_fn, config)
                path.append(w)
            return w, np.array(path)
    """),
    ("minimize", "the given config ignored", """
        def minimize(update, grad_fn, w0, steps, config=None):
            w = np.array(w0, dtype=float)
            path = [w]
            config = None
            for _ in range(steps):
                w, config = update(w, grad_fn, config)
                path.append(w)
            return w, np.array(path)
    """),
    ("minimize", "one step too many", """
        def minimize(update, grad_fn, w0, steps, config=None):
            w = np.array(w0, dtype=float)
            path = [w]
            for _ in range(steps + 1):
                w, config = update(w, grad_fn, config)
                path.append(w)
            return w, np.array(path[:-1])
    """),
]


def _write(tmp_path, name, functions):
    path = tmp_path / f"{name}.py"
    path.write_text("import numpy as np\n\n\n" + "\n\n".join(functions[q] for q in QUESTIONS) + "\n", encoding="utf-8")
    return str(path)


def _scores(result):
    return {q: score for q, (score, _) in question_scores(result).items()}


@pytest.fixture(scope="module")
def correct_result(tmp_path_factory):
    return grade_file(_write(tmp_path_factory.mktemp("correct"), "alt_correct", CORRECT), assignment=ASSIGNMENT)


def test_questions_and_points(correct_result):
    assert {t["name"]: t["max_score"] for t in by_question(correct_result).values()} == \
        {f"{ASSIGNMENT}.{q}": p for q, p in QUESTIONS.items()}
    assert list(QUESTIONS) == ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "minimize"]
    assert correct_result["max_score"] == SPEC.max_score


def test_correct_written_differently_gets_full_points(correct_result):
    failures = {t["name"]: t["output"] for t in correct_result["tests"] if t["score"] != t["max_score"]}
    assert not failures, failures
    assert correct_result["score"] == SPEC.max_score
    for t in by_question(correct_result).values():
        assert t["extra_data"]["functions"] == [t["name"].split(".", 1)[1]]
        assert any(not c["public"] for c in t["extra_data"]["cases"]), "hidden cases are graded"


def test_solution_itself_gets_full_points(tmp_path):
    solution = os.path.join(os.path.dirname(TEMPLATE), os.pardir, "solutions", f"{ASSIGNMENT}.py")
    target = tmp_path / "solution.py"
    target.write_text(open(solution, encoding="utf-8").read(), encoding="utf-8")
    result = grade_file(str(target), assignment=ASSIGNMENT)
    assert result["score"] == SPEC.max_score, \
        {t["name"]: t["output"] for t in result["tests"] if t["score"] != t["max_score"]}


@pytest.mark.parametrize("question,label,source", MUTANTS, ids=[f"{q}-{label}" for q, label, _ in MUTANTS])
def test_mistake_loses_points_on_its_question_only(tmp_path, correct_result, question, label, source):
    functions = dict(CORRECT)
    functions[question] = _src(source)
    scores = _scores(grade_file(_write(tmp_path, "mutant", functions), assignment=ASSIGNMENT))
    assert scores[question] < QUESTIONS[question], f"{label}: not caught"
    others = {q: s for q, s in scores.items() if q != question and s != QUESTIONS[q]}
    assert not others, f"{label}: other questions lost points: {others}"


def test_every_question_has_at_least_two_mistakes():
    for q in QUESTIONS:
        assert sum(1 for m in MUTANTS if m[0] == q) >= 2, q


def test_untouched_template_scores_zero_not_attempted(tmp_path):
    if os.path.exists(TEMPLATE):
        path = TEMPLATE
    else:
        stub = {q: f"def {q}(*args, **kwargs):\n    raise NotImplementedError()\n" for q in QUESTIONS}
        path = _write(tmp_path, "template", stub)
    result = grade_file(path, assignment=ASSIGNMENT)
    assert result["score"] == 0
    assert list(by_question(result)) == list(QUESTIONS)
    for t in result["tests"]:
        assert t["score"] == 0
        assert t["extra_data"]["not_attempted"], (t["name"], t["output"])


def test_grading_is_deterministic(tmp_path, correct_result):
    functions = dict(CORRECT)
    functions["adam"] = _src(MUTANTS[[m[1] for m in MUTANTS].index("epsilon inside the square root")][2])
    path = _write(tmp_path, "twice", functions)
    first, second = grade_file(path, assignment=ASSIGNMENT), grade_file(path, assignment=ASSIGNMENT)
    assert _scores(first) == _scores(second)
    assert [t["extra_data"]["cases"] for t in first["tests"]] == [t["extra_data"]["cases"] for t in second["tests"]]
    again = grade_file(_write(tmp_path, "alt_again", CORRECT), assignment=ASSIGNMENT)
    assert _scores(again) == _scores(correct_result)
