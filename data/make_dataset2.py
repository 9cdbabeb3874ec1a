"""Make data/dataset2.csv for the Keras exercise (05_keras_tanh) from a fixed seed.

1000 rows, columns x,y: x uniform on [0, 1], y = 0.7 sin(2 pi x) (one full period) plus
Gaussian noise, clipped inside (-1, 1) so that a tanh output can reach every target.
Run `python data/make_dataset2.py` to rewrite the file; tests/test_data.py checks that the
committed file is exactly this script's output.
"""
import argparse
import os

import numpy as np

SEED = 20261123
N_ROWS = 1000
NOISE = 0.1


def curve(x):
    """The smooth nonlinear curve the data scatter around."""
    return 0.7 * np.sin(2 * np.pi * x)


def make(seed=SEED, n=N_ROWS):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, n)
    y = np.clip(curve(x) + rng.normal(0.0, NOISE, n), -0.99, 0.99)
    return x, y


def to_csv_text(x, y):
    lines = ["x,y"] + [f"{xi:.6f},{yi:.6f}" for xi, yi in zip(x, y)]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "dataset2.csv"))
    args = parser.parse_args()
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(to_csv_text(*make()))


if __name__ == "__main__":
    main()
