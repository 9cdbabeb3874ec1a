"""02_xor_mlp: correct work written differently gets full points; plausible mistakes lose
exactly the question they belong to."""
import json
import os

import pytest

from autograder.grading import by_question
from autograder.spec import load_spec, repo_root

from grading_helpers import (assert_only_question_lost, grade_source, grade_template,
                             replace_function as _replace, scores as _scores)

ASSIGNMENT = "02_xor_mlp"
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
import numpy as np

W1 = np.array([[-2.0, 2.0], [-2.0, 2.0]])
b1 = np.array([3.0, -1.0])
W2 = np.array([1.0, 1.0])
b2 = -1.0
X_xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def step_fn(z):
    return np.where(np.asarray(z) > 0, 1, 0)


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def layer_forward(X, W, b, activation):
    return activation(np.einsum("nd,dk->nk", X, W) + b)


def mlp_forward(X, W1, b1, W2, b2, activation=step_fn):
    H = layer_forward(X, W1, b1, activation)
    y = activation(np.dot(H, W2) + b2)
    return H, np.ravel(y)


def xor_table():
    _, y = mlp_forward(X_xor, W1, b1, W2, b2, step_fn)
    return np.array([int(v) for v in y])


def count_parameters(layer_sizes):
    total = 0
    for i in range(1, len(layer_sizes)):
        total += layer_sizes[i - 1] * layer_sizes[i] + layer_sizes[i]
    return total
'''



MUTANTS = {
    # step_fn
    "step_tie_wrong_way": ("step_fn", "def step_fn(z):\n    return (np.asarray(z) >= 0).astype(int)"),
    "step_returns_bool": ("step_fn", "def step_fn(z):\n    return np.asarray(z) > 0"),
    "step_returns_float": ("step_fn", "def step_fn(z):\n    return np.where(np.asarray(z) > 0, 1.0, 0.0)"),
    # sigmoid
    "sigmoid_naive_overflows": ("sigmoid", "def sigmoid(z):\n    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))"),
    "sigmoid_wrong_sign": ("sigmoid", "def sigmoid(z):\n    return 0.5 * (1.0 - np.tanh(0.5 * np.asarray(z, dtype=float)))"),
    "sigmoid_clips_input_in_place": ("sigmoid", '''
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    np.clip(z, -500, 500, out=z)
    return 1.0 / (1.0 + np.exp(-z))
'''),
    # layer_forward
    "layer_without_bias": ("layer_forward", "def layer_forward(X, W, b, activation):\n    return activation(X @ W)"),
    "layer_bias_after_activation": ("layer_forward",
                                    "def layer_forward(X, W, b, activation):\n    return activation(X @ W) + b"),
    "layer_transposed_W": ("layer_forward", "def layer_forward(X, W, b, activation):\n    return activation(X @ W.T + b)"),
    # mlp_forward
    "mlp_y_as_column": ("mlp_forward", '''
def mlp_forward(X, W1, b1, W2, b2, activation=step_fn):
    H = layer_forward(X, W1, b1, activation)
    return H, activation(H @ W2 + b2).reshape(-1, 1)
'''),
    "mlp_output_always_step": ("mlp_forward", '''
def mlp_forward(X, W1, b1, W2, b2, activation=step_fn):
    H = layer_forward(X, W1, b1, activation)
    return H, step_fn(H @ W2 + b2)
'''),
    "mlp_returns_y_H": ("mlp_forward", '''
def mlp_forward(X, W1, b1, W2, b2, activation=step_fn):
    H = layer_forward(X, W1, b1, activation)
    return activation(H @ W2 + b2), H
'''),
    "mlp_forgets_b2": ("mlp_forward", '''
def mlp_forward(X, W1, b1, W2, b2, activation=step_fn):
    H = layer_forward(X, W1, b1, activation)
    return H, activation(H @ W2)
'''),
    # xor_table
    "xor_table_hard_coded": ("xor_table", "def xor_table():\n    return np.array([0, 1, 1, 0])"),
    "xor_table_with_sigmoid": ("xor_table", '''
def xor_table():
    _, y = mlp_forward(X_xor, W1, b1, W2, b2, sigmoid)
    return np.round(y).astype(int)
'''),
    "xor_table_tie_wrong_way": ("xor_table", '''
def xor_table():
    _, y = mlp_forward(X_xor, W1, b1, W2, b2, lambda z: (np.asarray(z) >= 0).astype(int))
    return y.astype(int)
'''),
    # count_parameters
    "count_weights_only": ("count_parameters",
                           "def count_parameters(layer_sizes):\n    return sum(a * b for a, b in zip(layer_sizes, layer_sizes[1:]))"),
    "count_bias_per_input": ("count_parameters",
                             "def count_parameters(layer_sizes):\n"
                             "    return sum((a + 1) * b - b + a for a, b in zip(layer_sizes, layer_sizes[1:]))"),
    "count_skips_last_layer": ("count_parameters", '''
def count_parameters(layer_sizes):
    total = 0
    for i in range(len(layer_sizes) - 2):
        total += (layer_sizes[i] + 1) * layer_sizes[i + 1]
    return total
'''),
    "count_returns_float": ("count_parameters",
                            "def count_parameters(layer_sizes):\n"
                            "    s = np.array(layer_sizes, dtype=float)\n    return float(np.sum((s[:-1] + 1) * s[1:]))"),
}
QUESTION_OF = {"step_fn": "step_fn", "sigmoid": "sigmoid", "layer_forward": "layer_forward",
               "mlp_forward": "mlp_forward", "xor_table": "xor_table", "count_parameters": "count_parameters"}



@pytest.fixture(scope="module")
def correct_result(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("ok"), "alice", CORRECT)


def test_questions_and_points_match_the_notebook(correct_result):
    expected = _notebook_points()
    assert list(expected) == ["step_fn", "sigmoid", "layer_forward", "mlp_forward", "xor_table", "count_parameters"]
    assert {q: m for q, (_, m) in _scores(correct_result).items()} == expected
    assert correct_result["max_score"] == sum(expected.values())


def test_correct_work_written_differently_gets_full_points(correct_result):
    for q, (score, max_score) in _scores(correct_result).items():
        assert score == max_score, (q, correct_result["tests"])
    assert correct_result["score"] == SPEC.max_score
    for t in by_question(correct_result).values():
        assert t["extra_data"]["total_cases"] >= 2
        assert any(not c["public"] for c in t["extra_data"]["cases"]) or t["name"].endswith("xor_table")


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
    assert len(by_question(result)) == 6
    assert all(t["extra_data"]["not_attempted"] for t in result["tests"])
    assert all("not attempted" in t["output"] for t in result["tests"])


def test_same_submission_graded_twice_gives_identical_scores(tmp_path):
    source = _replace(CORRECT, "step_fn", MUTANTS["step_tie_wrong_way"][1])
    source = _replace(source, "sigmoid", MUTANTS["sigmoid_clips_input_in_place"][1])
    a, b = _grade(tmp_path, "twice", source), _grade(tmp_path, "twice", source)
    assert _scores(a) == _scores(b)
    assert 0 < a["score"] < SPEC.max_score
    assert [t["output"] for t in a["tests"]] == [t["output"] for t in b["tests"]]
