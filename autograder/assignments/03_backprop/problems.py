"""03_backprop's problems: the XOR data, the notebook's given weights, random networks, and the
reference-time helpers the case generators and `expected` hooks use (spec.py, checks.py).

This folder is shipped to students (their local check reads it), so it holds no formula of the
assignment: the helpers that need the network's forward/backward run only in `autograder
reference`, next to solutions/, and take them from there.
"""
import numpy as np

X_XOR = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
T_XOR = np.array([[0], [1], [1], [0]], dtype=np.float64)


def params0():
    """The notebook's given initial weights (cell `given_xor`)."""
    rng = np.random.default_rng(0)
    return {"W1": rng.normal(0.0, 1.0, (2, 3)), "b1": np.zeros(3), "W2": rng.normal(0.0, 1.0, (3, 1)), "b2": np.zeros(1)}


def random_params(rng, D, H, scale=1.0):
    return {"W1": rng.normal(0.0, scale, (D, H)), "b1": rng.normal(0.0, scale, H),
            "W2": rng.normal(0.0, scale, (H, 1)), "b2": rng.normal(0.0, scale, 1)}


_SOLUTION = {}


def _sol():
    if not _SOLUTION:
        from autograder import references  # noqa: PLC0415 - instructor side only
        _SOLUTION.update(references.solution_namespace("03_backprop"))
    return _SOLUTION


def cache_of(X, p):
    return _sol()["forward"](X, p)[1]


def numerical_grads(X, t, params):
    """Central differences in float64, Richardson-extrapolated to fourth order,
    (4 D(h) - D(2h)) / 3 with h = 1e-3: error ~1e-13 where D(h) alone, h = 1e-5, has ~1e-10."""
    ns = _sol()
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    f = lambda: ns["loss"](ns["forward"](X, p)[0], t)  # noqa: E731
    return {k: (4.0 * ns["numerical_gradient"](f, p[k], 1e-3) - ns["numerical_gradient"](f, p[k], 2e-3)) / 3.0
            for k in p}


def well_conditioned(X, t, p, smallest=1e-4, cancel=1e6):
    """Every gradient entry is >= `smallest` and its sum over samples cancels by at most `cancel`
    (per-sample gradients from the solution), so entrywise relative errors stay meaningful."""
    backward = _sol()["backward"]
    per_sample = [backward(t[n:n + 1], p, cache_of(X[n:n + 1], p)) for n in range(X.shape[0])]
    for k in p:
        terms = np.array([g[k] for g in per_sample])
        total = np.abs(terms.sum(axis=0))
        if np.any(total < smallest) or np.any(np.abs(terms).sum(axis=0) > cancel * total):
            return False
    return True


def random_problem(rng, D, H, N, scale=1.0):
    """A random network and batch whose gradient is well conditioned (see the module docstring)."""
    for _ in range(1000):
        X = rng.normal(size=(N, D))
        t = rng.integers(0, 2, size=(N, 1)).astype(np.float64)
        p = random_params(rng, D, H, scale)
        if well_conditioned(X, t, p):
            return X, t, p
    raise RuntimeError("no well-conditioned random problem found")
