"""Reference solution, 05_keras_tanh: the lecture's Keras exercise on dataset2.csv.

Backend-agnostic: only `import keras` and Keras ops, so it runs on TensorFlow or JAX.
"""
import keras
import numpy as np
import pandas as pd


def load_data(path):
    """Read the CSV (columns x, y): X with shape (n, 1), y with shape (n,)."""
    frame = pd.read_csv(path)
    X = frame["x"].to_numpy(dtype=np.float64).reshape(-1, 1)
    y = frame["y"].to_numpy(dtype=np.float64)
    return X, y


def build_model():
    """input 1 -> Dense(6, tanh) -> Dense(4, tanh) -> Dense(1, tanh): 45 parameters."""
    return keras.Sequential([
        keras.Input(shape=(1,)),
        keras.layers.Dense(6, activation="tanh"),
        keras.layers.Dense(4, activation="tanh"),
        keras.layers.Dense(1, activation="tanh"),
    ])


def compile_model(model):
    """SGD with learning rate 0.1 on mean squared error."""
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    return model


def train_model(model, X, y, epochs=100):
    """model.fit with the default batch size and no console output."""
    return model.fit(X, y, epochs=epochs, verbose=0)


def predict_curve(model):
    """The fitted curve on 100 points between 0 and 1."""
    domain = np.linspace(0, 1, 100).reshape(-1, 1)
    y_hat = np.asarray(model.predict(domain, verbose=0)).reshape(-1)
    return domain, y_hat


def plot_fit(X, y, domain, y_hat):
    """The data as a scatter plot and the fitted curve in red."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(np.ravel(X), np.ravel(y), s=6, alpha=0.5, label="data")
    ax.plot(np.ravel(domain), np.ravel(y_hat), color="red", linewidth=2, label="model")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend()
    return fig
