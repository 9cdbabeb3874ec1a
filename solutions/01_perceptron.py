"""Reference solution, 01_perceptron: the perceptron and logic gates."""
import numpy as np


def weighted_sum(x, w, b):
    """z = sum_i w_i * x_i + b, returned as a Python float."""
    return float(np.dot(np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)) + b)


def step(z):
    """Step activation: 1 if z > 0 else 0 (z <= 0 gives 0, as in the slides)."""
    return 1 if z > 0 else 0


def perceptron(x, w, b):
    """Output of a single perceptron: step(weighted_sum(x, w, b))."""
    return step(weighted_sum(x, w, b))


def AND(x1, x2):
    return perceptron(np.array([x1, x2]), np.array([0.5, 0.5]), -0.7)


def OR(x1, x2):
    return perceptron(np.array([x1, x2]), np.array([0.5, 0.5]), -0.2)


def NAND(x1, x2):
    return perceptron(np.array([x1, x2]), np.array([-0.5, -0.5]), 0.7)


def XOR(x1, x2):
    """XOR from the gates only: AND(NAND(x1, x2), OR(x1, x2))."""
    return AND(NAND(x1, x2), OR(x1, x2))


def train_perceptron(X, t, lr=0.1, epochs=20):
    """Rosenblatt's learning rule; errors[e] counts the misclassified samples of epoch e."""
    X = np.asarray(X, dtype=np.float64)
    t = np.asarray(t)
    w = np.zeros(X.shape[1])
    b = 0.0
    errors = []
    for _ in range(epochs):
        n_wrong = 0
        for i in range(X.shape[0]):
            y = perceptron(X[i], w, b)
            if y != t[i]:
                n_wrong += 1
            w = w + lr * (t[i] - y) * X[i]
            b = b + lr * (t[i] - y)
        errors.append(n_wrong)
    return w, float(b), errors
