"""03_backprop: correct work written differently gets full points; plausible mistakes lose
exactly the question they belong to."""
import json
import os

import pytest

from autograder.grading import by_question
from autograder.spec import load_spec, repo_root

from grading_helpers import (assert_only_question_lost, grade_source, grade_template,
                             replace_function as _replace, scores as _scores)

ASSIGNMENT = "03_backprop"
SPEC = load_spec(ASSIGNMENT)   # its max_score: the autograded part of the 100 (the written answers are the rest)


def _grade(tmp_path, name, source, questions=None):
    return grade_source(tmp_path, name, source, assignment=ASSIGNMENT, questions=questions)


def _notebook_points():
    """{question: points} of the released notebook's check cells (nbgrader metadata)."""
    with open(os.path.join(repo_root(), "assignments", f"{ASSIGNMENT}.ipynb"), encoding="utf-8") as fh:
        cells = json.load(fh)["cells"]
    return {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"] for c in cells
            if c["metadata"].get("nbgrader", {}).get("grade") and not c["metadata"]["nbgrader"].get("solution")}


CORRECT = '''
import itertools

import numpy as np

X_xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
t_xor = np.array([[0], [1], [1], [0]], dtype=float)
rng = np.random.default_rng(0)
params0 = {
    "W1": rng.normal(0.0, 1.0, (2, 3)),
    "b1": np.zeros(3),
    "W2": rng.normal(0.0, 1.0, (3, 1)),
    "b2": np.zeros(1),
}


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad_from_output(y):
    y = np.asarray(y, dtype=np.float64)
    return y - y ** 2


def forward(X, params):
    z1 = np.einsum("nd,dh->nh", X, params["W1"]) + params["b1"]
    h = sigmoid(z1)
    z2 = np.einsum("nh,hk->nk", h, params["W2"]) + params["b2"]
    y = sigmoid(z2)
    return y, {"X": X, "z1": z1, "h": h, "z2": z2, "y": y}


def loss(y, t):
    d = (np.asarray(y) - np.asarray(t)).ravel()
    return float(np.dot(d, d) / 2)


def backward(t, params, cache):
    X, h, y = cache["X"], cache["h"], cache["y"]
    d2 = (y - t) * sigmoid_grad_from_output(y)
    d1 = np.einsum("nk,hk->nh", d2, params["W2"]) * sigmoid_grad_from_output(h)
    grads = {k: np.zeros(np.shape(v), dtype=np.float64) for k, v in params.items()}
    for n in range(X.shape[0]):
        grads["W1"] += np.outer(X[n], d1[n])
        grads["b1"] += d1[n]
        grads["W2"] += np.outer(h[n], d2[n])
        grads["b2"] += d2[n]
    return grads


def numerical_gradient(f, x, h=1e-5):
    grad = np.empty(x.shape, dtype=np.float64)
    for idx in itertools.product(*(range(n) for n in x.shape)):
        saved = x[idx]
        x[idx] = saved + h
        f_plus = f()
        x[idx] = saved - h
        f_minus = f()
        x[idx] = saved
        grad[idx] = (f_plus - f_minus) / (2.0 * h)
    return grad


def sgd_update(params, grads, lr):
    return {k: np.subtract(v, lr * grads[k]) for k, v in params.items()}


def train(X, t, params, lr=0.5, epochs=5000):
    current = dict(params)
    losses = []
    for _ in range(epochs):
        y, cache = forward(X, current)
        losses.append(loss(y, t))
        current = sgd_update(current, backward(t, current, cache), lr)
    return current, losses


def tanh(z):
    return 2.0 * sigmoid(2.0 * np.asarray(z, dtype=np.float64)) - 1.0


def relu(z):
    z = np.asarray(z, dtype=np.float64)
    return z * (z > 0)


def leaky_relu(z, a=0.01):
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, a * z)


def elu(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, alpha * (np.exp(np.minimum(z, 0.0)) - 1.0))


def softplus(z):
    z = np.asarray(z, dtype=np.float64)
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def softmax(z):
    z = np.asarray(z, dtype=np.float64)
    m = z.max(axis=-1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(z - m), axis=-1, keepdims=True))
    return np.exp(z - lse)


def tanh_grad(z):
    th = np.tanh(np.asarray(z, dtype=np.float64))
    return (1.0 - th) * (1.0 + th)


def relu_grad(z):
    return np.heaviside(np.asarray(z, dtype=np.float64), 0.0)


def leaky_relu_grad(z, a=0.01):
    return np.where(np.asarray(z, dtype=np.float64) > 0, 1.0, float(a))


def elu_grad(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, elu(z, alpha) + alpha)


def softplus_grad(z):
    z = np.asarray(z, dtype=np.float64)
    return np.exp(z - softplus(z))
'''



_BACKWARD = '''
def backward(t, params, cache):
    X, h, y = cache["X"], cache["h"], cache["y"]
    d2 = {d2}
    d1 = (d2 @ params["W2"].T) * {hfactor}
    return {{"W1": {dW1}, "b1": d1.sum(axis=0){scale}, "W2": (h.T @ d2){scale}, "b2": {db2}}}
'''


def _backward(d2="(y - t) * y * (1 - y)", hfactor="h * (1 - h)", dW1="(X.T @ d1)", db2="d2.sum(axis=0)", scale=""):
    if scale:
        dW1, db2 = dW1 + scale, db2 + scale
    return _BACKWARD.format(d2=d2, hfactor=hfactor, dW1=dW1, db2=db2, scale=scale)


_NGRAD = '''
def numerical_gradient(f, x, h=1e-5):
    grad = np.zeros_like(x, dtype=float)
    for idx in np.ndindex(x.shape):
{body}
    return grad
'''


def _ngrad(body):
    return _NGRAD.format(body="\n".join("        " + line for line in body.strip("\n").splitlines()))


MUTANTS = {
    # sigmoid
    "sigmoid_naive_overflows": ("sigmoid", "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))"),
    "sigmoid_wrong_sign": ("sigmoid", "def sigmoid(z):\n    return np.exp(-np.logaddexp(0.0, np.asarray(z, dtype=float)))"),
    # sigmoid_grad_from_output
    "sgrad_missing_factor": ("sigmoid_grad_from_output",
                             "def sigmoid_grad_from_output(y):\n    return np.asarray(y, dtype=float) * 1.0"),
    "sgrad_treats_y_as_z": ("sigmoid_grad_from_output",
                            "def sigmoid_grad_from_output(y):\n    s = sigmoid(y)\n    return s * (1 - s)"),
    "sgrad_tanh_form": ("sigmoid_grad_from_output",
                        "def sigmoid_grad_from_output(y):\n    return 1.0 - np.asarray(y, dtype=float) ** 2"),
    # forward
    "forward_no_output_sigmoid": ("forward", '''
def forward(X, params):
    h = sigmoid(X @ params["W1"] + params["b1"])
    y = h @ params["W2"] + params["b2"]
    return y, {"X": X, "h": h, "y": y}
'''),
    "forward_cache_names_h_a1": ("forward", '''
def forward(X, params):
    a1 = sigmoid(X @ params["W1"] + params["b1"])
    y = sigmoid(a1 @ params["W2"] + params["b2"])
    return y, {"X": X, "a1": a1, "y": y}
'''),
    "forward_y_flat": ("forward", '''
def forward(X, params):
    h = sigmoid(X @ params["W1"] + params["b1"])
    y = sigmoid(h @ params["W2"] + params["b2"]).ravel()
    return y, {"X": X, "h": h, "y": y}
'''),
    "forward_forgets_b1": ("forward", '''
def forward(X, params):
    h = sigmoid(X @ params["W1"])
    y = sigmoid(h @ params["W2"] + params["b2"])
    return y, {"X": X, "h": h, "y": y}
'''),
    # loss
    "loss_mean": ("loss", "def loss(y, t):\n    return float(0.5 * np.mean((y - t) ** 2))"),
    "loss_without_half": ("loss", "def loss(y, t):\n    return float(np.sum((y - t) ** 2))"),
    # backward
    "backward_divides_by_N": ("backward", _backward(scale=" / X.shape[0]")),
    "backward_missing_y_factor": ("backward", _backward(d2="(y - t)")),
    "backward_missing_h_factor": ("backward", _backward(hfactor="1.0")),
    "backward_b2_scalar": ("backward", _backward(db2="np.sum(d2)")),
    "backward_W1_transposed": ("backward", _backward(dW1="(d1.T @ X)")),
    "backward_grad_from_z_formula": ("backward", _backward(d2="(y - t) * sigmoid(y) * (1 - sigmoid(y))")),
    # numerical_gradient
    "ngrad_forward_difference": ("numerical_gradient", _ngrad('''
f0 = f()
old = x[idx]
x[idx] = old + h
grad[idx] = (f() - f0) / h
x[idx] = old
''')),
    "ngrad_not_restored": ("numerical_gradient", _ngrad('''
old = x[idx]
x[idx] = old + h
fp = f()
x[idx] = old - h
fm = f()
grad[idx] = (fp - fm) / (2 * h)
''')),
    "ngrad_restores_by_arithmetic": ("numerical_gradient", _ngrad('''
x[idx] += h
fp = f()
x[idx] -= 2 * h
fm = f()
x[idx] += h
grad[idx] = (fp - fm) / (2 * h)
''')),
    "ngrad_perturbs_a_copy": ("numerical_gradient", '''
def numerical_gradient(f, x, h=1e-5):
    x = x.copy()
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        fp = f()
        x[idx] = old - h
        fm = f()
        x[idx] = old
        grad[idx] = (fp - fm) / (2 * h)
    return grad
'''),
    "ngrad_divides_by_h": ("numerical_gradient", _ngrad('''
old = x[idx]
x[idx] = old + h
fp = f()
x[idx] = old - h
fm = f()
x[idx] = old
grad[idx] = (fp - fm) / h
''')),
    "ngrad_ignores_h": ("numerical_gradient", _ngrad('''
old = x[idx]
x[idx] = old + 1e-5
fp = f()
x[idx] = old - 1e-5
fm = f()
x[idx] = old
grad[idx] = (fp - fm) / 2e-5
''')),
    # sgd_update
    "sgd_modifies_params_in_place": ("sgd_update", '''
def sgd_update(params, grads, lr):
    new = dict(params)
    for k in new:
        new[k] -= lr * grads[k]
    return new
'''),
    "sgd_plus_sign": ("sgd_update",
                      "def sgd_update(params, grads, lr):\n    return {k: params[k] + lr * grads[k] for k in params}"),
    "sgd_forgets_lr": ("sgd_update",
                       "def sgd_update(params, grads, lr):\n    return {k: params[k] - grads[k] for k in params}"),
    # train
    "train_loss_after_update": ("train", '''
def train(X, t, params, lr=0.5, epochs=5000):
    losses = []
    for _ in range(epochs):
        y, cache = forward(X, params)
        params = sgd_update(params, backward(t, params, cache), lr)
        losses.append(loss(forward(X, params)[0], t))
    return params, losses
'''),
    "train_updates_given_params_in_place": ("train", '''
def train(X, t, params, lr=0.5, epochs=5000):
    losses = []
    for _ in range(epochs):
        y, cache = forward(X, params)
        losses.append(loss(y, t))
        grads = backward(t, params, cache)
        for k in params:
            params[k] -= lr * grads[k]
    return params, losses
'''),
    "train_wrong_default_lr": ("train", '''
def train(X, t, params, lr=0.1, epochs=5000):
    losses = []
    for _ in range(epochs):
        y, cache = forward(X, params)
        losses.append(loss(y, t))
        params = sgd_update(params, backward(t, params, cache), lr)
    return params, losses
'''),
    "train_wrong_default_epochs": ("train", '''
def train(X, t, params, lr=0.5, epochs=1000):
    losses = []
    for _ in range(epochs):
        y, cache = forward(X, params)
        losses.append(loss(y, t))
        params = sgd_update(params, backward(t, params, cache), lr)
    return params, losses
'''),
    # activations
    "tanh_naive_overflows": ("tanh", '''
def tanh(z):
    z = np.asarray(z, dtype=float)
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))
'''),
    "leaky_relu_ignores_a": ("leaky_relu",
                             "def leaky_relu(z, a=0.01):\n    z = np.asarray(z, dtype=float)\n    return np.where(z > 0, z, 0.01 * z)"),
    "elu_where_overflows": ("elu", '''
def elu(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, alpha * (np.exp(z) - 1))
'''),
    "softplus_naive_overflows": ("softplus", "def softplus(z):\n    return np.log(1 + np.exp(np.asarray(z, dtype=float)))"),
    "softmax_wrong_axis": ("softmax", '''
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
'''),
    "softmax_without_max_shift": ("softmax", '''
def softmax(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=-1, keepdims=True)
'''),
    "softmax_global_max": ("softmax", '''
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return e / e.sum(axis=-1, keepdims=True)
'''),
    "relu_in_place": ("relu", "def relu(z):\n    z[z < 0] = 0.0\n    return z"),
    # activation_grads
    "relu_grad_tie_wrong_way": ("relu_grad", "def relu_grad(z):\n    return (np.asarray(z) >= 0).astype(float)"),
    "relu_grad_int": ("relu_grad", "def relu_grad(z):\n    return np.where(np.asarray(z) > 0, 1, 0)"),
    "tanh_grad_no_square": ("tanh_grad", "def tanh_grad(z):\n    return 1.0 - np.tanh(np.asarray(z, dtype=float))"),
    "leaky_relu_grad_returns_az": ("leaky_relu_grad", '''
def leaky_relu_grad(z, a=0.01):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, a * z)
'''),
    "elu_grad_where_overflows": ("elu_grad", '''
def elu_grad(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, alpha * np.exp(z))
'''),
    "elu_grad_tie_wrong_way": ("elu_grad", '''
def elu_grad(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return np.where(z >= 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))
'''),
    "softplus_grad_naive": ("softplus_grad", '''
def softplus_grad(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / (1.0 + e)
'''),
}
QUESTION_OF = {"sigmoid": "sigmoid", "sigmoid_grad_from_output": "sigmoid_grad_from_output", "forward": "forward",
               "loss": "loss", "backward": "backward", "numerical_gradient": "numerical_gradient",
               "sgd_update": "sgd_update", "train": "train",
               **{f: "activations" for f in ("tanh", "relu", "leaky_relu", "elu", "softplus", "softmax")},
               **{f: "activation_grads" for f in ("tanh_grad", "relu_grad", "leaky_relu_grad", "elu_grad",
                                                  "softplus_grad")}}
POINTS = _notebook_points()   # {question: points} as the notebook states them



@pytest.fixture(scope="module")
def correct_result(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("ok"), "alice", CORRECT)


def test_questions_and_points_match_the_notebook(correct_result):
    assert list(POINTS) == ["sigmoid", "sigmoid_grad_from_output", "forward", "loss", "backward",
                            "numerical_gradient", "sgd_update", "train", "activations", "activation_grads"]
    assert {q: m for q, (_, m) in _scores(correct_result).items()} == POINTS
    assert correct_result["max_score"] == sum(POINTS.values())


def test_correct_work_written_differently_gets_full_points(correct_result):
    for q, (score, max_score) in _scores(correct_result).items():
        assert score == max_score, (q, correct_result["tests"])
    assert correct_result["score"] == SPEC.max_score
    for t in by_question(correct_result).values():
        assert any(not c["public"] for c in t["extra_data"]["cases"]), t["name"]


def test_every_graded_function_has_a_mutant():
    assert set(QUESTION_OF) == {fn for fn, _ in MUTANTS.values()}
    for fn in QUESTION_OF:
        assert sum(1 for f, _ in MUTANTS.values() if f == fn) >= 1, fn
    for q in POINTS:
        assert sum(1 for f, _ in MUTANTS.values() if QUESTION_OF[f] == q) >= 2, q


def test_reference_solution_as_a_submission_gets_full_points(tmp_path):
    with open(os.path.join(repo_root(), "solutions", f"{ASSIGNMENT}.py"), encoding="utf-8") as fh:
        result = _grade(tmp_path, "solution", fh.read())
    assert result["score"] == SPEC.max_score, result["tests"]


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mistake_loses_only_its_question(mutant, tmp_path):
    fn, new_def = MUTANTS[mutant]
    result = _grade(tmp_path, mutant, _replace(CORRECT, fn, new_def))
    assert_only_question_lost(result, QUESTION_OF[fn], mutant)


def test_untouched_notebook_scores_zero_not_attempted():
    result = grade_template(ASSIGNMENT)
    assert result["extra_data"]["assignment"] == ASSIGNMENT
    assert result["score"] == 0
    assert len(by_question(result)) == len(POINTS)
    assert all(t["extra_data"]["not_attempted"] for t in result["tests"])
    assert all("not attempted" in t["output"] for t in result["tests"])


def test_same_submission_graded_twice_gives_identical_scores(tmp_path):
    source = _replace(CORRECT, "backward", MUTANTS["backward_b2_scalar"][1])
    source = _replace(source, "softmax", MUTANTS["softmax_global_max"][1])
    a, b = _grade(tmp_path, "twice", source), _grade(tmp_path, "twice", source)
    assert _scores(a) == _scores(b)
    assert 0 < a["score"] < SPEC.max_score
    assert [t["output"] for t in a["tests"]] == [t["output"] for t in b["tests"]]
