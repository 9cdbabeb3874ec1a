"""06_keras_digits's network: the lecture's network and training settings as the assignment states
them (the harness builds this network from these numbers to test compile_classifier,
train_classifier and predict_digits alone), the split, and the network's NumPy forward pass, which
the comparisons use (checks.py)."""
import numpy as np

EPOCHS = 5                    # train_classifier's default, the lecture's
BATCH = 32                    # Keras's default batch size
SPLIT = {"test_size": 0.25, "seed": 0}
N_TRAIN, N_TEST = 1347, 450   # load_digits: 1797 images, stratified 75/25
NET = {"input_shape": [8, 8], "units": [128, 10], "activations": ["relu", "softmax"], "optimizer": "Adam",
       "learning_rate": 0.001, "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
SHAPES = [(64, 128), (128,), (128, 10), (10,)]   # get_weights() of the lecture's network
N_PARAMS = 64 * 128 + 128 + 128 * 10 + 10        # 9,610


def logits(weights, images):
    """The lecture's network in NumPy (float64) up to the softmax: argmax of these is the class."""
    h = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    W1, b1, W2, b2 = (np.asarray(w, dtype=np.float64) for w in weights)
    return np.maximum(h @ W1 + b1, 0.0) @ W2 + b2


def random_weights(rng, scale=0.6):
    """Weights for the lecture's network in float32 (Keras's dtype; half the size in the references)."""
    return [(rng.normal(size=s) * (scale if len(s) == 2 else 0.2)).astype(np.float32) for s in SHAPES]


def random_images(rng, n):
    """n images of 8x8 pixels in [0, 1], on the digits' grid of sixteenths (float32, as the split's)."""
    return (rng.integers(0, 17, size=(n, 8, 8)) / 16).astype(np.float32)
