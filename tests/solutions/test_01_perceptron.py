"""Tests of solutions/01_perceptron.py against the contract in docs (spec: 01 perceptron).

Gates are checked by behaviour (any weights that give the truth table are right), by the fact
that they go through `perceptron`, and XOR by the fact that it is composed from the gates.
"""
import ast
import inspect
import itertools

import numpy as np
import pytest

INPUTS = [(0, 0), (0, 1), (1, 0), (1, 1)]
TRUTH = {
    "AND": [0, 0, 0, 1],
    "OR": [0, 1, 1, 1],
    "NAND": [1, 1, 1, 0],
    "XOR": [0, 1, 1, 0],
}
X_GATE = np.array(INPUTS, dtype=np.float64)


@pytest.fixture(scope="module")
def sol(load_solution):
    return load_solution("01_perceptron")


# ---- weighted_sum, step, perceptron -----------------------------------------------------------

def test_weighted_sum_value_and_type(sol):
    # 2*0.5 + (-1)*0.25 + 3*2 + 0.125 = 1 - 0.25 + 6 + 0.125 = 6.875
    z = sol.weighted_sum(np.array([2.0, -1.0, 3.0]), np.array([0.5, 0.25, 2.0]), 0.125)
    assert isinstance(z, float)
    assert z == 6.875


def test_weighted_sum_accepts_lists(sol):
    assert sol.weighted_sum([1, 1], [0.5, 0.5], -0.7) == pytest.approx(0.3, abs=1e-15)


@pytest.mark.parametrize("z, expected", [(-1.0, 0), (0.0, 0), (-0.0, 0), (1e-12, 1), (3.5, 1), (-1e-12, 0)])
def test_step_tie_goes_to_zero(sol, z, expected):
    out = sol.step(z)
    assert out == expected
    assert isinstance(out, (int, np.integer))


def test_perceptron_is_step_of_weighted_sum(sol):
    rng = np.random.default_rng(1)
    for _ in range(50):
        x = rng.integers(0, 2, size=3).astype(float)
        w = rng.normal(size=3)
        b = float(rng.normal())
        z = float(x @ w + b)
        assert sol.perceptron(x, w, b) == (1 if z > 0 else 0)
    # exactly on the boundary: z == 0 -> 0
    assert sol.perceptron(np.array([1.0, 1.0]), np.array([0.5, 0.5]), -1.0) == 0


# ---- gates ------------------------------------------------------------------------------------

@pytest.mark.parametrize("gate", ["AND", "OR", "NAND", "XOR"])
def test_gate_truth_table(sol, gate):
    fn = getattr(sol, gate)
    outs = [fn(x1, x2) for x1, x2 in INPUTS]
    assert outs == TRUTH[gate]
    assert all(isinstance(o, (int, np.integer)) for o in outs)


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
def test_gate_calls_perceptron(sol, monkeypatch, gate):
    calls = []
    real = sol.perceptron

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(sol, "perceptron", counting)
    outs = [getattr(sol, gate)(x1, x2) for x1, x2 in INPUTS]
    assert outs == TRUTH[gate]
    assert len(calls) >= 4  # at least one perceptron call per evaluation


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
@pytest.mark.parametrize("forced", [0, 1])
def test_gate_output_comes_from_perceptron(sol, monkeypatch, gate, forced):
    """If perceptron is replaced by a constant, the gate must return that constant."""
    monkeypatch.setattr(sol, "perceptron", lambda *a, **k: forced)
    assert [getattr(sol, gate)(x1, x2) for x1, x2 in INPUTS] == [forced] * 4


def _binary_functions():
    """All 16 boolean functions of two inputs, as truth tables over INPUTS."""
    return list(itertools.product([0, 1], repeat=4))


def test_xor_follows_the_gates(sol, monkeypatch):
    """Replace AND, NAND, OR by every boolean function of two inputs (16**3 combinations):
    XOR's output must be the slides' composition AND(NAND(x1, x2), OR(x1, x2)) of the gates."""
    index = {pair: k for k, pair in enumerate(INPUTS)}
    current = {}
    for name in ("AND", "NAND", "OR"):
        monkeypatch.setattr(sol, name, lambda a, b, name=name: current[name][index[(a, b)]])
    checked = 0
    for and_t, nand_t, or_t in itertools.product(_binary_functions(), repeat=3):
        current.update(AND=and_t, NAND=nand_t, OR=or_t)
        for x1, x2 in INPUTS:
            n, o = nand_t[index[(x1, x2)]], or_t[index[(x1, x2)]]
            assert sol.XOR(x1, x2) == and_t[index[(n, o)]]
            checked += 1
    assert checked == 16 ** 3 * 4


def test_xor_changes_when_a_gate_changes(sol, monkeypatch):
    monkeypatch.setattr(sol, "AND", lambda a, b: 1)
    assert [sol.XOR(*p) for p in INPUTS] == [1, 1, 1, 1]
    monkeypatch.setattr(sol, "AND", lambda a, b: a & b)
    monkeypatch.setattr(sol, "OR", lambda a, b: 0)
    assert [sol.XOR(*p) for p in INPUTS] == [0, 0, 0, 0]


def test_xor_source_uses_no_xor_operator_or_lookup(sol):
    tree = ast.parse(inspect.getsource(sol.XOR))
    banned = (ast.BitXor, ast.NotEq, ast.Eq, ast.Subscript)
    found = [type(node).__name__ for node in ast.walk(tree) if isinstance(node, banned)]
    assert found == []


# ---- train_perceptron ------------------------------------------------------------------------

@pytest.mark.parametrize("gate", ["AND", "OR", "NAND"])
def test_train_reaches_zero_errors_on_linearly_separable_gates(sol, gate):
    t = np.array(TRUTH[gate])
    w, b, errors = sol.train_perceptron(X_GATE, t, lr=0.1, epochs=20)
    assert len(errors) == 20
    assert 0 in errors
    # once an epoch has no errors nothing changes any more, so the final weights classify all
    first_zero = errors.index(0)
    assert all(e == 0 for e in errors[first_zero:])
    z = X_GATE @ w + b
    assert list((z > 0).astype(int)) == TRUTH[gate]


def test_train_never_solves_xor(sol):
    t = np.array(TRUTH["XOR"])
    _, _, errors = sol.train_perceptron(X_GATE, t, lr=0.1, epochs=20)
    assert len(errors) == 20
    assert min(errors) >= 1
    _, _, errors = sol.train_perceptron(X_GATE, t, lr=0.5, epochs=200)
    assert min(errors) >= 1


def test_train_return_types(sol):
    w, b, errors = sol.train_perceptron(X_GATE, np.array(TRUTH["AND"]), lr=0.1, epochs=7)
    assert isinstance(w, np.ndarray)
    assert np.issubdtype(w.dtype, np.floating)
    assert w.shape == (2,)
    assert isinstance(b, float)
    assert isinstance(errors, list)
    assert len(errors) == 7
    assert all(isinstance(e, int) for e in errors)
    assert all(0 <= e <= 4 for e in errors)


def test_train_default_epochs_is_20(sol):
    _, _, errors = sol.train_perceptron(X_GATE, np.array(TRUTH["OR"]))
    assert len(errors) == 20


def test_train_does_not_modify_inputs(sol):
    X = X_GATE.copy()
    t = np.array(TRUTH["NAND"])
    X_before, t_before = X.copy(), t.copy()
    sol.train_perceptron(X, t, lr=0.1, epochs=5)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(t, t_before)


def test_rosenblatt_first_epochs_by_hand_on_and(sol):
    """AND, lr = 0.1, from w = (0, 0), b = 0, samples in order (0,0) (0,1) (1,0) (1,1).

    Epoch 1: z = 0 for every sample until the last, so y = 0 (tie -> 0). Only (1,1) with t = 1
      is wrong: w = (0,0) + 0.1*(1-0)*(1,1) = (0.1, 0.1), b = 0 + 0.1 = 0.1.  errors = [1].
    Epoch 2: (0,0): z = 0.1 > 0, y = 1, t = 0, wrong: w unchanged (x = 0), b = 0.0.
             (0,1): z = 0.1 + 0.0 = 0.1, y = 1, t = 0, wrong: w = (0.1, 0.0), b = -0.1.
             (1,0): z = 0.1 - 0.1 = 0, y = 0 = t.
             (1,1): z = 0.1 + 0.0 - 0.1 = 0, y = 0, t = 1, wrong: w = (0.2, 0.1), b = 0.0.
      errors = [1, 3].
    """
    t = np.array(TRUTH["AND"])
    w, b, errors = sol.train_perceptron(X_GATE, t, lr=0.1, epochs=1)
    assert errors == [1]
    np.testing.assert_allclose(w, [0.1, 0.1], rtol=0, atol=1e-15)
    assert b == pytest.approx(0.1, abs=1e-15)

    w, b, errors = sol.train_perceptron(X_GATE, t, lr=0.1, epochs=2)
    assert errors == [1, 3]
    np.testing.assert_allclose(w, [0.2, 0.1], rtol=0, atol=1e-15)
    assert b == pytest.approx(0.0, abs=1e-15)


def test_rosenblatt_by_hand_on_real_valued_inputs(sol):
    """X = [[1, 2], [2, -1]], t = [0, 1], lr = 0.5 (binary fractions: exact arithmetic).

    Epoch 1: sample 0: z = 0, y = 0 = t.  sample 1: z = 0, y = 0, t = 1, wrong:
      w = 0.5 * 1 * (2, -1) = (1, -0.5), b = 0.5.                        errors = [1]
    Epoch 2: sample 0: z = 1 - 1 + 0.5 = 0.5, y = 1, t = 0, wrong:
      w = (1, -0.5) - 0.5 * (1, 2) = (0.5, -1.5), b = 0.
      sample 1: z = 1 + 1.5 + 0 = 2.5, y = 1 = t.                        errors = [1, 1]
    Epoch 3: sample 0: z = 0.5 - 3 = -2.5, y = 0 = t; sample 1: y = 1 = t. errors = [1, 1, 0]
    """
    X = np.array([[1.0, 2.0], [2.0, -1.0]])
    t = np.array([0, 1])
    w, b, errors = sol.train_perceptron(X, t, lr=0.5, epochs=1)
    assert errors == [1]
    np.testing.assert_array_equal(w, [1.0, -0.5])
    assert b == 0.5
    w, b, errors = sol.train_perceptron(X, t, lr=0.5, epochs=3)
    assert errors == [1, 1, 0]
    np.testing.assert_array_equal(w, [0.5, -1.5])
    assert b == 0.0
