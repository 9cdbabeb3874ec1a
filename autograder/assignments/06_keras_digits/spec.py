"""Question spec, 06_keras_digits: the lecture's MNIST classifier on scikit-learn's handwritten
digits (90 points autograded; the notebook's two written answers, 5 points each, are graded by
hand and make up the rest of the assignment's 100, as in every assignment).

The lecture's model ("4.4 MNIST 예제") with its input shape changed: Input((8, 8)) -> Flatten ->
Dense(128, relu) -> Dense(10, softmax), adam, sparse categorical cross-entropy, accuracy, 5 epochs,
9,610 parameters. As in 05, build_classifier's model is only described (layers, units, activations,
parameters); compile_classifier, train_classifier and predict_digits are called on the lecture's
network built by the harness (probes.py) from the numbers in network.NET, so that a mistake in one function
costs only its own question. Every number is computed here, in the grading process: the trained
network's test accuracy from the returned weights with a NumPy forward pass on the 450 test images,
which the reference stores (as the raw pixel values 0..16).

Backend: Keras on JAX with one XLA thread (`env`, sandbox.JAX_CPU_ENV), as `autograder reference`
builds the stored reference, so a correct train_classifier reproduces the reference's weights.
One training (5 epochs, 43 Adam steps each) costs about 0.8 s once compiled; the warm-up compiles
its steps once per grading run.

Measured (2026-12-01, CPU x86_64, 2 cores, Keras 3.15.1 on JAX 0.10.2, one XLA thread as in the
sandbox) with `KERAS_BACKEND=jax python benchmarks/keras_spread.py --assignment 06_keras_digits
--seeds 20 --wrong` (docs/measurements/keras_spread_06_cpu_jax.json): the reference's
train_classifier run by the train probe on the lecture network (seed s, adam, 5 epochs, batch 32,
215 steps) on the stratified 75/25 split (1347 / 450 images), test accuracy by the NumPy forward
pass `logits` (network.py), and the same for the wrong models:

    model                              seeds   test accuracy min / mean / max
    the lecture's (reference)          20      0.9200 / 0.9344 / 0.9444
    the same on TensorFlow 2.21.0      20      0.9244 / 0.9348 / 0.9489   (keras_spread_06_cpu_tf.json)
    one epoch                          20      0.7289 / 0.8054 / 0.8422
    plain SGD (learning rate 0.01)     20      0.7200 / 0.7650 / 0.8067
    no hidden layer                    20      0.6956 / 0.7607 / 0.8289
    sigmoid hidden layer               20      0.8422 / 0.8711 / 0.9089
    unscaled pixels (0..16)            20      0.9333 / 0.9501 / 0.9689

The stored reference (seed 0) has test accuracy 0.9356. The accuracy case passes when the student's
test accuracy >= the reference's - ACC_MARGIN (0.055), 0.8806 with this reference: 0.0394 below the
worst seed (about 18 of the 450 test images; 2.5 times the worst seed's own distance below the
reference), and 0.038 above the best one-epoch run, so one epoch fails it on every seed, as do plain
SGD and no hidden layer. Had the reference come out at the worst seed the limit (0.865) would still
fail every one-epoch run; at the best seed of either backend (limit 0.8939) it would still pass
every seed by 0.026. The sigmoid hidden layer and unscaled pixels can pass the threshold, and are
caught by their own questions (build_classifier's activations, load_digits_split's scaling), as are the others
(compile_classifier's optimizer, build_classifier's layers, train_classifier's history). GPU: not
measured (no device was lent to this task); see docs/tolerances.md.

Decisions: the images must be float32 (the contract; a float64 array loses only the float32 cases);
each load_digits_split aspect has a public and a hidden case of its own, so that one mistake costs
that aspect only (public cases earn credit only while a hidden case of the question passes);
labels must be an integer array; predict_digits must return a NumPy integer array of shape (n,)
(probabilities of shape (n, 10) fail with their own message); accuracy must be a float fraction
(a percentage or a count fails with its own message). A plot_mistakes title must contain the true
and the predicted label as numbers ("true 3 / pred 8", "3 -> 8", "정답 3, 예측 8").
"""
import numpy as np

from autograder.compare import Custom
from autograder.spec import AssignmentSpec, Case, Question, call, probe, sibling

# The folder's other modules: network.py (the lecture's network, the split, the NumPy forward pass),
# checks.py and model_checks.py (the comparisons and `expected` hooks).
network = sibling(__file__, "network")
checks = sibling(__file__, "checks")
model_checks = sibling(__file__, "model_checks")
SPLIT, NET, random_weights, random_images = network.SPLIT, network.NET, network.random_weights, network.random_images
# read from this module by tests and benchmarks/keras_spread.py
EPOCHS, ACC_MARGIN = network.EPOCHS, checks.ACC_MARGIN


# ---- load_digits_split --------------------------------------------------------------------------

def load_public():
    """One call, four cases: each checks one aspect of the split (checks.LOAD_CHECKS)."""
    return [Case("four arrays: X_train (1347, 8, 8), X_test (450, 8, 8), y_train (1347,), y_test (450,)",
                 call("load_digits_split"), aspect="shapes"),
            Case("labels: integers, the stratified split (random_state=seed)", call("load_digits_split"),
                 aspect="labels"),
            Case("images: pixels divided by 16, in [0, 1]", call("load_digits_split"), aspect="scaled"),
            Case("images: float32", call("load_digits_split"), aspect="float32")]


OTHER_SPLIT = {"test_size": 0.2, "seed": 3}


def load_hidden(rng):
    """One hidden case per aspect, so that one mistake fails one aspect's public and hidden cases only."""
    return [Case(f"another split (test_size=0.2, seed=3): {label}", call("load_digits_split", **OTHER_SPLIT),
                 public=False, aspect=aspect)
            for label, aspect in (("shapes", "shapes"), ("labels", "labels"), ("scaling", "scaled"),
                                  ("float32", "float32"))]


# ---- build_classifier ---------------------------------------------------------------------------

def build_public():
    """One model, described by the probe; each case checks one aspect of it."""
    return [Case("layers: Flatten -> Dense(128) -> Dense(10)", probe("build_classifier"), aspect="layers"),
            Case("activations: relu in the hidden layer, softmax in the output layer", probe("build_classifier"),
                 aspect="activations"),
            Case("parameters: 9,610, input shape (8, 8)", probe("build_classifier"), aspect="parameters")]


# ---- compile_classifier -------------------------------------------------------------------------

def _compile_case(name, aspect):
    return Case(name, probe("compile_classifier", net=NET, seed=0), aspect=aspect)


def compile_public():
    """compile_classifier on the lecture's network; each case checks one aspect of the compiled model."""
    return [_compile_case("optimizer: adam with Keras's defaults (learning rate 0.001)", "optimizer"),
            _compile_case("loss: sparse categorical cross-entropy", "loss"),
            _compile_case("metrics: accuracy", "metrics"),
            _compile_case("returns the compiled model", "returns")]


# ---- train_classifier ---------------------------------------------------------------------------
# One training with the default epochs, shared by four cases (the probe keeps its outcome for the
# same train_classifier), and one short training that checks the epochs argument.

def _train_case(name, aspect, **epochs):
    return Case(name, probe("train_classifier", net=NET, seed=0, split=SPLIT, **epochs), aspect=aspect)


def train_public():
    return [_train_case("history: one loss per epoch (default epochs=5)", "history"),
            _train_case("optimizer steps: default batch size (32)", "steps"),
            _train_case("no console output (verbose=0)", "quiet"),
            _train_case("test accuracy of the trained model", "accuracy"),
            _train_case("the epochs argument is used (epochs=2)", "epochs_arg", epochs=2)]


# ---- predict_digits -----------------------------------------------------------------------------

def _predict_case(rng, n, name, public):
    return Case(name, probe("predict_digits", weights=random_weights(rng), images=random_images(rng, n), net=NET),
                public=public)


def predict_public():
    return [_predict_case(np.random.default_rng(606), 12, "fixed weights (seed 606), 12 images", True)]


def predict_hidden(rng):
    return [_predict_case(rng, 40, "random weights, 40 images", False)]


# ---- accuracy -----------------------------------------------------------------------------------

def _labels_case(rng, n, wrong, name, public):
    y_true = rng.integers(0, 10, size=n)
    y_pred = y_true.copy()
    idx = rng.choice(n, size=wrong, replace=False)
    y_pred[idx] = (y_true[idx] + rng.integers(1, 10, size=wrong)) % 10
    return Case(name, call("accuracy", y_true, y_pred), public=public)


def accuracy_public():
    rng = np.random.default_rng(66)
    return [_labels_case(rng, 8, 2, "8 labels, 6 equal", True),
            _labels_case(rng, 5, 0, "5 labels, all equal", True)]


def accuracy_hidden(rng):
    return [_labels_case(rng, 450, 31, "450 labels", False), _labels_case(rng, 7, 7, "7 labels, none equal", False)]


# ---- plot_mistakes ------------------------------------------------------------------------------

def _plot_case(rng, n_images, n_wrong, n, name, public):
    X = random_images(rng, n_images)
    y_true = rng.integers(0, 10, size=n_images)
    y_pred = y_true.copy()
    idx = rng.choice(n_images, size=n_wrong, replace=False)
    y_pred[idx] = (y_true[idx] + rng.integers(1, 10, size=n_wrong)) % 10
    args = (X, y_true, y_pred) if n is None else (X, y_true, y_pred, n)
    return Case(name, probe("plot_mistakes", *args), public=public)


def plot_public():
    rng = np.random.default_rng(707)
    return [_plot_case(rng, 20, 6, None, "20 images, 6 misclassified: all 6 shown", True),
            _plot_case(rng, 24, 14, None, "24 images, 14 misclassified: the first 10 shown (default n=10)", True)]


def plot_hidden(rng):
    return [_plot_case(rng, 30, 12, 4, "30 images, 12 misclassified, n=4", False),
            _plot_case(rng, 25, 3, None, "25 images, 3 misclassified", False)]


SPEC = AssignmentSpec(
    name="06_keras_digits",
    questions=[
        Question(name="load_digits_split", points=10, functions=["load_digits_split"],
                 compare=Custom(checks.load_compare),
                 public_cases=load_public, hidden_cases=load_hidden, timeout=30, expected=checks.load_expected,
                 hint=("digits = load_digits(); 이미지는 digits.images.astype(np.float32) / 16, 레이블은 digits.target; "
                       "train_test_split(..., test_size=test_size, random_state=seed, stratify=레이블)",
                       "digits = load_digits(); images digits.images.astype(np.float32) / 16, labels digits.target; "
                       "train_test_split(..., test_size=test_size, random_state=seed, stratify=labels)")),
        Question(name="build_classifier", points=20, functions=["build_classifier"],
                 compare=Custom(model_checks.build_compare),
                 public_cases=build_public, timeout=60, expected=model_checks.build_expected, needs_keras=True,
                 hint=("강의의 모델에서 입력 모양만 바꿉니다: Input((8, 8)) → Flatten → Dense(128, relu) → Dense(10, softmax).",
                       "the lecture's model with the input shape changed: Input((8, 8)) -> Flatten -> Dense(128, relu) "
                       "-> Dense(10, softmax)")),
        Question(name="compile_classifier", points=15, functions=["compile_classifier"],
                 compare=Custom(model_checks.compile_compare),
                 public_cases=compile_public, timeout=60, expected=model_checks.compile_expected, needs_keras=True,
                 hint=("model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy']) "
                       "후 model을 돌려줍니다.",
                       "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy']), "
                       "then return model")),
        Question(name="train_classifier", points=20, functions=["train_classifier"],
                 compare=Custom(checks.train_compare),
                 public_cases=train_public, timeout=240, expected=checks.train_expected, needs_keras=True,
                 hint=("model.fit(X, y, epochs=epochs, verbose=0): batch_size는 넘기지 않고 History를 돌려줍니다.",
                       "model.fit(X, y, epochs=epochs, verbose=0): no batch_size, return the History")),
        Question(name="predict_digits", points=10, functions=["predict_digits"],
                 compare=Custom(checks.predict_compare),
                 public_cases=predict_public, hidden_cases=predict_hidden, timeout=60,
                 expected=checks.predict_expected, needs_keras=True,
                 hint=("model.predict(X, verbose=0)은 (n, 10) 확률입니다. 가장 큰 확률의 번호 np.argmax(..., axis=1)를 돌려줍니다.",
                       "model.predict(X, verbose=0) gives (n, 10) probabilities; return np.argmax(..., axis=1)")),
        Question(name="accuracy", points=5, functions=["accuracy"], compare=Custom(checks.accuracy_compare),
                 public_cases=accuracy_public, hidden_cases=accuracy_hidden, timeout=30,
                 expected=checks.accuracy_expected,
                 hint=("같은 레이블의 비율: np.mean(y_true == y_pred)를 float으로.",
                       "the fraction of equal labels: float(np.mean(y_true == y_pred))")),
        Question(name="plot_mistakes", points=10, functions=["plot_mistakes"], compare=Custom(checks.plot_compare),
                 public_cases=plot_public, hidden_cases=plot_hidden, timeout=60, expected=checks.plot_expected,
                 hint=("np.flatnonzero로 y_true와 y_pred가 다른 번호를 찾아 앞에서부터 n개; 칸마다 ax.imshow(X[i])와 "
                       "ax.set_title(f'true {y_true[i]} / pred {y_pred[i]}'); return fig",
                       "the first n indices where y_true and y_pred differ (np.flatnonzero); in each subplot ax.imshow(X[i]) and "
                       "ax.set_title(f'true {y_true[i]} / pred {y_pred[i]}'); return fig")),
    ],
    preload=["numpy", "matplotlib.pyplot", "keras", "sklearn.datasets", "sklearn.model_selection"],  # no TensorFlow: kit.defer_tensorflow
    preload_if_imported=["tensorflow"],  # the lecture's `import tensorflow as tf`: a warm sandbox that has it
    # Keras on JAX, single-threaded (sandbox.JAX_CPU_ENV), as 05: the reference is built the same way.
    env={"KERAS_BACKEND": "jax"},
    warmup=[probe("warmup", net=NET, split=SPLIT, predict_rows=[12, 40])],
    limits={"memory_mb": 4096, "cell_seconds": 120.0, "call_seconds": 60.0, "question_seconds": 900.0, "cpu_seconds": 900},
    hidden_seed=6060,
)
