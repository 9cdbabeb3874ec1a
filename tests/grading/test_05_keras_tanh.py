"""05_keras_tanh: correct work written differently gets full points; plausible mistakes lose
points on exactly the question they belong to, with a message that names the mistake.

Every grade_file call starts a sandboxed child that imports Keras (several seconds), and the
train_model question trains the network (100 epochs, about 5-15 s), so a mutant is graded only on
its own question plus one cheap question it does not touch; one test grades everything.
"""

import pytest

from autograder.grading import by_question
from autograder.spec import load_spec
from grading_helpers import grade_source, grade_template, replace_function as _replace, scores as _scores

pytestmark = [pytest.mark.keras, pytest.mark.slow]
pytest.importorskip("keras")

ASSIGNMENT = "05_keras_tanh"


def _grade(tmp_path, name, source, questions=None):
    return grade_source(tmp_path, name, source, assignment=ASSIGNMENT, questions=questions)
ALL = ["load_data", "build_model", "compile_model", "train_model", "predict_curve", "plot_fit"]
SPEC = load_spec(ASSIGNMENT)   # its max_score: the autograded part of the 100 (the written answers are the rest)
POINTS = {q.name: q.points for q in SPEC.questions}

# The reference solution uses Sequential, "tanh" strings, loss="mse", frame["x"].to_numpy(),
# plt.subplots. This one uses the functional API, keras.activations.tanh, a loss object,
# pd.read_csv(...).values, plt.figure/add_subplot and an "r-" format string.
CORRECT = '''
import numpy as np
import pandas as pd
import keras
from keras import layers
import matplotlib.pyplot as plt


def load_data(path):
    frame = pd.read_csv(path)
    X = frame[["x"]].values.astype(np.float64)
    y = frame["y"].values.astype(np.float64)
    return X, y


def build_model():
    inputs = keras.Input(shape=(1,))
    h = layers.Dense(6, activation=keras.activations.tanh)(inputs)
    h = layers.Dense(4, activation=keras.activations.tanh)(h)
    outputs = layers.Dense(1, activation=keras.activations.tanh)(h)
    return keras.Model(inputs=inputs, outputs=outputs)


def compile_model(model):
    optimizer = keras.optimizers.SGD(learning_rate=0.1)
    model.compile(optimizer=optimizer, loss=keras.losses.MeanSquaredError())
    return model


def train_model(model, X, y, epochs=100):
    history = model.fit(X, y, epochs=epochs, verbose=0)
    return history


def predict_curve(model):
    domain = np.linspace(0.0, 1.0, num=100)[:, np.newaxis]
    y_hat = model.predict(domain, verbose=0).ravel()
    return domain, y_hat


def plot_fit(X, y, domain, y_hat):
    fig = plt.figure(figsize=(5, 4))
    ax = fig.add_subplot(1, 1, 1)
    ax.scatter(np.ravel(X), y, s=5, label="data")
    ax.plot(domain, y_hat, "r-", label="model")
    ax.legend()
    return fig
'''

# Other accepted spellings, graded on the questions that need no training.
VARIANT = '''
import numpy as np
import pandas as pd
import keras
import matplotlib.pyplot as plt


def load_data(path):
    frame = pd.read_csv(path)
    return frame.x.to_numpy().reshape(-1, 1), frame.y.to_numpy()


def build_model():
    model = keras.Sequential()
    model.add(keras.Input(shape=(1,)))
    for units in (6, 4, 1):
        model.add(keras.layers.Dense(units))
        model.add(keras.layers.Activation("tanh"))
    return model


def compile_model(model):
    model.compile(loss="mean_squared_error", optimizer=keras.optimizers.SGD(0.1))
    return model


def train_model(model, X, y, epochs=100):
    return model.fit(x=X, y=y, epochs=epochs, verbose=0)


def predict_curve(model):
    domain = np.linspace(0, 1, 100).reshape(100, 1)
    y_hat = keras.ops.convert_to_numpy(model(domain, training=False)).reshape(-1)
    return domain, y_hat


def plot_fit(X, y, domain, y_hat):
    fig, ax = plt.subplots()
    ax.plot(domain.ravel(), y_hat, color="#ff0000")
    ax.scatter(X, y)
    return fig
'''



# name -> (function, new definition, a fragment the failing feedback must contain)
MUTANTS = {
    # load_data
    "load_data_X_1d": ("load_data", '''
def load_data(path):
    frame = pd.read_csv(path)
    return frame["x"].to_numpy(dtype=float), frame["y"].to_numpy(dtype=float)
''', "X: shape (1000,), expected (1000, 1)"),
    "load_data_header_none": ("load_data", '''
def load_data(path):
    frame = pd.read_csv(path, header=None)
    return frame[0].values.reshape(-1, 1), frame[1].values
''', "expected NumPy arrays"),
    "load_data_ignores_path": ("load_data", '''
def load_data(path):
    frame = pd.read_csv("dataset2.csv")
    return frame[["x"]].values.astype(float), frame["y"].values.astype(float)
''', "hidden case: another CSV file"),
    # build_model
    "build_relu": ("build_model", '''
def build_model():
    return keras.Sequential([keras.Input(shape=(1,)), layers.Dense(6, activation="relu"),
                             layers.Dense(4, activation="relu"), layers.Dense(1, activation="relu")])
''', "uses activation 'relu', expected 'tanh'"),
    "build_dense5": ("build_model", '''
def build_model():
    return keras.Sequential([keras.Input(shape=(1,)), layers.Dense(5, activation="tanh"),
                             layers.Dense(4, activation="tanh"), layers.Dense(1, activation="tanh")])
''', "Dense layer 1 has 5 units, expected 6"),
    "build_missing_layer": ("build_model", '''
def build_model():
    return keras.Sequential([keras.Input(shape=(1,)), layers.Dense(6, activation="tanh"),
                             layers.Dense(1, activation="tanh")])
''', "the model has 2 Dense layers"),
    "build_sigmoid_output": ("build_model", '''
def build_model():
    return keras.Sequential([keras.Input(shape=(1,)), layers.Dense(6, activation="tanh"),
                             layers.Dense(4, activation="tanh"), layers.Dense(1, activation="sigmoid")])
''', "the output layer (Dense layer 3) uses activation 'sigmoid'"),
    "build_no_input": ("build_model", '''
def build_model():
    return keras.Sequential([layers.Dense(6, activation="tanh"), layers.Dense(4, activation="tanh"),
                             layers.Dense(1, activation="tanh")])
''', "keras.Input(shape=(1,))"),
    # compile_model
    "compile_adam": ("compile_model", '''
def compile_model(model):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1), loss="mse")
    return model
''', "the optimizer is Adam, expected SGD"),
    "compile_lr_001": ("compile_model", '''
def compile_model(model):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01), loss="mse")
    return model
''', "the learning rate is 0.01"),
    "compile_mae": ("compile_model", '''
def compile_model(model):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mae")
    return model
''', "the loss is 'mae'"),
    "compile_no_return": ("compile_model", '''
def compile_model(model):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
''', "must return the model"),
    # train_model
    "train_epochs_10": ("train_model", '''
def train_model(model, X, y, epochs=10):
    return model.fit(X, y, epochs=epochs, verbose=0)
''', "the history has 10 epochs, expected 100"),
    "train_batch_1000": ("train_model", '''
def train_model(model, X, y, epochs=100):
    return model.fit(X, y, epochs=epochs, batch_size=1000, verbose=0)
''', "the model took 100 optimizer steps"),
    "train_no_fit": ("train_model", '''
def train_model(model, X, y, epochs=100):
    return keras.callbacks.History()
''', "after training, the network's MSE"),
    # predict_curve
    "predict_10_points": ("predict_curve", '''
def predict_curve(model):
    domain = np.linspace(0, 1, 10).reshape(-1, 1)
    return domain, model.predict(domain, verbose=0).ravel()
''', "domain: shape (10, 1), expected (100, 1)"),
    "predict_arange": ("predict_curve", '''
def predict_curve(model):
    domain = np.arange(0, 1, 0.01).reshape(-1, 1)
    return domain, model.predict(domain, verbose=0).ravel()
''', "domain: wrong value"),
    "predict_no_ravel": ("predict_curve", '''
def predict_curve(model):
    domain = np.linspace(0, 1, 100).reshape(-1, 1)
    return domain, model.predict(domain, verbose=0)
''', "y_hat: shape (100, 1), expected (100,)"),
    "predict_on_training_data": ("predict_curve", '''
X_train, y_train = load_data("dataset2.csv")


def predict_curve(model):
    domain = np.linspace(0, 1, 100).reshape(-1, 1)
    return domain, model.predict(X_train, verbose=0).ravel()
''', "y_hat: shape (1000,), expected (100,)"),
    # plot_fit
    "plot_blue_line": ("plot_fit", '''
def plot_fit(X, y, domain, y_hat):
    fig, ax = plt.subplots()
    ax.scatter(X, y)
    ax.plot(domain, y_hat)
    return fig
''', "expected red"),
    "plot_no_scatter": ("plot_fit", '''
def plot_fit(X, y, domain, y_hat):
    fig, ax = plt.subplots()
    ax.plot(X, y, "o")
    ax.plot(domain, y_hat, color="red")
    return fig
''', "no scatter plot of the data"),
    "plot_returns_none": ("plot_fit", '''
def plot_fit(X, y, domain, y_hat):
    fig, ax = plt.subplots()
    ax.scatter(X, y)
    ax.plot(domain, y_hat, color="red")
    plt.show()
''', "returned NoneType, expected a matplotlib Figure"),
}
QUESTION_OF = {fn: fn for fn in ALL}
# the unaffected question graded beside each mutant's own: cheap, and not the same one
BESIDE = {"load_data": "plot_fit", "build_model": "load_data", "compile_model": "load_data",
          "train_model": "load_data", "predict_curve": "load_data", "plot_fit": "load_data"}



@pytest.fixture(scope="module")
def correct_result(tmp_path_factory):
    return _grade(tmp_path_factory.mktemp("ok"), "correct", CORRECT)


def test_correct_work_written_differently_gets_full_points(correct_result):
    scores = _scores(correct_result)
    assert sorted(scores) == sorted(ALL)
    for q, (score, max_score) in scores.items():
        assert max_score == POINTS[q]
        assert score == max_score, (q, [t["output"] for t in correct_result["tests"]])
    assert correct_result["score"] == correct_result["max_score"] == SPEC.max_score
    assert "printed by the submission" not in correct_result["output"]


def test_other_accepted_spellings_get_full_points(tmp_path):
    questions = [q for q in ALL if q != "train_model"]
    result = _grade(tmp_path, "variant", VARIANT, questions)
    for q, (score, max_score) in _scores(result).items():
        assert score == max_score, (q, [t["output"] for t in result["tests"]])


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mistake_loses_only_its_question(mutant, tmp_path):
    fn, new_def, fragment = MUTANTS[mutant]
    affected = QUESTION_OF[fn]
    result = _grade(tmp_path, mutant, _replace(CORRECT, fn, new_def), [affected, BESIDE[affected]])
    scores = _scores(result)
    assert set(scores) == {affected, BESIDE[affected]}
    assert scores[affected][0] < scores[affected][1], (mutant, result["tests"])
    assert scores[BESIDE[affected]][0] == scores[BESIDE[affected]][1], (mutant, result["tests"])
    output = by_question(result)[affected]["output"]
    assert fragment in output, output


def test_train_mistakes_cost_only_their_cases(tmp_path):
    """verbose=1 trains correctly: only the console-output case fails (one fifth of the points)."""
    new_def = "def train_model(model, X, y, epochs=100):\n    return model.fit(X, y, epochs=epochs, verbose=1)"
    result = _grade(tmp_path, "verbose", _replace(CORRECT, "train_model", new_def), ["train_model", "load_data"])
    entry = by_question(result)["train_model"]
    assert _scores(result)["load_data"] == (10, 10)
    assert "printed during training (use verbose=0)" in entry["output"]
    failed = [c["name"] for c in entry["extra_data"]["cases"] if not c["passed"]]
    assert failed == ["no console output (verbose=0)"], entry["output"]
    assert entry["score"] == pytest.approx(POINTS["train_model"] * 4 / 5)  # one of five cases lost
    # the progress bar went to the probe, not to the submission's printed output
    assert "Epoch" not in result["output"]


def test_untouched_notebook_scores_zero_not_attempted():
    result = grade_template(ASSIGNMENT)
    assert result["score"] == 0
    assert all(t["extra_data"]["not_attempted"] for t in result["tests"]), result["tests"]


def test_same_submission_graded_twice_gives_identical_scores(tmp_path):
    """Non-training questions, on a submission with a mistake in each of them."""
    source = CORRECT
    for mutant in ("load_data_ignores_path", "build_relu", "compile_mae", "predict_arange", "plot_blue_line"):
        fn, new_def, _ = MUTANTS[mutant]
        source = _replace(source, fn, new_def)
    questions = [q for q in ALL if q != "train_model"]
    a, b = _grade(tmp_path, "twice", source, questions), _grade(tmp_path, "twice", source, questions)
    assert _scores(a) == _scores(b)
    assert [t["output"] for t in a["tests"]] == [t["output"] for t in b["tests"]]
    assert all(score < max_score for score, max_score in _scores(a).values())
