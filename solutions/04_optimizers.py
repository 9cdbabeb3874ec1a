"""Reference solution, 04_optimizers: the lecture's gradient-descent rules, CS231n's contract.

Every rule is update(w, grad_fn, config=None) -> (w_next, config); grad_fn(w) is the gradient
of the loss at w, and config holds the hyperparameters and the rule's state.
"""
import numpy as np


def sgd(w, grad_fn, config=None):
    """w <- w - lr g(w)."""
    config = {} if config is None else dict(config)
    config.setdefault("learning_rate", 0.01)
    return w - config["learning_rate"] * grad_fn(w), config


def momentum(w, grad_fn, config=None):
    """m <- beta m - lr g(w); w <- w + m."""
    config = {} if config is None else dict(config)
    config.setdefault("learning_rate", 0.01)
    config.setdefault("momentum", 0.9)
    m = config.get("velocity", np.zeros_like(w, dtype=np.float64))
    m = config["momentum"] * m - config["learning_rate"] * grad_fn(w)
    config["velocity"] = m
    return w + m, config


def nesterov(w, grad_fn, config=None):
    """m <- beta m - lr g(w + beta m); w <- w + m (gradient at the look-ahead point)."""
    config = {} if config is None else dict(config)
    config.setdefault("learning_rate", 0.01)
    config.setdefault("momentum", 0.9)
    m = config.get("velocity", np.zeros_like(w, dtype=np.float64))
    beta = config["momentum"]
    m = beta * m - config["learning_rate"] * grad_fn(w + beta * m)
    config["velocity"] = m
    return w + m, config


def adagrad(w, grad_fn, config=None):
    """s <- s + g^2; w <- w - lr g / sqrt(s + eps)."""
    config = {} if config is None else dict(config)
    config.setdefault("learning_rate", 0.01)
    config.setdefault("epsilon", 1e-6)
    g = grad_fn(w)
    s = config.get("cache", np.zeros_like(w, dtype=np.float64)) + g * g
    config["cache"] = s
    return w - config["learning_rate"] * g / np.sqrt(s + config["epsilon"]), config


def rmsprop(w, grad_fn, config=None):
    """s <- rho s + (1 - rho) g^2; w <- w - lr g / sqrt(s + eps)."""
    config = {} if config is None else dict(config)
    config.setdefault("learning_rate", 0.001)
    config.setdefault("rho", 0.9)
    config.setdefault("epsilon", 1e-8)
    g = grad_fn(w)
    rho = config["rho"]
    s = rho * config.get("cache", np.zeros_like(w, dtype=np.float64)) + (1 - rho) * g * g
    config["cache"] = s
    return w - config["learning_rate"] * g / np.sqrt(s + config["epsilon"]), config


def adam(w, grad_fn, config=None):
    """Adam with bias correction; t is incremented before it is used."""
    config = {} if config is None else dict(config)
    config.setdefault("learning_rate", 0.001)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    g = grad_fn(w)
    b1, b2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w, dtype=np.float64)) + (1 - b1) * g
    v = b2 * config.get("v", np.zeros_like(w, dtype=np.float64)) + (1 - b2) * g * g
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return w - config["learning_rate"] * m_hat / (np.sqrt(v_hat) + config["epsilon"]), config


def minimize(update, grad_fn, w0, steps, config=None):
    """Run `steps` updates from w0; path has shape (steps + 1, len(w0)) and starts with w0."""
    w = np.array(w0, dtype=np.float64)
    path = [w.copy()]
    for _ in range(steps):
        w, config = update(w, grad_fn, config)
        path.append(np.array(w, dtype=np.float64))
    return w, np.array(path)
