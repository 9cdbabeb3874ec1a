"""Question spec, 05_keras_tanh: the lecture's Keras exercise on dataset2.csv (90 points autograded;
the written answers, graded by hand, make up the rest of the assignment's 100).

The Keras questions never trust the student's own model for more than it is asked: build_model's
model is described (layers, units, activations, parameters); compile_model, train_model and
predict_curve are called on the figure's network built by the harness (probes.py), so that a
mistake in one function costs only its own question. Every number is compared here, in the
grading process: the trained network's fit is recomputed from the returned weights with a NumPy
tanh forward pass on the data.

Backend: the sandbox runs Keras on JAX (`env` below; TensorFlow where JAX is not installed, said
in the result) with one XLA thread, and `autograder reference` builds the stored reference the same
way, so a correct train_model reproduces the reference's curve exactly. One training (100 epochs,
3200 SGD steps) costs about 0.6 CPU-s on JAX once compiled, against about 5 s on TensorFlow; a
grading run compiles once (`warmup`, sandbox.CompileCache).

Measured (2026-11-23, CPU, Keras 3.15, one thread as in the sandbox): the reference solution
trained by the train_model probe (figure network, seed s, SGD lr 0.1, 100 epochs, batch 32) on
dataset2.csv (1000 rows, var(y) = 0.2498, noise variance 0.01), MSE by the NumPy forward pass:

    backend       seeds   MSE min / mean / max         R^2 min / max
    JAX 0.10.2    20      0.0135 / 0.0192 / 0.0288     0.885 / 0.946
    TF 2.21.0     20      0.0129 / 0.0190 / 0.0276     0.889 / 0.948

The stored reference (JAX, seed 0) has MSE 0.02459. The fit case passes when the student's MSE <=
FIT_MSE_FACTOR (2.5) x the reference MSE (0.0615, R^2 >= 0.75): the worst seed of either backend
is 1.17 x the reference, so a correct training whose random stream differs (seed, backend, device)
passes with a 2.1x margin, while 10 epochs (0.0889), one full-batch step per epoch (0.0894) or a
constant prediction (0.25) fail. GPU: not measured here (no device was available); re-measure with
`bash scripts/gpu_reference.sh` before relying on one. Details: docs/tolerances.md.

Decisions: predict_curve's domain must have shape (100, 1) and y_hat shape (100,), both NumPy arrays,
as the notebook's docstring states (a (100,) domain or an unflattened (100, 1) y_hat fails with a
shape message); y_hat is compared with the NumPy forward pass of the same float32 weights within
rtol = atol = 1e-5. plot_fit's curve counts as red when R >= 0.5 and G, B <= 0.3 R ("red", "r",
"#ff0000", "tab:red", "crimson", "darkred"; not orange or magenta).

Limits: the sandboxed child running the reference solution (TensorFlow and Keras-on-JAX imported,
one training) peaks at 2.5 GB of address space (VmPeak) and 0.83 GB resident (0.48 GB of it its
own when forked from a warm sandbox), measured with /proc/self/status; the default 3072 MB would
leave little room, so memory_mb is 4096 (measured with TensorFlow imported too, as the sandbox did
before 2026-12-02; it no longer does). Importing JAX and Keras takes about 2.6 s of CPU, once per
warm sandbox; TensorFlow is not imported unless the submission imports it: keras.utils.set_random_seed
(the notebook's setup cell, and the probes) would import it only to seed it, which
child/kit.defer_tensorflow prevents (training on JAX never reads TensorFlow's random state).
"""
import numpy as np

from autograder.compare import Custom
from autograder.spec import AssignmentSpec, Case, File, Question, call, probe, sibling

# The folder's other modules: network.py (the figure's network, its data, its NumPy forward pass),
# checks.py (the comparisons and `expected` hooks).
network = sibling(__file__, "network")
checks = sibling(__file__, "checks")
DATA, NET, random_weights = network.DATA, network.NET, network.random_weights
# read from this module by tests and benchmarks/keras_spread.py
CURVE, forward, FIT_MSE_FACTOR = network.CURVE, network.forward, checks.FIT_MSE_FACTOR


def _csv_text(rng, n):
    x = rng.uniform(0.0, 1.0, n)
    y = np.clip(0.7 * np.sin(2 * np.pi * x) + rng.normal(0.0, 0.1, n), -0.99, 0.99)
    return "x,y\n" + "".join(f"{a:.6f},{b:.6f}\n" for a, b in zip(x, y))


# ---- load_data --------------------------------------------------------------------------------

def load_public():
    return [Case("dataset2.csv (1000 rows)", call("load_data", DATA))]


def load_hidden(rng):
    return [Case(f"another CSV file ({n} rows)", call("load_data", File("hidden.csv", _csv_text(rng, n))), public=False)
            for n in (7, 3)]


# ---- build_model ------------------------------------------------------------------------------

def build_public():
    """One model, described by the probe; each case checks one aspect of it."""
    return [Case("layers: Dense(6) -> Dense(4) -> Dense(1)", probe("build_model"), aspect="layers"),
            Case("activations: tanh in every layer", probe("build_model"), aspect="activations"),
            Case("parameters: 45, input shape (1,)", probe("build_model"), aspect="parameters")]


# ---- compile_model ----------------------------------------------------------------------------

def compile_public():
    """compile_model on the figure's network; each case checks one aspect of the compiled model."""
    return [Case("optimizer: SGD(learning_rate=0.1)", probe("compile_model", seed=0, net=NET), aspect="optimizer"),
            Case("loss: mean squared error", probe("compile_model", seed=0, net=NET), aspect="loss"),
            Case("returns the compiled model", probe("compile_model", seed=0, net=NET), aspect="returns")]


# ---- train_model ------------------------------------------------------------------------------
# One training with the default epochs, shared by four cases (the probe keeps its result for the
# same train_model function), and one short training that checks the epochs argument.

def _train_case(name, aspect, **epochs):
    return Case(name, probe("train_model_captured", data_path=DATA, seed=0, net=NET, **epochs), aspect=aspect)


def train_public():
    return [_train_case("history: one loss per epoch (default epochs=100)", "history"),
            _train_case("optimizer steps: default batch size (32)", "steps"),
            _train_case("no console output (verbose=0)", "quiet"),
            _train_case("fit: the trained network follows the data", "fit"),
            _train_case("the epochs argument is used (epochs=2)", "epochs_arg", epochs=2)]


# ---- predict_curve ----------------------------------------------------------------------------

def predict_public():
    rng = np.random.default_rng(505)
    return [Case("fixed weights (seed 505)", probe("predict_curve", weights=random_weights(rng), seed=0, net=NET))]


def predict_hidden(rng):
    return [Case("random weights", probe("predict_curve", weights=random_weights(rng), seed=0, net=NET), public=False)]


# ---- plot_fit ---------------------------------------------------------------------------------

def _plot_case(rng, n, m, name, public):
    X = np.sort(rng.uniform(0, 1, n)).reshape(-1, 1)
    y = np.round(0.7 * np.sin(2 * np.pi * X[:, 0]) + rng.normal(0, 0.1, n), 6)
    domain = np.linspace(0, 1, m).reshape(-1, 1)
    y_hat = np.round(0.6 * np.sin(2 * np.pi * domain[:, 0]), 6)
    return Case(name, probe("plot_fit", X, y, domain, y_hat), public=public)


def plot_public():
    return [_plot_case(np.random.default_rng(606), 12, 20, "12 points, curve of 20", True)]


def plot_hidden(rng):
    return [_plot_case(rng, 17, 30, "17 points, curve of 30", False)]


SPEC = AssignmentSpec(
    name="05_keras_tanh",
    questions=[
        Question(name="load_data", points=10, functions=["load_data"], compare=Custom(checks.load_compare),
                 public_cases=load_public, hidden_cases=load_hidden, timeout=30,
                 hint=("pd.read_csv로 읽고 X는 frame['x']를 (n, 1)로, y는 frame['y']를 (n,)으로 (float64).",
                       "read with pd.read_csv; X = column x as (n, 1), y = column y as (n,), float64")),
        Question(name="build_model", points=20, functions=["build_model"], compare=Custom(checks.build_compare),
                 public_cases=build_public, timeout=60, expected=checks.build_expected, needs_keras=True,
                 hint=("그림의 구조를 다시 보세요: 입력 1개, 은닉층 노드 6개와 4개, 출력 1개, 모든 층의 활성화 함수는 tanh.",
                       "look at the figure again: 1 input, hidden layers of 6 and 4 nodes, 1 output, tanh on every layer")),
        Question(name="compile_model", points=15, functions=["compile_model"], compare=Custom(checks.compile_compare),
                 public_cases=compile_public, timeout=60, expected=checks.compile_expected, needs_keras=True,
                 hint=("model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss='mse') 후 model을 돌려줍니다.",
                       "model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss='mse'), then return model")),
        Question(name="train_model", points=20, functions=["train_model"], compare=Custom(checks.train_compare),
                 public_cases=train_public, timeout=240, expected=checks.train_expected, needs_keras=True,
                 hint=("model.fit(X, y, epochs=epochs, verbose=0): batch_size는 넘기지 않고 History를 돌려줍니다.",
                       "model.fit(X, y, epochs=epochs, verbose=0): no batch_size, return the History")),
        Question(name="predict_curve", points=15, functions=["predict_curve"], compare=Custom(checks.predict_compare),
                 public_cases=predict_public, hidden_cases=predict_hidden, timeout=60,
                 expected=checks.predict_expected, needs_keras=True,
                 hint=("domain = np.linspace(0, 1, 100).reshape(-1, 1); y_hat은 model.predict(domain, verbose=0)을 (100,)으로.",
                       "domain = np.linspace(0, 1, 100).reshape(-1, 1); y_hat = model.predict(domain, verbose=0) flattened to (100,)")),
        Question(name="plot_fit", points=10, functions=["plot_fit"], compare=Custom(checks.plot_compare),
                 public_cases=plot_public, hidden_cases=plot_hidden, timeout=60, expected=checks.plot_expected,
                 hint=("fig, ax = plt.subplots(); ax.scatter(X, y); ax.plot(domain, y_hat, color='red'); return fig",
                       "fig, ax = plt.subplots(); ax.scatter(X, y); ax.plot(domain, y_hat, color='red'); return fig")),
    ],
    data_files={DATA: "data/dataset2.csv"},
    preload=["numpy", "pandas", "matplotlib.pyplot", "keras"],  # TensorFlow: only if imported (kit.defer_tensorflow)
    preload_if_imported=["tensorflow"],  # the lecture's `import tensorflow as tf`: a warm sandbox that has it
    # Keras on JAX: a jitted step of this 45-parameter network costs far less than TensorFlow's
    # graph dispatch (one training: 0.6 s instead of 5 s on this project's CPU); TensorFlow
    # where JAX is not installed. The warm-up compiles the training and prediction steps once per run.
    env={"KERAS_BACKEND": "jax"},
    warmup=[probe("keras_warmup", DATA, net=NET)],
    limits={"memory_mb": 4096, "cell_seconds": 120.0, "call_seconds": 60.0, "question_seconds": 900.0, "cpu_seconds": 900},
    hidden_seed=5050,
)
