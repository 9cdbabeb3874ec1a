"""04_optimizers' child-side probes: gradients and an update rule built from plain parameters, and
a chain of steps of the student's rule."""
import numpy as np

try:
    from agchild import kit          # inside the sandbox
except ImportError:
    from autograder.child import kit  # in the repository


def _quadratic_grad(A, b=None):
    A = np.asarray(A, dtype=np.float64)
    b = np.zeros(A.shape[0]) if b is None else np.asarray(b, dtype=np.float64)
    if A.ndim == 1:
        return lambda w: A * np.asarray(w, dtype=np.float64) - b
    return lambda w: A @ np.asarray(w, dtype=np.float64) - b


def _rosenbrock_grad(a=1.0, b=100.0):
    def grad(w):
        x, y = float(w[0]), float(w[1])
        return np.array([-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)])
    return grad


def _decaying_rule(learning_rate=0.1):
    """An update rule that is none of the lecture's: w - lr/k g(w), with k counted in config."""
    def update(w, grad_fn, config=None):
        config = {} if config is None else dict(config)
        k = config.get("k", 0) + 1
        config["k"] = k
        return np.asarray(w, dtype=np.float64) - learning_rate / k * grad_fn(w), config
    return update


BUILTINS = {
    "quadratic_grad": _quadratic_grad,
    "rosenbrock_grad": _rosenbrock_grad,
    "decaying_rule": _decaying_rule,
}


def probe_iterate(ns, rule, w0, grad, config=None, steps=2):
    """Apply an update rule `steps` times, threading config; report (w, config) after each step."""
    fn = kit.student_function(ns, rule)
    grad_fn = BUILTINS[grad["builtin"]](**grad.get("params", {}))
    w = np.array(w0, dtype=np.float64)
    out = []
    for _ in range(steps):
        before = w.copy()
        w_next, config = fn(w, grad_fn, config)
        # Snapshots: a rule may return the same (mutated) config dict or update its state arrays in
        # place (both allowed), which must not rewrite the record of earlier steps.
        out.append({"w": kit.snapshot(w_next), "config": kit.snapshot(config),
                    "w_unchanged": bool(np.array_equal(before, w))})
        w = w_next
    return out


PROBES = {"iterate": probe_iterate}
