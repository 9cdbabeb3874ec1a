"""01_perceptron: correct work written differently gets full points; plausible mistakes lose
exactly the question they belong to."""

import pytest

from autograder.spec import load_spec

from grading_helpers import (assert_only_question_lost, grade_source, grade_template,
                             replace_function as _replace, scores as _scores)

ASSIGNMENT = "01_perceptron"
SPEC = load_spec(ASSIGNMENT)   # its max_score: the autograded part of the 100 (the written answers are the rest)


def _grade(tmp_path, name, source, questions=None):
    return grade_source(tmp_path, name, source, assignment=ASSIGNMENT, questions=questions)


CORRECT = '''
import numpy as np

def weighted_sum(x, w, b):
    total = b
    for xi, wi in zip(x, w):
        total += xi * wi
    return float(total)

def step(z):
    if z <= 0:
        return 0
    return 1

def perceptron(x, w, b):
    return step(weighted_sum(x, w, b))

def AND(x1, x2):
    return perceptron(np.array([x1, x2]), np.array([1.0, 1.0]), -1.5)

def OR(x1, x2):
    return perceptron(np.array([x1, x2]), np.array([1.0, 1.0]), -0.5)

def NAND(x1, x2):
    return perceptron(np.array([x1, x2]), np.array([-1.0, -1.0]), 1.5)

def XOR(x1, x2):
    s1 = NAND(x1, x2)
    s2 = OR(x1, x2)
    return AND(s1, s2)

def train_perceptron(X, t, lr=0.1, epochs=20):
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1])
    b = 0.0
    errors = []
    for epoch in range(epochs):
        count = 0
        for xi, ti in zip(X, t):
            y = perceptron(xi, w, b)
            update = lr * (ti - y)
            count += int(y != ti)
            w = w + update * xi
            b += update
        errors.append(count)
    return w, float(b), errors
'''



MUTANTS = {
    "weighted_sum_without_bias": ("weighted_sum", "def weighted_sum(x, w, b):\n    return float(np.dot(x, w))"),
    "weighted_sum_mean": ("weighted_sum", "def weighted_sum(x, w, b):\n    return float(np.mean(np.multiply(x, w)) + b)"),
    "step_tie_wrong_way": ("step", "def step(z):\n    return 1 if z >= 0 else 0"),
    "step_returns_bool": ("step", "def step(z):\n    return z > 0"),
    "perceptron_sign": ("perceptron", "def perceptron(x, w, b):\n    return int(np.sign(weighted_sum(x, w, b)))"),
    "perceptron_ignores_bias": ("perceptron", "def perceptron(x, w, b):\n    return step(float(np.dot(x, w)))"),
    "AND_is_OR": ("AND", "def AND(x1, x2):\n    return perceptron(np.array([x1, x2]), np.array([1.0, 1.0]), -0.5)"),
    "NAND_table_lookup": ("NAND", "def NAND(x1, x2):\n    return {(0, 0): 1, (0, 1): 1, (1, 0): 1, (1, 1): 0}[(x1, x2)]"),
    "XOR_operator": ("XOR", "def XOR(x1, x2):\n    return x1 ^ x2"),
    "XOR_compare": ("XOR", "def XOR(x1, x2):\n    return int(x1 != x2)"),
    "XOR_wrong_composition": ("XOR", "def XOR(x1, x2):\n    return OR(NAND(x1, x2), AND(x1, x2))"),
    "train_counts_after_update": ("train_perceptron", '''
def train_perceptron(X, t, lr=0.1, epochs=20):
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1]); b = 0.0; errors = []
    for epoch in range(epochs):
        for xi, ti in zip(X, t):
            y = perceptron(xi, w, b)
            w = w + lr * (ti - y) * xi
            b += lr * (ti - y)
        errors.append(sum(int(perceptron(xi, w, b) != ti) for xi, ti in zip(X, t)))
    return w, float(b), errors
'''),
    "train_no_bias_update": ("train_perceptron", '''
def train_perceptron(X, t, lr=0.1, epochs=20):
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1]); b = 0.0; errors = []
    for epoch in range(epochs):
        count = 0
        for xi, ti in zip(X, t):
            y = perceptron(xi, w, b)
            count += int(y != ti)
            w = w + lr * (ti - y) * xi
        errors.append(count)
    return w, float(b), errors
'''),
    "train_random_order": ("train_perceptron", '''
def train_perceptron(X, t, lr=0.1, epochs=20):
    X = np.asarray(X, dtype=float)
    rng = np.random.default_rng(1)
    w = np.zeros(X.shape[1]); b = 0.0; errors = []
    for epoch in range(epochs):
        count = 0
        for i in rng.permutation(len(X)):
            y = perceptron(X[i], w, b)
            count += int(y != t[i])
            w = w + lr * (t[i] - y) * X[i]
            b += lr * (t[i] - y)
        errors.append(count)
    return w, float(b), errors
'''),
}
QUESTION_OF = {"weighted_sum": "weighted_sum", "step": "step", "perceptron": "perceptron", "AND": "gates",
               "OR": "gates", "NAND": "gates", "XOR": "XOR", "train_perceptron": "train_perceptron"}



@pytest.fixture(scope="module")
def correct_result(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("ok"), "correct", CORRECT)


def test_correct_work_written_differently_gets_full_points(correct_result):
    for q, (score, max_score) in _scores(correct_result).items():
        assert score == max_score, (q, correct_result)
    assert correct_result["score"] == correct_result["max_score"] == SPEC.max_score


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mistake_loses_only_its_question(mutant, tmp_path):
    fn, new_def = MUTANTS[mutant]
    result = _grade(tmp_path, mutant, _replace(CORRECT, fn, new_def))
    assert_only_question_lost(result, QUESTION_OF[fn], mutant)


def test_untouched_notebook_scores_zero_not_attempted():
    result = grade_template(ASSIGNMENT)
    assert result["score"] == 0
    assert all(t["extra_data"]["not_attempted"] for t in result["tests"])
    assert all("not attempted" in t["output"] for t in result["tests"])


def test_same_submission_graded_twice_gives_identical_scores(tmp_path, correct_result):
    source = _replace(CORRECT, "step", MUTANTS["step_tie_wrong_way"][1])
    a, b = _grade(tmp_path, "twice", source), _grade(tmp_path, "twice", source)
    assert _scores(a) == _scores(b)
    assert [t["output"] for t in a["tests"]] == [t["output"] for t in b["tests"]]
