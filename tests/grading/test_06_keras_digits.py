"""06_keras_digits: correct work written differently gets full points; plausible mistakes lose
points on exactly the question they belong to, with a message that names the mistake; the wrong
models of the lecture's lesson (no hidden layer, a sigmoid hidden layer, plain SGD, one epoch,
unscaled pixels) each fail the accuracy threshold or their own question.

Every grade_file call starts a sandboxed child that imports Keras and scikit-learn, and the
train_classifier question trains the lecture's network (5 epochs, about 1-3 s), so a mutant is
graded only on its own question plus one cheap question it does not touch; one test grades
everything. Thresholds come from the spec and the stored reference, never typed in here.
"""
import re

import pytest

from autograder import references
from autograder.spec import load_spec
from grading_helpers import grade_source, grade_template, replace_function as _replace

pytestmark = [pytest.mark.keras, pytest.mark.slow]
pytest.importorskip("keras")
pytest.importorskip("sklearn")

ASSIGNMENT = "06_keras_digits"
SPEC = load_spec(ASSIGNMENT)
ALL = [q.name for q in SPEC.questions]
POINTS = {q.name: q.points for q in SPEC.questions}
ACC_CASE = "test accuracy of the trained model"


def _grade(tmp_path, name, source, questions=None):
    return grade_source(tmp_path, name, source, assignment=ASSIGNMENT, questions=questions)


def _question_of(entry):
    """The question an entry of the result belongs to: hidden cases may come in an entry of their
    own ("06_keras_digits.accuracy (hidden)")."""
    return entry["name"].split(".", 1)[1].split(" (", 1)[0]


def _entries(result, question):
    return [t for t in result["tests"] if _question_of(t) == question]


def _scores(result):
    """{question: (score, max_score)}, a question's public and hidden entries together."""
    out = {}
    for t in result["tests"]:
        score, max_score = out.get(_question_of(t), (0.0, 0.0))
        out[_question_of(t)] = (round(score + t["score"], 4), round(max_score + t["max_score"], 4))
    return out


def _output(result, question):
    return "\n".join(t["output"] for t in _entries(result, question))


def _cases(result, question):
    return [c for t in _entries(result, question) for c in t["extra_data"]["cases"]]


def _case(result, question, case):
    return next(c for c in _cases(result, question) if c["name"] == case)


def _limit():
    """The accuracy a trained network must reach: the stored reference's minus the spec's margin."""
    refs, _ = references.load(ASSIGNMENT, include_hidden=False)
    expected = next(c["expected"] for c in refs["train_classifier"] if c["name"] == ACC_CASE)
    return expected["reference_accuracy"] - _spec_module().ACC_MARGIN


def _spec_module():
    """The spec's module (its constants), loaded from its file as the grader loads it."""
    import importlib.util
    import os

    from autograder.spec import assignment_dir
    path = os.path.join(assignment_dir(ASSIGNMENT), "spec.py")
    module_spec = importlib.util.spec_from_file_location("spec06_for_tests", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def _reported_accuracy(message):
    found = re.search(r"test accuracy is ([0-9.]+)", message)
    assert found, message
    return float(found.group(1))


# The reference solution uses Sequential, strings for optimizer, loss and metric, astype(float32) / 16,
# np.argmax and plt.subplots. This one uses the functional API, keras.activations, Keras loss and
# metric objects, keras.optimizers.Adam(), np.divide, model(X) for the prediction, a list
# comprehension for the accuracy and plt.figure/add_subplot without an image grid helper.
CORRECT = '''
import numpy as np
import matplotlib.pyplot as plt
import keras
from keras import layers
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_digits_split(test_size=0.25, seed=0):
    digits = load_digits()
    X = np.divide(digits.images, 16.0).astype("float32")
    y = digits.target
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, random_state=seed,
                                                        stratify=y)
    return X_train, X_test, y_train, y_test


def build_classifier():
    inputs = keras.Input(shape=(8, 8))
    h = layers.Flatten()(inputs)
    h = layers.Dense(128, activation=keras.activations.relu)(h)
    outputs = layers.Dense(10, activation=keras.activations.softmax)(h)
    return keras.Model(inputs=inputs, outputs=outputs)


def compile_classifier(model):
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    return model


def train_classifier(model, X, y, epochs=5):
    history = model.fit(X, y, epochs=epochs, verbose=0)
    return history


def predict_digits(model, X):
    probabilities = keras.ops.convert_to_numpy(model(X, training=False))
    return probabilities.argmax(axis=-1)


def accuracy(y_true, y_pred):
    same = [int(a == b) for a, b in zip(y_true, y_pred)]
    return sum(same) / len(same)


def plot_mistakes(X, y_true, y_pred, n=10):
    wrong = [i for i in range(len(y_true)) if y_true[i] != y_pred[i]][:n]
    fig = plt.figure(figsize=(8, 4))
    for k, i in enumerate(wrong):
        ax = fig.add_subplot(2, (len(wrong) + 1) // 2 or 1, k + 1)
        ax.imshow(X[i], cmap="gray")
        ax.set_title(f"{y_true[i]} -> {y_pred[i]}")
        ax.set_xticks([])
        ax.set_yticks([])
    return fig
'''

# Other accepted spellings, graded on the questions that need no training.
VARIANT = '''
import numpy as np
import matplotlib.pyplot as plt
import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load_digits_split(test_size=0.25, seed=0):
    images, labels = load_digits(return_X_y=True)
    images = (images.reshape(-1, 8, 8) / 16).astype(np.float32)
    return tuple(train_test_split(images, labels, test_size=test_size, random_state=seed, stratify=labels))


def build_classifier():
    model = keras.Sequential()
    model.add(keras.Input(shape=(8, 8)))
    model.add(keras.layers.Flatten())
    model.add(keras.layers.Dense(128))
    model.add(keras.layers.Activation("relu"))
    model.add(keras.layers.Dense(10))
    model.add(keras.layers.Activation("softmax"))
    return model


def compile_classifier(model):
    model.compile(loss=keras.losses.sparse_categorical_crossentropy, optimizer=keras.optimizers.Adam(0.001),
                  metrics=["acc"])
    return model


def train_classifier(model, X, y, epochs=5):
    return model.fit(x=X, y=y, epochs=epochs, verbose=0)


def predict_digits(model, X):
    return np.argmax(model.predict(X, verbose=0), axis=1).astype(np.int32)


def accuracy(y_true, y_pred):
    return float(np.count_nonzero(np.equal(y_true, y_pred)) / np.size(y_true))


def plot_mistakes(X, y_true, y_pred, n=10):
    wrong = np.where(np.asarray(y_true) != np.asarray(y_pred))[0][:n]
    fig, axes = plt.subplots(1, max(len(wrong), 1), squeeze=False)
    for ax, i in zip(axes[0], wrong):
        ax.imshow(X[i].reshape(8, 8))
        ax.set_title(f"정답 {y_true[i]}, 예측 {y_pred[i]}")
    return fig
'''

# name -> (function, new definition, a fragment the failing feedback must contain)
MUTANTS = {
    # load_digits_split
    "load_unscaled": ("load_digits_split", '''
def load_digits_split(test_size=0.25, seed=0):
    digits = load_digits()
    return train_test_split(digits.images.astype("float32"), digits.target, test_size=test_size,
                            random_state=seed, stratify=digits.target)
''', "pixels go up to 16"),
    "load_by_255": ("load_digits_split", '''
def load_digits_split(test_size=0.25, seed=0):
    digits = load_digits()
    return train_test_split((digits.images / 255).astype("float32"), digits.target, test_size=test_size,
                            random_state=seed, stratify=digits.target)
''', "divided by 255"),
    "load_no_stratify": ("load_digits_split", '''
def load_digits_split(test_size=0.25, seed=0):
    digits = load_digits()
    return train_test_split((digits.images / 16).astype("float32"), digits.target, test_size=test_size,
                            random_state=seed)
''', "y_train holds other labels"),
    "load_flattened": ("load_digits_split", '''
def load_digits_split(test_size=0.25, seed=0):
    digits = load_digits()
    return train_test_split((digits.data / 16).astype("float32"), digits.target, test_size=test_size,
                            random_state=seed, stratify=digits.target)
''', "X_train has shape (1347, 64), expected (1347, 8, 8) (keep the images 8x8"),
    "load_ignores_seed": ("load_digits_split", '''
def load_digits_split(test_size=0.25, seed=0):
    digits = load_digits()
    return train_test_split((digits.images / 16).astype("float32"), digits.target, test_size=test_size,
                            random_state=0, stratify=digits.target)
''', "hidden case: another split (test_size=0.2, seed=3): labels"),
    # build_classifier
    "build_no_hidden_layer": ("build_classifier", '''
def build_classifier():
    return keras.Sequential([keras.Input(shape=(8, 8)), layers.Flatten(), layers.Dense(10, activation="softmax")])
''', "the model has 1 Dense layers with units [10] (no hidden layer)"),
    "build_sigmoid_hidden": ("build_classifier", '''
def build_classifier():
    return keras.Sequential([keras.Input(shape=(8, 8)), layers.Flatten(), layers.Dense(128, activation="sigmoid"),
                             layers.Dense(10, activation="softmax")])
''', "hidden layer 1 (Dense layer 1) uses activation 'sigmoid', expected 'relu'"),
    "build_slides_256": ("build_classifier", '''
def build_classifier():
    return keras.Sequential([keras.Input(shape=(8, 8)), layers.Flatten(), layers.Dense(256, activation="relu"),
                             layers.Dense(10, activation="softmax")])
''', "Dense layer 1 has 256 units, expected 128 (the slides' 256 is for MNIST"),
    "build_mnist_input": ("build_classifier", '''
def build_classifier():
    return keras.Sequential([keras.Input(shape=(28, 28)), layers.Flatten(), layers.Dense(128, activation="relu"),
                             layers.Dense(10, activation="softmax")])
''', "the input shape is (28, 28), expected (8, 8)"),
    "build_no_flatten": ("build_classifier", '''
def build_classifier():
    return keras.Sequential([keras.Input(shape=(64,)), layers.Dense(128, activation="relu"),
                             layers.Dense(10, activation="softmax")])
''', "no Flatten layer"),
    "build_linear_output": ("build_classifier", '''
def build_classifier():
    return keras.Sequential([keras.Input(shape=(8, 8)), layers.Flatten(), layers.Dense(128, activation="relu"),
                             layers.Dense(10)])
''', "the output layer (Dense layer 2) uses activation 'linear', expected 'softmax'"),
    # compile_classifier
    "compile_plain_sgd": ("compile_classifier", '''
def compile_classifier(model):
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
''', "the optimizer is SGD, expected Adam"),
    "compile_adam_lr_001": ("compile_classifier", '''
def compile_classifier(model):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model
''', "the learning rate is 0.01, expected Keras's default 0.001"),
    "compile_categorical": ("compile_classifier", '''
def compile_classifier(model):
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model
''', "which expects one-hot labels"),
    "compile_from_logits": ("compile_classifier", '''
def compile_classifier(model):
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model
''', "from_logits=True"),
    "compile_no_metrics": ("compile_classifier", '''
def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model
''', "the model has no metrics"),
    "compile_no_return": ("compile_classifier", '''
def compile_classifier(model):
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
''', "must return the model"),
    # train_classifier
    "train_one_epoch": ("train_classifier", '''
def train_classifier(model, X, y, epochs=1):
    return model.fit(X, y, epochs=epochs, verbose=0)
''', "the history has 1 epochs, expected 5"),
    "train_full_batch": ("train_classifier", '''
def train_classifier(model, X, y, epochs=5):
    return model.fit(X, y, epochs=epochs, batch_size=len(X), verbose=0)
''', "the model took 5 optimizer steps"),
    "train_ignores_epochs": ("train_classifier", '''
def train_classifier(model, X, y, epochs=5):
    return model.fit(X, y, epochs=5, verbose=0)
''', "the history has 5 epochs, expected 2 (use the epochs argument)"),
    "train_no_fit": ("train_classifier", '''
def train_classifier(model, X, y, epochs=5):
    return keras.callbacks.History()
''', "after training, the network's test accuracy is"),
    # predict_digits
    "predict_probabilities": ("predict_digits", '''
def predict_digits(model, X):
    return model.predict(X, verbose=0)
''', "returned the probabilities"),
    "predict_list": ("predict_digits", '''
def predict_digits(model, X):
    return [int(k) for k in np.argmax(model.predict(X, verbose=0), axis=1)]
''', "returned list, expected a NumPy array of labels"),
    "predict_float_labels": ("predict_digits", '''
def predict_digits(model, X):
    return np.argmax(model.predict(X, verbose=0), axis=1).astype(float)
''', "labels: dtype float64, expected an integer dtype"),
    "predict_argmin": ("predict_digits", '''
def predict_digits(model, X):
    return np.argmin(model.predict(X, verbose=0), axis=1)
''', "labels: wrong value"),
    # accuracy
    "accuracy_percent": ("accuracy", '''
def accuracy(y_true, y_pred):
    return 100.0 * float(np.mean(y_true == y_pred))
''', "a percentage"),
    "accuracy_count": ("accuracy", '''
def accuracy(y_true, y_pred):
    return int(np.sum(y_true == y_pred))
''', "the number of equal labels"),
    "accuracy_error_rate": ("accuracy", '''
def accuracy(y_true, y_pred):
    return float(np.mean(y_true != y_pred))
''', "accuracy: wrong value"),
    # plot_mistakes
    "plot_all_images": ("plot_mistakes", '''
def plot_mistakes(X, y_true, y_pred, n=10):
    fig = plt.figure()
    for k in range(min(n, len(X))):
        ax = fig.add_subplot(2, 5, k + 1)
        ax.imshow(X[k])
        ax.set_title(f"{y_true[k]} -> {y_pred[k]}")
    return fig
''', "the figure shows 10 images, expected 6"),
    "plot_no_titles": ("plot_mistakes", '''
def plot_mistakes(X, y_true, y_pred, n=10):
    wrong = np.flatnonzero(y_true != y_pred)[:n]
    fig, axes = plt.subplots(2, 5)
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(X[i])
    return fig
''', "it must show the true label"),
    "plot_ignores_n": ("plot_mistakes", '''
def plot_mistakes(X, y_true, y_pred, n=10):
    wrong = np.flatnonzero(y_true != y_pred)[:10]
    fig, axes = plt.subplots(2, 5)
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(X[i])
        ax.set_title(f"true {y_true[i]} / pred {y_pred[i]}")
    return fig
''', "hidden case: 30 images, 12 misclassified, n=4"),
    "plot_returns_none": ("plot_mistakes", '''
def plot_mistakes(X, y_true, y_pred, n=10):
    wrong = np.flatnonzero(y_true != y_pred)[:n]
    fig, axes = plt.subplots(2, 5)
    for ax, i in zip(axes.ravel(), wrong):
        ax.imshow(X[i])
        ax.set_title(f"true {y_true[i]} / pred {y_pred[i]}")
    plt.show()
''', "returned NoneType, expected a matplotlib Figure"),
}
# the unaffected question graded beside each mutant's own: cheap, and not the same one
BESIDE = {q: ("accuracy" if q != "accuracy" else "load_digits_split") for q in ALL}


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
    questions = [q for q in ALL if q != "train_classifier"]
    result = _grade(tmp_path, "variant", VARIANT, questions)
    for q, (score, max_score) in _scores(result).items():
        assert score == max_score, (q, [t["output"] for t in result["tests"]])


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_mistake_loses_only_its_question(mutant, tmp_path):
    fn, new_def, fragment = MUTANTS[mutant]
    affected = fn
    result = _grade(tmp_path, mutant, _replace(CORRECT, fn, new_def), [affected, BESIDE[affected]])
    scores = _scores(result)
    assert set(scores) == {affected, BESIDE[affected]}
    assert scores[affected][0] < scores[affected][1], (mutant, result["tests"])
    assert scores[BESIDE[affected]][0] == scores[BESIDE[affected]][1], (mutant, result["tests"])
    output = _output(result, affected)
    assert fragment in output, output


def test_one_epoch_also_fails_the_accuracy_threshold(tmp_path):
    """The lecture's one wrong model the structure cannot show: one epoch trains too little."""
    fn, new_def, _ = MUTANTS["train_one_epoch"]
    result = _grade(tmp_path, "one_epoch", _replace(CORRECT, fn, new_def), ["train_classifier"])
    case = _case(result, "train_classifier", ACC_CASE)
    assert not case["passed"], case
    assert _reported_accuracy(case["message"]) < _limit()


def test_training_with_plain_sgd_fails_only_the_accuracy_threshold(tmp_path):
    """A train_classifier that recompiles the harness's model with plain SGD trains 5 epochs of 43
    steps as asked, so only the test accuracy can tell; it falls below the threshold."""
    new_def = '''
def train_classifier(model, X, y, epochs=5):
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(X, y, epochs=epochs, verbose=0)
'''
    result = _grade(tmp_path, "sgd_train", _replace(CORRECT, "train_classifier", new_def), ["train_classifier"])
    failed = [c["name"] for c in _cases(result, "train_classifier") if not c["passed"]]
    assert failed == [ACC_CASE], _output(result, "train_classifier")
    assert _reported_accuracy(_case(result, "train_classifier", ACC_CASE)["message"]) < _limit()


def test_a_correct_training_with_another_random_stream_passes_the_threshold(tmp_path):
    """Another seed's shuffling (what another backend or device also changes) stays above the limit."""
    new_def = '''
def train_classifier(model, X, y, epochs=5):
    keras.utils.set_random_seed(14)
    return model.fit(X, y, epochs=epochs, verbose=0)
'''
    result = _grade(tmp_path, "other_stream", _replace(CORRECT, "train_classifier", new_def), ["train_classifier"])
    assert _scores(result)["train_classifier"] == (POINTS["train_classifier"],) * 2, \
        _output(result, "train_classifier")


def test_train_mistakes_cost_only_their_cases(tmp_path):
    """verbose=1 trains correctly: only the console-output case fails (one fifth of the points)."""
    new_def = "def train_classifier(model, X, y, epochs=5):\n    return model.fit(X, y, epochs=epochs, verbose=1)"
    result = _grade(tmp_path, "verbose", _replace(CORRECT, "train_classifier", new_def), ["train_classifier"])
    output = _output(result, "train_classifier")
    assert "printed during training (use verbose=0)" in output
    failed = [c["name"] for c in _cases(result, "train_classifier") if not c["passed"]]
    assert failed == ["no console output (verbose=0)"], output
    assert _scores(result)["train_classifier"][0] == pytest.approx(POINTS["train_classifier"] * 4 / 5)
    assert "Epoch" not in result["output"]


FLOAT64_IMAGES = '''
def load_digits_split(test_size=0.25, seed=0):
    digits = load_digits()
    return train_test_split(digits.images / 16, digits.target, test_size=test_size, random_state=seed,
                            stratify=digits.target)
'''


@pytest.mark.parametrize("new_def, aspects, fragment", [
    (FLOAT64_IMAGES, ("images: float32", "float32"), "dtype float64, expected float32"),
    (MUTANTS["load_unscaled"][1], ("images: pixels divided by 16, in [0, 1]", "scaling"), "pixels go up to 16"),
], ids=["float64", "unscaled"])
def test_a_load_mistake_loses_only_its_own_cases(tmp_path, new_def, aspects, fragment):
    """One aspect's public case and the same aspect's hidden case; the other aspects keep their credit."""
    result = _grade(tmp_path, "load", _replace(CORRECT, "load_digits_split", new_def), ["load_digits_split"])
    output = _output(result, "load_digits_split")
    failed = [c["name"] for c in _cases(result, "load_digits_split") if not c["passed"]]
    assert failed == [aspects[0], f"another split (test_size=0.2, seed=3): {aspects[1]}"], output
    assert fragment in output
    assert _scores(result)["load_digits_split"][0] == pytest.approx(POINTS["load_digits_split"] * 3 / 4)


def test_untouched_notebook_scores_zero_not_attempted():
    result = grade_template(ASSIGNMENT)
    assert result["score"] == 0
    assert all(t["extra_data"]["not_attempted"] for t in result["tests"]), result["tests"]
    assert sorted(_scores(result)) == sorted(ALL)


def test_same_submission_graded_twice_gives_identical_scores(tmp_path):
    """Non-training questions, on a submission with a mistake in each of them."""
    source = CORRECT
    for mutant in ("load_no_stratify", "build_sigmoid_hidden", "compile_no_metrics", "predict_list",
                   "accuracy_percent", "plot_no_titles"):
        fn, new_def, _ = MUTANTS[mutant]
        source = _replace(source, fn, new_def)
    questions = [q for q in ALL if q != "train_classifier"]
    a, b = _grade(tmp_path, "twice", source, questions), _grade(tmp_path, "twice", source, questions)
    assert _scores(a) == _scores(b)
    assert [t["output"] for t in a["tests"]] == [t["output"] for t in b["tests"]]
    assert all(score < max_score for score, max_score in _scores(a).values())


@pytest.mark.parametrize("mutant, korean, english", [
    ("load_unscaled", "16으로 나누어 [0, 1] 범위로 만드세요", "divide by 16"),
    ("compile_categorical", "원-핫(one-hot) 레이블을 받습니다", "expects one-hot labels"),
    ("train_one_epoch", "학습한 뒤 시험 데이터의 정확도가", "test accuracy is"),
])
def test_feedback_in_korean_says_the_same_in_korean(tmp_path, mutant, korean, english):
    from autograder.grading import grade_file

    fn, new_def, _ = MUTANTS[mutant]
    path = tmp_path / f"{mutant}.py"
    path.write_text(_replace(CORRECT, fn, new_def), encoding="utf-8")
    output = _output(grade_file(str(path), assignment=ASSIGNMENT, questions=[fn], lang="ko"), fn)
    assert korean in output and english not in output, output
