"""05_keras_tanh's network: the figure's network, its data and training settings, as the assignment
states them (the harness builds this network from these numbers to test compile_model, train_model
and predict_curve on their own: probes.py holds no model code of its own), and its NumPy forward
pass, which the comparisons use (checks.py)."""
import numpy as np

DATA = "dataset2.csv"
N_ROWS = 1000                 # rows of dataset2.csv
EPOCHS = 100                  # train_model's default
BATCH = 32                    # Keras's default batch size
CURVE = np.linspace(0, 1, 100).reshape(-1, 1)
SHAPES = [(1, 6), (6,), (6, 4), (4,), (4, 1), (1,)]   # get_weights() of the figure's network
NET = {"inputs": 1, "units": [6, 4, 1], "activation": "tanh", "optimizer": "SGD", "learning_rate": 0.1,
       "loss": "mse", "steps_per_execution": 32}  # 32 steps per call: same numbers, 1.5x faster


def forward(weights, X):
    """The figure's network in NumPy (float64): tanh after every Dense layer."""
    h = np.asarray(X, dtype=np.float64).reshape(-1, 1)
    for W, b in zip(weights[0::2], weights[1::2]):
        h = np.tanh(h @ np.asarray(W, dtype=np.float64) + np.asarray(b, dtype=np.float64))
    return h.reshape(-1)


def random_weights(rng, scale=1.5):
    """Weights for the figure's network, exactly representable in float32 (Keras's dtype)."""
    return [(rng.normal(size=s) * (scale if len(s) == 2 else 0.5)).astype(np.float32).astype(np.float64)
            for s in SHAPES]
