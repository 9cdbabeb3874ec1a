"""Tests of solutions/02_xor_mlp.py against the contract (spec: 02 xor_mlp)."""
import math
import warnings

import numpy as np
import pytest

# The slides' weights, as the spec gives them (columns of W1 are hidden nodes n1, n2).
W1 = np.array([[-2.0, 2.0], [-2.0, 2.0]])
b1 = np.array([3.0, -1.0])
W2 = np.array([1.0, 1.0])
b2 = -1.0
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


@pytest.fixture(scope="module")
def sol(load_solution):
    return load_solution("02_xor_mlp")


# ---- xor_table -------------------------------------------------------------------------------

def test_xor_table(sol):
    out = sol.xor_table()
    assert isinstance(out, np.ndarray)
    assert np.issubdtype(out.dtype, np.integer)
    assert out.shape == (4,)
    assert out.tolist() == [0, 1, 1, 0]


# ---- count_parameters ------------------------------------------------------------------------

@pytest.mark.parametrize(
    "sizes, expected",
    [
        # (n_in + 1) * n_out per layer, written out by hand
        ([2, 2, 1], (2 + 1) * 2 + (2 + 1) * 1),                      # 6 + 3 = 9
        ([784, 256, 10], (784 + 1) * 256 + (256 + 1) * 10),          # 200960 + 2570 = 203530
        ([17, 30, 1], (17 + 1) * 30 + (30 + 1) * 1),                 # 540 + 31 = 571
        ([1, 6, 4, 1], (1 + 1) * 6 + (6 + 1) * 4 + (4 + 1) * 1),     # 12 + 28 + 5 = 45
        ([3, 1], (3 + 1) * 1),                                       # 4
    ],
)
def test_count_parameters(sol, sizes, expected):
    out = sol.count_parameters(sizes)
    assert isinstance(out, (int, np.integer))
    assert out == expected


def test_count_parameters_literal_values(sol):
    # the two numbers the spec states
    assert sol.count_parameters([2, 2, 1]) == 9
    assert sol.count_parameters([784, 256, 10]) == 203530
    assert sol.count_parameters([1, 6, 4, 1]) == 45


def test_count_parameters_accepts_tuple(sol):
    assert sol.count_parameters((2, 2, 1)) == 9


# ---- step_fn, sigmoid ------------------------------------------------------------------------

def test_step_fn_elementwise_int(sol):
    z = np.array([[-2.0, 0.0, 1e-12], [3.0, -0.0, -1e-12]])
    out = sol.step_fn(z)
    assert np.issubdtype(np.asarray(out).dtype, np.integer)
    assert np.asarray(out).tolist() == [[0, 0, 1], [1, 0, 0]]


def test_sigmoid_no_warning_at_extremes(sol):
    # Warnings are errors; overflow, division and invalid raise. Underflow stays at numpy's default
    # (ignored): e^-1000 -> 0 is the correct double result and numpy does not warn about it.
    z = np.array([-1000.0, -745.0, -709.0, -50.0, 0.0, 50.0, 709.0, 745.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            out = sol.sigmoid(z)
    out = np.asarray(out)
    assert np.all(np.isfinite(out))
    assert np.all((out >= 0.0) & (out <= 1.0))
    assert out[-1] == 1.0
    assert out[0] == pytest.approx(0.0, abs=1e-300)
    assert out[4] == 0.5


def test_sigmoid_values(sol):
    z = np.linspace(-30, 30, 121)
    expected = np.array([1.0 / (1.0 + math.exp(-v)) for v in z])
    np.testing.assert_allclose(sol.sigmoid(z), expected, rtol=1e-12, atol=0)
    # symmetry sigma(-z) = 1 - sigma(z)
    np.testing.assert_allclose(sol.sigmoid(-z), 1.0 - expected, rtol=1e-12, atol=1e-15)


def test_sigmoid_keeps_shape(sol):
    z = np.arange(24, dtype=float).reshape(2, 3, 4) - 12
    assert np.asarray(sol.sigmoid(z)).shape == (2, 3, 4)


# ---- layer_forward, mlp_forward ----------------------------------------------------------------

def test_layer_forward_shape_and_value(sol):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(5, 3))
    W = rng.normal(size=(3, 4))
    b = rng.normal(size=4)
    out = sol.layer_forward(X, W, b, lambda z: z)
    assert out.shape == (5, 4)
    expected = np.array([[sum(X[n, i] * W[i, j] for i in range(3)) + b[j] for j in range(4)]
                         for n in range(5)])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    out = sol.layer_forward(X, W, b, np.tanh)
    np.testing.assert_allclose(out, np.tanh(expected), rtol=1e-12, atol=1e-12)


def test_mlp_forward_with_slides_weights(sol):
    H, y = sol.mlp_forward(XOR_X, W1, b1, W2, b2)
    assert np.asarray(H).shape == (4, 2)
    assert np.asarray(y).shape == (4,)
    # by hand: X W1 + b1 rows: (0,0) -> (3,-1); (0,1),(1,0) -> (1,1); (1,1) -> (-1,3)
    assert np.asarray(H).tolist() == [[1, 0], [1, 1], [1, 1], [0, 1]]
    # H W2 + b2: 0, 1, 1, 0 -> step: 0, 1, 1, 0
    assert np.asarray(y).tolist() == [0, 1, 1, 0]


def test_mlp_forward_shapes_other_sizes(sol):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(7, 3))
    H, y = sol.mlp_forward(X, rng.normal(size=(3, 2)), rng.normal(size=2),
                           rng.normal(size=2), 0.3, activation=sol.sigmoid)
    assert np.asarray(H).shape == (7, 2)
    assert np.asarray(y).shape == (7,)


def test_the_half_tie_step_hidden_sigmoid_output(sol):
    """Step hidden layer, sigmoid output: (0,0) and (1,1) reach the output node with z = 0,
    the point the slides' `<= 0` rule sends to 0, and sigmoid(0) is exactly 0.5."""
    H = sol.layer_forward(XOR_X, W1, b1, sol.step_fn)
    y = sol.layer_forward(H, W2, b2, sol.sigmoid)
    y = np.reshape(y, -1)
    assert y[0] == 0.5
    assert y[3] == 0.5
    expected_mid = 1.0 / (1.0 + math.exp(-1.0))  # z = 1 for (0,1) and (1,0)
    np.testing.assert_allclose(y[[1, 2]], [expected_mid, expected_mid], rtol=1e-12)
    # the step output rounds the tie down: 0
    assert sol.step_fn(np.array([0.0])).tolist() == [0]


def test_sigmoid_on_both_layers_is_not_the_tie(sol):
    """Documenting the other reading: with sigmoid on both layers the outputs for (0,0) and (1,1)
    are equal to each other but not 0.5: sigma(sigma(3) + sigma(-1) - 1)."""
    H, y = sol.mlp_forward(XOR_X, W1, b1, W2, b2, activation=sol.sigmoid)
    s = lambda v: 1.0 / (1.0 + math.exp(-v))
    expected_00 = s(s(3.0) + s(-1.0) - 1.0)
    np.testing.assert_allclose(y[[0, 3]], [expected_00, expected_00], rtol=1e-12)
    assert abs(expected_00 - 0.5) > 0.05
