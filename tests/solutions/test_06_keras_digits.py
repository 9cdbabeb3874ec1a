"""Tests of solutions/06_keras_digits.py against the contract (spec: 06 keras_digits)."""
import numpy as np
import pytest

pytestmark = pytest.mark.keras

N_SEEDS = 5   # the full spread (20 seeds) is benchmarks/keras_spread.py --assignment 06_keras_digits


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def digits():
    return pytest.importorskip("sklearn.datasets").load_digits()


@pytest.fixture(scope="module")
def sol(keras, load_solution):
    pytest.importorskip("sklearn")
    return load_solution("06_keras_digits")


@pytest.fixture(scope="module")
def split(sol):
    return sol.load_digits_split()


@pytest.fixture(scope="module")
def plt():
    mpl = pytest.importorskip("matplotlib")
    mpl.use("Agg")
    import matplotlib.pyplot as pyplot

    return pyplot


def _rows(images):
    """Each image as a tuple of its 64 pixel values (0..16), to find it in the full data set."""
    return [tuple(np.rint(np.asarray(im) * 16).astype(int).ravel()) for im in images]


def test_load_digits_split_shapes_types_and_scaling(split, digits):
    X_train, X_test, y_train, y_test = split
    n = len(digits.target)
    n_test = int(np.ceil(0.25 * n))
    assert X_train.shape == (n - n_test, 8, 8) and X_test.shape == (n_test, 8, 8)
    assert y_train.shape == (n - n_test,) and y_test.shape == (n_test,)
    assert X_train.dtype == np.float32 and X_test.dtype == np.float32
    assert np.issubdtype(y_train.dtype, np.integer) and np.issubdtype(y_test.dtype, np.integer)
    for X in (X_train, X_test):
        assert X.min() == 0.0 and X.max() == 1.0
        np.testing.assert_array_equal(X * 16, np.rint(X * 16))   # pixels / 16, exactly


def test_load_digits_split_is_a_partition_of_the_data(split, digits):
    X_train, X_test, y_train, y_test = split
    full = sorted(zip(_rows(digits.images / 16), digits.target.tolist()))
    parts = sorted(list(zip(_rows(X_train), y_train.tolist())) + list(zip(_rows(X_test), y_test.tolist())))
    assert parts == full


def test_load_digits_split_is_stratified_and_follows_its_arguments(sol, split, digits):
    _, _, y_train, y_test = split
    share = np.bincount(digits.target) / len(digits.target)
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - share * len(y_test)) <= 1)
    assert np.all(np.abs(np.bincount(y_train, minlength=10) - share * len(y_train)) <= 1)
    again = sol.load_digits_split()
    for a, b in zip(split, again):
        np.testing.assert_array_equal(a, b)
    other = sol.load_digits_split(test_size=0.2, seed=3)
    assert len(other[1]) == int(np.ceil(0.2 * len(digits.target)))
    assert not np.array_equal(sol.load_digits_split(seed=3)[3], y_test)


def test_build_classifier(sol, keras):
    model = sol.build_classifier()
    assert isinstance(model, keras.Model)
    assert model.count_params() == (8 * 8 + 1) * 128 + (128 + 1) * 10 == 9610
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Flatten", "Dense", "Dense"]
    dense = model.layers[1:]
    assert [layer.units for layer in dense] == [128, 10]
    assert [layer.get_config()["activation"] for layer in dense] == ["relu", "softmax"]
    assert all(layer.use_bias for layer in dense)
    assert model.input_shape == (None, 8, 8)
    assert model.output_shape == (None, 10)
    assert model.compiled is False


def test_compile_classifier(sol, keras):
    model = sol.build_classifier()
    out = sol.compile_classifier(model)
    assert out is model
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.Adam)
    default = keras.optimizers.Adam()
    assert float(opt.learning_rate) == pytest.approx(float(default.learning_rate), rel=1e-6)
    assert (opt.beta_1, opt.beta_2, opt.epsilon, opt.amsgrad) == (default.beta_1, default.beta_2, default.epsilon,
                                                                   default.amsgrad)
    config = model.get_compile_config()
    assert config["loss"] == "sparse_categorical_crossentropy"
    assert config["metrics"] == ["accuracy"]


def test_train_classifier_returns_history_silently_with_default_batches(sol, keras, split, capsys):
    X_train, _, y_train, _ = split
    keras.utils.set_random_seed(0)
    model = sol.compile_classifier(sol.build_classifier())
    history = sol.train_classifier(model, X_train, y_train, epochs=2)
    assert isinstance(history, keras.callbacks.History)
    assert len(history.history["loss"]) == len(history.history["accuracy"]) == 2
    assert int(model.optimizer.iterations) == 2 * int(np.ceil(len(X_train) / 32))
    assert capsys.readouterr().out == ""


def test_predict_digits_returns_labels_not_probabilities(sol, keras, split):
    _, X_test, _, _ = split
    keras.utils.set_random_seed(1)
    model = sol.compile_classifier(sol.build_classifier())
    labels = sol.predict_digits(model, X_test[:25])
    assert isinstance(labels, np.ndarray)
    assert labels.shape == (25,)
    assert np.issubdtype(labels.dtype, np.integer)
    direct = np.asarray(model(X_test[:25])).argmax(axis=1)
    np.testing.assert_array_equal(labels, direct)


def test_accuracy_is_a_fraction(sol):
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 10, size=40)
    y_pred = y_true.copy()
    y_pred[:7] = (y_pred[:7] + 1) % 10
    before = (y_true.copy(), y_pred.copy())
    value = sol.accuracy(y_true, y_pred)
    assert isinstance(value, float)
    assert value == pytest.approx(33 / 40)
    assert sol.accuracy(y_true, y_true) == 1.0
    assert sol.accuracy(y_true, (y_true + 1) % 10) == 0.0
    np.testing.assert_array_equal(y_true, before[0])
    np.testing.assert_array_equal(y_pred, before[1])


@pytest.mark.parametrize("n_wrong, n", [(3, 10), (14, 10), (12, 4)])
def test_plot_mistakes_shows_the_first_n_misclassified_images(sol, plt, n_wrong, n):
    import re

    import matplotlib.figure

    rng = np.random.default_rng(n_wrong)
    X = rng.integers(0, 17, size=(30, 8, 8)) / 16
    y_true = rng.integers(0, 10, size=30)
    y_pred = y_true.copy()
    wrong = np.sort(rng.choice(30, size=n_wrong, replace=False))
    y_pred[wrong] = (y_true[wrong] + 3) % 10
    fig = sol.plot_mistakes(X, y_true, y_pred, n=n)
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        shown = [ax for ax in fig.axes if ax.images]
        assert len(shown) == min(n, n_wrong)
        for ax, i in zip(shown, wrong):
            np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), X[i])
            numbers = [int(s) for s in re.findall(r"\d+", ax.get_title())]
            assert numbers == [y_true[i], y_pred[i]]
    finally:
        plt.close(fig)


def _reference_threshold():
    """(reference accuracy, limit) from the stored reference and the spec, as the grader uses them."""
    import importlib.util
    import os

    from autograder import references
    from autograder.spec import assignment_dir
    path = os.path.join(assignment_dir("06_keras_digits"), "spec.py")
    module_spec = importlib.util.spec_from_file_location("spec06_solution_tests", path)
    spec06 = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(spec06)
    refs, _ = references.load("06_keras_digits", include_hidden=False)
    case = next(c for c in refs["train_classifier"] if c["expected"]["aspect"] == "accuracy")
    ref = case["expected"]["reference_accuracy"]
    return ref, ref - spec06.ACC_MARGIN


@pytest.mark.slow
def test_the_lecture_training_clears_the_threshold_on_every_seed(sol, keras, split, record_property):
    """5 epochs of the lecture's network on seeds 0..4: the test accuracy (Keras's own, in this
    process, on whatever backend it runs) stays above the grader's limit on every seed."""
    X_train, X_test, y_train, y_test = split
    ref, limit = _reference_threshold()
    accs = []
    for seed in range(N_SEEDS):
        keras.utils.set_random_seed(seed)
        model = sol.compile_classifier(sol.build_classifier())
        history = sol.train_classifier(model, X_train, y_train)
        assert len(history.history["loss"]) == 5
        accs.append(sol.accuracy(y_test, sol.predict_digits(model, X_test)))
    line = (f"test accuracy over seeds 0..{N_SEEDS - 1}: " + " ".join(f"{a:.4f}" for a in accs)
            + f" | reference {ref:.4f}, limit {limit:.4f}")
    print(line)
    record_property("accuracy_summary", line)
    assert min(accs) >= limit, line
