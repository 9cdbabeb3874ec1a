"""Tests of solutions/03_backprop.py against the contract (spec: 03 backprop).

The gradient check uses the relative error of each parameter as a whole,
    rel(a, b) = max|a - b| / max(max(|a| + |b|), tiny),
which is < 1e-7 for a correct backward pass in float64 with central differences (h = 1e-5); an
entrywise ratio is not used because entries of a random network's gradient can be ~1e-8, where
the finite difference's own error dominates.
"""
import copy
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

TINY = 1e-300
REL_TOL = 1e-7
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
XOR_T = np.array([[0], [1], [1], [0]], dtype=np.float64)
PARAM_SHAPES = lambda D, H: {"W1": (D, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}


@pytest.fixture(scope="module")
def sol(load_solution):
    return load_solution("03_backprop")


def rel_error(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), TINY))


def sig(z):
    """The test's own sigmoid, for moderate z only."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def random_problem(D, H, N, seed):
    rng = np.random.default_rng(seed)
    params = {k: rng.normal(0.0, 1.0, size=s) for k, s in PARAM_SHAPES(D, H).items()}
    X = rng.normal(0.0, 1.0, size=(N, D))
    t = rng.integers(0, 2, size=(N, 1)).astype(np.float64)
    return X, t, params


def gradient_check(sol, D, H, N, seed):
    X, t, params = random_problem(D, H, N, seed)
    y, cache = sol.forward(X, params)
    grads = sol.backward(t, params, cache)
    errors = {}
    for name in params:
        f = lambda: sol.loss(sol.forward(X, params)[0], t)
        num = sol.numerical_gradient(f, params[name])
        assert grads[name].shape == params[name].shape
        errors[name] = rel_error(grads[name], num)
    return errors


# ---- forward, loss ---------------------------------------------------------------------------

def test_forward_shapes_cache_and_values(sol):
    X, t, params = random_problem(3, 5, 6, seed=0)
    y, cache = sol.forward(X, params)
    assert y.shape == (6, 1)
    for key in ("X", "h", "y"):
        assert key in cache
    assert cache["h"].shape == (6, 5)
    h_expected = sig(X @ params["W1"] + params["b1"])
    y_expected = sig(h_expected @ params["W2"] + params["b2"])
    np.testing.assert_allclose(cache["h"], h_expected, rtol=1e-12)
    np.testing.assert_allclose(y, y_expected, rtol=1e-12)
    np.testing.assert_allclose(cache["y"], y_expected, rtol=1e-12)


def test_loss_value(sol):
    y = np.array([[0.2], [0.9], [0.5]])
    t = np.array([[0.0], [1.0], [1.0]])
    # 0.5 * (0.2^2 + 0.1^2 + 0.5^2) = 0.5 * (0.04 + 0.01 + 0.25) = 0.15
    out = sol.loss(y, t)
    assert isinstance(out, float)
    assert out == pytest.approx(0.15, rel=1e-12)
    assert sol.loss(t, t) == 0.0


def test_sigmoid_grad_from_output(sol):
    y = np.array([0.0, 0.25, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(sol.sigmoid_grad_from_output(y), [0.0, 0.1875, 0.25, 0.09, 0.0],
                               rtol=1e-12, atol=1e-15)


# ---- backward --------------------------------------------------------------------------------

def test_backward_matches_spec_formulas(sol):
    X, t, params = random_problem(4, 3, 5, seed=7)
    y, cache = sol.forward(X, params)
    grads = sol.backward(t, params, cache)
    assert set(grads) == set(params)
    h = sig(X @ params["W1"] + params["b1"])
    yy = sig(h @ params["W2"] + params["b2"])
    delta2 = (yy - t) * yy * (1 - yy)
    delta1 = (delta2 @ params["W2"].T) * h * (1 - h)
    expected = {"W2": h.T @ delta2, "b2": delta2.sum(axis=0),
                "W1": X.T @ delta1, "b1": delta1.sum(axis=0)}
    for name in params:
        assert grads[name].shape == params[name].shape
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("D, H, N", [(2, 3, 4), (5, 7, 11), (1, 1, 1), (8, 2, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_gradient_check(sol, D, H, N, seed):
    errors = gradient_check(sol, D, H, N, seed)
    print(f"gradient check D,H,N={D},{H},{N} seed={seed}: "
          + ", ".join(f"{k} {v:.2e}" for k, v in errors.items()))
    assert max(errors.values()) < REL_TOL, errors


@settings(max_examples=40, deadline=None, derandomize=True, database=None)  # the same examples every run (CI)
@given(D=st.integers(1, 6), H=st.integers(1, 6), N=st.integers(1, 8),
       seed=st.integers(0, 2**32 - 1))
def test_backward_gradient_check_property(load_solution, D, H, N, seed):
    sol = load_solution("03_backprop")
    errors = gradient_check(sol, D, H, N, seed)
    assert max(errors.values()) < REL_TOL, errors


def test_backward_does_not_modify_inputs(sol):
    X, t, params = random_problem(3, 4, 5, seed=11)
    y, cache = sol.forward(X, params)
    before = (copy.deepcopy(params), {k: np.array(v) for k, v in cache.items()}, t.copy())
    sol.backward(t, params, cache)
    for k in params:
        np.testing.assert_array_equal(params[k], before[0][k])
    for k in before[1]:
        np.testing.assert_array_equal(cache[k], before[1][k])
    np.testing.assert_array_equal(t, before[2])


# ---- numerical_gradient ----------------------------------------------------------------------

def test_numerical_gradient_restores_x_and_matches_analytic(sol):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(3, 4))
    x_before = x.copy()
    f = lambda: float(np.sum(np.sin(x)) + x[0, 0] * x[1, 1])
    g = sol.numerical_gradient(f, x)
    assert g.shape == x.shape
    np.testing.assert_array_equal(x, x_before)  # same object, restored
    expected = np.cos(x_before)
    expected[0, 0] += x_before[1, 1]
    expected[1, 1] += x_before[0, 0]
    np.testing.assert_allclose(g, expected, rtol=1e-8, atol=1e-9)


def test_numerical_gradient_is_central_difference_with_h(sol):
    """For f = sum(x^3): ((x+h)^3 - (x-h)^3) / 2h = 3x^2 + h^2 exactly, so h = 0.1 shows both that
    the difference is central and that h is used."""
    x = np.array([0.5, -1.25, 2.0])
    f = lambda: float(np.sum(x ** 3))
    g = sol.numerical_gradient(f, x, h=0.1)
    np.testing.assert_allclose(g, 3 * np.array([0.5, -1.25, 2.0]) ** 2 + 0.01, rtol=1e-10)
    np.testing.assert_array_equal(x, [0.5, -1.25, 2.0])


def test_numerical_gradient_one_dimensional(sol):
    x = np.array([1.0, 2.0, 3.0])
    g = sol.numerical_gradient(lambda: float(x @ x), x)
    np.testing.assert_allclose(g, [2.0, 4.0, 6.0], rtol=1e-9)


# ---- sgd_update ------------------------------------------------------------------------------

def test_sgd_update_new_dict_inputs_unchanged(sol):
    X, t, params = random_problem(2, 3, 4, seed=2)
    grads = {k: np.full(v.shape, 0.5) for k, v in params.items()}
    p_before, g_before = copy.deepcopy(params), copy.deepcopy(grads)
    new = sol.sgd_update(params, grads, 0.1)
    assert new is not params
    assert set(new) == set(params)
    for k in params:
        np.testing.assert_allclose(new[k], p_before[k] - 0.05, rtol=0, atol=1e-15)
        np.testing.assert_array_equal(params[k], p_before[k])
        np.testing.assert_array_equal(grads[k], g_before[k])
        assert new[k] is not params[k]


# ---- train -----------------------------------------------------------------------------------

def notebook_params0():
    """The notebook's given cell."""
    rng = np.random.default_rng(0)
    return {
        "W1": rng.normal(0, 1, (2, 3)),
        "b1": np.zeros(3),
        "W2": rng.normal(0, 1, (3, 1)),
        "b2": np.zeros(1),
    }


@pytest.fixture(scope="module")
def xor_run(sol):
    params0 = notebook_params0()
    before = copy.deepcopy(params0)
    params, losses = sol.train(XOR_X, XOR_T, params0)
    return params0, before, params, losses


def test_train_solves_xor_from_notebook_init(sol, xor_run):
    _, _, params, losses = xor_run
    y, _ = sol.forward(XOR_X, params)
    assert (y.reshape(-1) > 0.5).astype(int).tolist() == [0, 1, 1, 0]
    assert len(losses) == 5000
    assert losses[-1] < 0.05 * losses[0]


def test_train_leaves_params0_unchanged(xor_run):
    params0, before, _, _ = xor_run
    for k in before:
        np.testing.assert_array_equal(params0[k], before[k])


def test_train_losses_before_each_update(sol, xor_run):
    params0, _, _, losses = xor_run
    y0 = sig(sig(XOR_X @ params0["W1"] + params0["b1"]) @ params0["W2"] + params0["b2"])
    assert losses[0] == pytest.approx(0.5 * float(np.sum((y0 - XOR_T) ** 2)), rel=1e-12)
    # losses[1] is the loss after exactly one update
    y, cache = sol.forward(XOR_X, params0)
    p1 = sol.sgd_update(params0, sol.backward(XOR_T, params0, cache), 0.5)
    assert losses[1] == pytest.approx(sol.loss(sol.forward(XOR_X, p1)[0], XOR_T), rel=1e-12)
    assert losses[1] < losses[0]


def test_train_deterministic(sol):
    p_a, l_a = sol.train(XOR_X, XOR_T, notebook_params0(), lr=0.5, epochs=300)
    p_b, l_b = sol.train(XOR_X, XOR_T, notebook_params0(), lr=0.5, epochs=300)
    assert l_a == l_b
    for k in p_a:
        np.testing.assert_array_equal(p_a[k], p_b[k])


def test_train_one_epoch_is_one_update(sol):
    params0 = notebook_params0()
    params, losses = sol.train(XOR_X, XOR_T, params0, lr=0.3, epochs=1)
    assert len(losses) == 1
    y, cache = sol.forward(XOR_X, params0)
    g = sol.backward(XOR_T, params0, cache)
    for k in params0:
        np.testing.assert_allclose(params[k], params0[k] - 0.3 * g[k], rtol=1e-12, atol=1e-15)


# ---- activation functions --------------------------------------------------------------------

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]
GRADS = {
    "sigmoid": None,  # checked via sigmoid_grad_from_output
    "tanh": "tanh_grad",
    "relu": "relu_grad",
    "leaky_relu": "leaky_relu_grad",
    "elu": "elu_grad",
    "softplus": "softplus_grad",
}
EXTREME = np.array([-1000.0, -800.0, -709.0, -100.0, -1.0, 0.0, 1.0, 100.0, 709.0, 800.0, 1000.0])


def strict_call(fn, *args, **kwargs):
    """Call fn with warnings as errors and numpy overflow/divide/invalid raising.

    Underflow stays at numpy's default (ignored): results such as e^-1000 -> 0 are the correct
    doubles and numpy does not warn about them; raising on underflow would reject every correct
    sigmoid, softplus and softmax.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            return fn(*args, **kwargs)


def random_points(seed, n=200, lo=-6.0, hi=6.0, away_from_zero=1e-2):
    z = np.random.default_rng(seed).uniform(lo, hi, n)
    return z[np.abs(z) > away_from_zero]


def test_activation_values(sol):
    z = np.linspace(-8, 8, 161)
    e = np.exp
    np.testing.assert_allclose(sol.sigmoid(z), 1 / (1 + e(-z)), rtol=1e-12)
    np.testing.assert_allclose(sol.tanh(z), (e(z) - e(-z)) / (e(z) + e(-z)), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sol.relu(z), np.where(z > 0, z, 0.0), rtol=0, atol=0)
    np.testing.assert_allclose(sol.leaky_relu(z), np.where(z > 0, z, 0.01 * z), rtol=1e-15)
    np.testing.assert_allclose(sol.elu(z), np.where(z > 0, z, e(z) - 1), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sol.softplus(z), np.log(1 + e(z)), rtol=1e-12)


def test_activation_hyperparameters(sol):
    assert float(sol.leaky_relu(np.array(-2.0), a=0.2)) == pytest.approx(-0.4)
    assert float(sol.leaky_relu_grad(np.array(-2.0), a=0.2)) == pytest.approx(0.2)
    assert float(sol.elu(np.array(-1.0), alpha=2.0)) == pytest.approx(2.0 * (math.exp(-1) - 1))
    assert float(sol.elu_grad(np.array(-1.0), alpha=2.0)) == pytest.approx(2.0 * math.exp(-1))
    assert float(sol.leaky_relu_grad(np.array(3.0), a=0.2)) == 1.0
    assert float(sol.elu_grad(np.array(3.0), alpha=2.0)) == 1.0


def test_relu_grad_is_zero_at_and_below_zero(sol):
    out = sol.relu_grad(np.array([-3.0, -1e-12, 0.0, 1e-12, 2.0]))
    assert np.asarray(out).tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if GRADS[n]])
@pytest.mark.parametrize("seed", [0, 1])
def test_activation_derivative_matches_finite_differences(sol, name, seed):
    f, df = getattr(sol, name), getattr(sol, GRADS[name])
    z = random_points(seed)
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(df(z), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_sigmoid_derivative_matches_finite_differences(sol, seed):
    z = random_points(seed)
    h = 1e-6
    numeric = (sol.sigmoid(z + h) - sol.sigmoid(z - h)) / (2 * h)
    np.testing.assert_allclose(sol.sigmoid_grad_from_output(sol.sigmoid(z)), numeric,
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", ACTIVATIONS + [g for g in GRADS.values() if g] + ["softmax"])
def test_no_overflow_nan_or_warning_at_extremes(sol, name):
    out = np.asarray(strict_call(getattr(sol, name), EXTREME))
    assert out.shape == EXTREME.shape
    assert np.all(np.isfinite(out))


def test_extreme_values(sol):
    assert strict_call(sol.sigmoid, EXTREME)[-1] == 1.0
    assert strict_call(sol.sigmoid, EXTREME)[0] == pytest.approx(0.0, abs=1e-300)
    sp = strict_call(sol.softplus, EXTREME)
    assert sp[-1] == 1000.0
    assert 0.0 <= sp[0] <= 1e-300
    assert np.all(sp >= 0)
    np.testing.assert_allclose(strict_call(sol.tanh, EXTREME)[[0, -1]], [-1.0, 1.0])
    np.testing.assert_allclose(strict_call(sol.elu, EXTREME)[0], -1.0)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("name", ACTIVATIONS + [g for g in GRADS.values() if g])
def test_elementwise_any_shape(sol, name, shape):
    rng = np.random.default_rng(9)
    z = rng.normal(0, 3, size=shape)
    f = getattr(sol, name)
    out = np.asarray(f(z))
    assert out.shape == shape
    flat = np.array([float(np.asarray(f(np.array(v)))) for v in np.ravel(z)])
    np.testing.assert_allclose(np.ravel(out), flat, rtol=1e-14, atol=0)


def test_softplus_grad_equals_sigmoid(sol):
    z = np.linspace(-40, 40, 401)
    np.testing.assert_allclose(sol.softplus_grad(z), 1 / (1 + np.exp(-z)), rtol=1e-12)
    np.testing.assert_allclose(sol.softplus_grad(z), sol.sigmoid(z), rtol=1e-15)


def test_sigmoid_derivative_at_most_a_quarter(sol):
    z = np.linspace(-20, 20, 4001)
    d = sol.sigmoid_grad_from_output(sol.sigmoid(z))
    assert np.all(d <= 0.25)
    assert float(sol.sigmoid_grad_from_output(sol.sigmoid(np.array(0.0)))) == 0.25


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (1, 1)])
def test_softmax_rows_sum_to_one_large_inputs(sol, shape):
    rng = np.random.default_rng(3)
    z = rng.uniform(-1000, 1000, size=shape)
    out = np.asarray(strict_call(sol.softmax, z))
    assert out.shape == shape
    assert np.all(np.isfinite(out))
    assert np.all(out >= 0)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-12)
    # constant shift along the last axis does not change softmax
    np.testing.assert_allclose(strict_call(sol.softmax, z - 500.0), out, rtol=1e-12, atol=1e-300)


def test_softmax_values(sol):
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    e = np.exp(np.array([1.0, 2.0, 3.0]))
    expected = np.vstack([e / e.sum(), np.full(3, 1 / 3)])
    np.testing.assert_allclose(sol.softmax(z), expected, rtol=1e-12)
    # along the last axis, not the first
    np.testing.assert_allclose(sol.softmax(z.T).sum(axis=-1), 1.0, rtol=1e-12)
    assert np.array_equal(np.asarray(strict_call(sol.softmax, np.array([1000.0, 1000.0]))), [0.5, 0.5])
