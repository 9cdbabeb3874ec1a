"""Reference solution, 02_xor_mlp: solving XOR with a multi-layer perceptron."""
import numpy as np

# The slides' weights: columns of W1 are hidden nodes n1 and n2.
W1 = np.array([[-2.0, 2.0], [-2.0, 2.0]])
b1 = np.array([3.0, -1.0])
W2 = np.array([1.0, 1.0])
b2 = -1.0
X_xor = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)


def step_fn(z):
    """Elementwise step: 1 where z > 0, else 0 (int array)."""
    return (np.asarray(z) > 0).astype(int)


def sigmoid(z):
    """1 / (1 + exp(-z)), elementwise, without overflow for large |z|."""
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def layer_forward(X, W, b, activation):
    """activation(X @ W + b)."""
    return activation(np.asarray(X) @ np.asarray(W) + np.asarray(b))


def mlp_forward(X, W1, b1, W2, b2, activation=step_fn):
    """Two layers: H = activation(X W1 + b1), y = activation(H W2 + b2) with shape (n,)."""
    H = layer_forward(X, W1, b1, activation)
    y = activation(H @ np.asarray(W2) + b2)
    return H, np.reshape(y, (-1,))


def xor_table():
    """The MLP with the slides' weights and step_fn on the four XOR inputs: [0, 1, 1, 0]."""
    _, y = mlp_forward(X_xor, W1, b1, W2, b2, step_fn)
    return np.asarray(y).astype(int)


def count_parameters(layer_sizes):
    """Weights plus biases of a dense network: sum of (n_in + 1) * n_out."""
    sizes = list(layer_sizes)
    return int(sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])))
