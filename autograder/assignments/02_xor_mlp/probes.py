"""02_xor_mlp's child side: the harness activations passed as arguments (xor_table's structure is
judged in the grading process, from a stand-in mlp_forward: spec.py)."""
import numpy as np



ACTIVATIONS = {
    "identity": lambda z: np.asarray(z, dtype=np.float64) * 1.0,
    "tanh": lambda z: np.tanh(np.asarray(z, dtype=np.float64)),
    "relu": lambda z: np.maximum(np.asarray(z, dtype=np.float64), 0.0),
    "double": lambda z: 2.0 * np.asarray(z, dtype=np.float64),
}

BUILTINS = {"activation": lambda name: ACTIVATIONS[name]}
