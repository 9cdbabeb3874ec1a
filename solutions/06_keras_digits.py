"""Reference solution, 06_keras_digits: the lecture's MNIST classifier on scikit-learn's digits.

Backend-agnostic: only `import keras` and Keras's API, so it runs on TensorFlow or JAX.
"""
import keras
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_digits_split(test_size=0.25, seed=0):
    """load_digits(): images float32 in [0, 1] (pixels / 16), shape (n, 8, 8); labels int (n,);
    a stratified train_test_split with random_state=seed."""
    digits = load_digits()
    images = digits.images.astype(np.float32) / 16
    labels = digits.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(
        images, labels, test_size=test_size, random_state=seed, stratify=labels)
    return X_train, X_test, y_train, y_test


def build_classifier():
    """Input((8, 8)) -> Flatten -> Dense(128, relu) -> Dense(10, softmax): 9,610 parameters."""
    return keras.Sequential([
        keras.Input(shape=(8, 8)),
        keras.layers.Flatten(),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def compile_classifier(model):
    """Adam with Keras's defaults, sparse categorical cross-entropy, accuracy."""
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train_classifier(model, X, y, epochs=5):
    """model.fit with the default batch size and no console output."""
    return model.fit(X, y, epochs=epochs, verbose=0)


def predict_digits(model, X):
    """The most probable class of each image, as an int array of shape (n,)."""
    probabilities = np.asarray(model.predict(X, verbose=0))
    return np.argmax(probabilities, axis=1)


def accuracy(y_true, y_pred):
    """The fraction of equal labels."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def plot_mistakes(X, y_true, y_pred, n=10):
    """The first n misclassified images in a grid, each titled with its true and predicted label."""
    import matplotlib.pyplot as plt

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    wrong = np.flatnonzero(y_true != y_pred)[:n]
    cols = 5
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2 * cols, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(np.asarray(X[i]).reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(f"true {y_true[i]} / pred {y_pred[i]}")
    fig.tight_layout()
    return fig
