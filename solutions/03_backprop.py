"""Reference solution, 03_backprop: backpropagation by hand, and activation functions."""
import numpy as np


def sigmoid(z):
    """1 / (1 + exp(-z)), elementwise, without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_grad_from_output(y):
    """phi'(x) written with the sigmoid's output y = phi(x): y * (1 - y)."""
    y = np.asarray(y, dtype=np.float64)
    return y * (1.0 - y)


def forward(X, params):
    """h = sigmoid(X W1 + b1); y = sigmoid(h W2 + b2). Returns (y, cache)."""
    h = sigmoid(X @ params["W1"] + params["b1"])
    y = sigmoid(h @ params["W2"] + params["b2"])
    return y, {"X": X, "h": h, "y": y}


def loss(y, t):
    """Squared error summed over the batch: 0.5 * sum((y - t) ** 2)."""
    return float(0.5 * np.sum((np.asarray(y) - np.asarray(t)) ** 2))


def backward(t, params, cache):
    """Gradients of the loss with respect to W1, b1, W2, b2."""
    X, h, y = cache["X"], cache["h"], cache["y"]
    delta2 = (y - t) * sigmoid_grad_from_output(y)          # (N, 1)
    delta1 = (delta2 @ params["W2"].T) * sigmoid_grad_from_output(h)  # (N, H)
    return {
        "W1": X.T @ delta1,
        "b1": delta1.sum(axis=0),
        "W2": h.T @ delta2,
        "b2": delta2.sum(axis=0),
    }


def numerical_gradient(f, x, h=1e-5):
    """Central differences of the scalar f() with respect to each entry of x (changed, then restored)."""
    grad = np.zeros_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        original = x[idx]
        x[idx] = original + h
        f_plus = f()
        x[idx] = original - h
        f_minus = f()
        x[idx] = original
        grad[idx] = (f_plus - f_minus) / (2 * h)
    return grad


def sgd_update(params, grads, lr):
    """A new dict with p - lr * g for each parameter; the inputs are not changed."""
    return {name: params[name] - lr * grads[name] for name in params}


def train(X, t, params, lr=0.5, epochs=5000):
    """Full-batch gradient descent; losses[i] is the loss before update i."""
    losses = []
    for _ in range(epochs):
        y, cache = forward(X, params)
        losses.append(loss(y, t))
        params = sgd_update(params, backward(t, params, cache), lr)
    return params, losses


# ---- activation functions and their derivatives --------------------------------

def tanh(z):
    return np.tanh(np.asarray(z, dtype=np.float64))


def tanh_grad(z):
    return 1.0 - np.tanh(np.asarray(z, dtype=np.float64)) ** 2


def relu(z):
    return np.maximum(0.0, np.asarray(z, dtype=np.float64))


def relu_grad(z):
    return (np.asarray(z) > 0).astype(np.float64)


def leaky_relu(z, a=0.01):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, a * z)


def leaky_relu_grad(z, a=0.01):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, a)


def elu(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_grad(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))


def softplus(z):
    """ln(1 + e^z), computed without overflow."""
    return np.logaddexp(0.0, np.asarray(z, dtype=np.float64))


def softplus_grad(z):
    """The derivative of softplus is the sigmoid."""
    return sigmoid(z)


def softmax(z):
    """Softmax along the last axis, shifted by the maximum for stability."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
