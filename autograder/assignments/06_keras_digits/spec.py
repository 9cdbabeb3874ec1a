"""Question spec, 06_keras_digits: the lecture's MNIST classifier on scikit-learn's handwritten
digits (100 points; the notebook's two written answers, 5 points each, are graded by hand and
added separately, as in every assignment).

The lecture's model ("4.4 MNIST 예제") with its input shape changed: Input((8, 8)) -> Flatten ->
Dense(128, relu) -> Dense(10, softmax), adam, sparse categorical cross-entropy, accuracy, 5 epochs,
9,610 parameters. As in 05, build_classifier's model is only described (layers, units, activations,
parameters); compile_classifier, train_classifier and predict_digits are called on the lecture's
network built by the harness (probes.py) from the numbers in NET, so that a mistake in one function
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
pass `logits` below, and the same for the wrong models:

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
import hashlib
import math
import re

import numpy as np

from autograder.compare import PASS, Custom, Same, Verdict
from autograder.i18n import Text
from autograder.spec import AssignmentSpec, Case, Question, call, probe

EPOCHS = 5                    # train_classifier's default, the lecture's
BATCH = 32                    # Keras's default batch size
SPLIT = {"test_size": 0.25, "seed": 0}
N_TRAIN, N_TEST = 1347, 450   # load_digits: 1797 images, stratified 75/25
ACC_MARGIN = 0.055            # see the module docstring for the measurement
# ...stored with the reference's accuracy case, so the reference says where its threshold comes from
MEASURED = {"file": "docs/measurements/keras_spread_06_cpu_jax.json", "device": "cpu", "backend": "jax",
            "seeds": 20, "test_accuracy_min": 0.92, "test_accuracy_mean": 0.9344, "test_accuracy_max": 0.9444,
            "tensorflow_min": 0.9244, "tensorflow_max": 0.9489, "one_epoch_max": 0.8422}
# The lecture's network and training settings as the assignment states them; the harness builds this
# network from these numbers to test compile_classifier, train_classifier and predict_digits alone.
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


def _keras(en, ko):
    """A failure in the student's language: the message's English and Korean sides."""
    return Verdict.fail("keras", message=Text(ko, en))


def _type(where, actual, expected_en, expected_ko):
    return Verdict.fail("type", where=where, actual=actual, expected=Text(expected_ko, expected_en))


def _aspect(table, case):
    """A case's aspect: the tables below map each case's name to what it checks, in one place."""
    return table[case.name]


# ---- load_digits_split --------------------------------------------------------------------------

PARTS = ("X_train", "X_test", "y_train", "y_test")
LOAD_CASES = {
    "four arrays: X_train (1347, 8, 8), X_test (450, 8, 8), y_train (1347,), y_test (450,)": "shapes",
    "labels: integers, the stratified split (random_state=seed)": "labels",
    "images: pixels divided by 16, in [0, 1]": "scaled",
    "images: float32": "float32",
}


def load_public():
    return [Case(name, call("load_digits_split")) for name in LOAD_CASES]


OTHER_SPLIT = {"test_size": 0.2, "seed": 3}
# one hidden case per aspect, so that one mistake fails one aspect's public and hidden cases only
LOAD_HIDDEN_CASES = {f"another split (test_size=0.2, seed=3): {aspect}": aspect
                     for aspect in ("shapes", "labels", "scaling", "float32")}


def load_hidden(rng):
    return [Case(name, call("load_digits_split", **OTHER_SPLIT), public=False) for name in LOAD_HIDDEN_CASES]


def _pixel_digest(images):
    """sha256 of the images as pixel values 0..16 (uint8), or None when they are not sixteenths."""
    pixels = np.asarray(images, dtype=np.float64) * 16
    rounded = np.rint(pixels)
    if not np.allclose(pixels, rounded, rtol=0, atol=1e-4) or rounded.min(initial=0) < 0 or rounded.max(initial=0) > 16:
        return None
    return hashlib.sha256(np.ascontiguousarray(rounded.astype(np.uint8)).tobytes()).hexdigest()


def load_expected(case, value, ns):
    """What the four parts must be, compactly (the references ship to students): shapes, labels as
    uint8, and a digest of each image array's pixels."""
    parts = [np.asarray(v) for v in value]
    aspect = LOAD_CASES.get(case.name) or LOAD_HIDDEN_CASES[case.name].replace("scaling", "scaled")
    return {"aspect": aspect, "shapes": [list(p.shape) for p in parts],
            "labels": [p.astype(np.uint8) for p in parts[2:]], "digests": [_pixel_digest(p) for p in parts[:2]]}


def _load_shapes(actual, expected):
    if not isinstance(actual, (tuple, list)):
        return _type("load_digits_split", type(actual).__name__, "a tuple (X_train, X_test, y_train, y_test)",
                     "튜플 (X_train, X_test, y_train, y_test)")
    if len(actual) != 4:
        return Verdict.fail("length", where="load_digits_split", actual=len(actual), expected=4)
    for name, a, shape in zip(PARTS, actual, expected["shapes"]):
        shape = tuple(shape)
        if not isinstance(a, np.ndarray):
            return _type(name, type(a).__name__, "a NumPy array", "NumPy 배열")
        if a.shape != shape:
            flat = a.ndim == 2 and len(shape) == 3 and a.size == math.prod(shape)
            return _keras(f"{name} has shape {a.shape}, expected {shape}"
                          + (" (keep the images 8x8: the model's Flatten layer flattens them)" if flat else ""),
                          f"{name}의 모양(shape)이 {a.shape}입니다. 기대: {shape}"
                          + (" (이미지는 8x8 그대로 두세요. 펼치는 일은 모델의 Flatten 층이 합니다)" if flat else ""))
    return PASS


def _load_labels(actual, expected):
    v = _load_shapes(actual, expected)
    if not v.ok:
        return v
    for name, a, e in zip(PARTS[2:], actual[2:], expected["labels"]):
        if a.dtype.kind not in "iu":
            return Verdict.fail("dtype", where=name, actual=str(a.dtype),
                                expected=Text("정수 자료형 (digits.target)", "an integer dtype (digits.target)"))
        if not np.array_equal(a, e.astype(np.int64)):
            call_text = "train_test_split(images, labels, test_size=test_size, random_state=seed, stratify=labels)"
            return _keras(f"{name} holds other labels than {call_text} gives",
                          f"{name}의 레이블이 {call_text}의 결과와 다릅니다")
    return PASS


def _load_scaled(actual, expected):
    v = _load_shapes(actual, expected)
    if not v.ok:
        return v
    for name, a, digest in zip(PARTS[:2], actual[:2], expected["digests"]):
        if a.dtype.kind not in "fiu":
            return Verdict.fail("dtype", where=name, actual=str(a.dtype), expected="float32")
        a = a.astype(np.float64)
        if not np.all(np.isfinite(a)):
            return Verdict.fail("nonfinite", where=name)
        top = float(a.max()) if a.size else 0.0
        if top > 1.0 + 1e-6:
            return _keras(f"{name}'s pixels go up to {top:g}: divide by 16 (load_digits's pixels are 0..16) so that "
                          f"they lie in [0, 1]",
                          f"{name}의 픽셀 값이 {top:g}까지 있습니다. 16으로 나누어 [0, 1] 범위로 만드세요 "
                          f"(load_digits의 픽셀은 0..16)")
        if 0 < top <= 16 / 255 + 1e-6:
            return _keras(f"{name}'s pixels go up to {top:.4f}: they were divided by 255 (MNIST's range); the digits' "
                          f"pixels go from 0 to 16, so divide by 16",
                          f"{name}의 픽셀 값이 {top:.4f}까지입니다. 255(MNIST의 범위)로 나누었습니다. 이 데이터의 픽셀은 "
                          f"0..16이므로 16으로 나누세요")
        if _pixel_digest(a) != digest:
            return _keras(f"{name} holds other images than the stratified split of load_digits().images / 16 "
                          f"(the same train_test_split call as the labels)",
                          f"{name}의 이미지가 load_digits().images / 16을 층화 분할한 결과와 다릅니다 "
                          f"(레이블과 같은 train_test_split 호출로 나누세요)")
    return PASS


def _load_float32(actual, expected):
    v = _load_shapes(actual, expected)
    if not v.ok:
        return v
    for name, a in zip(PARTS[:2], actual[:2]):
        if a.dtype != np.float32:
            return Verdict.fail("dtype", where=name, actual=str(a.dtype),
                                expected=Text("float32 (digits.images.astype(np.float32) / 16)",
                                              "float32 (digits.images.astype(np.float32) / 16)"))
    return PASS


LOAD_CHECKS = {"shapes": _load_shapes, "labels": _load_labels, "scaled": _load_scaled, "float32": _load_float32}


def load_compare(actual, expected, case):
    return LOAD_CHECKS[expected["aspect"]](actual, expected)


# ---- build_classifier ---------------------------------------------------------------------------

BUILD_CASES = {
    "layers: Flatten -> Dense(128) -> Dense(10)": "layers",
    "activations: relu in the hidden layer, softmax in the output layer": "activations",
    "parameters: 9,610, input shape (8, 8)": "parameters",
}


def build_public():
    return [Case(name, probe("build_classifier")) for name in BUILD_CASES]


def build_expected(case, value, ns):
    if value.get("params") != N_PARAMS:
        raise RuntimeError(f"the reference's model has {value.get('params')} parameters, expected {N_PARAMS}")
    return {"aspect": _aspect(BUILD_CASES, case), "model": value}


def _layers(desc):
    """(flatten_seen, [Dense layers as dicts], problem): an Activation layer after a linear Dense
    is folded into it; an InputLayer is skipped; any other layer is a problem."""
    dense, flatten, problem = [], False, None
    for i, layer in enumerate(desc.get("layers") or []):
        cls = layer.get("class")
        if cls == "InputLayer":
            continue
        if cls == "Flatten" and not dense:
            flatten = True
        elif cls == "Dense":
            dense.append(dict(layer))
        elif cls == "Activation" and dense and dense[-1].get("activation") in ("linear", None):
            dense[-1]["activation"] = layer.get("activation")
        elif problem is None:
            problem = (f"layer {i + 1} is a {cls}; the lecture's model has only Flatten and Dense layers",
                       f"{i + 1}번째 층이 {cls}입니다. 강의의 모델에는 Flatten과 Dense 층만 있습니다")
    return flatten, dense, problem


def build_compare(actual, expected, case):
    aspect, ref = expected["aspect"], expected["model"]
    if not isinstance(actual, dict) or not actual.get("is_model"):
        got = actual.get("type") if isinstance(actual, dict) else type(actual).__name__
        return _keras(f"build_classifier must return a keras.Model (it returned {got})",
                      f"build_classifier는 keras.Model을 돌려주어야 합니다 (돌려준 것: {got})")
    flatten, mine, problem = _layers(actual)
    _, theirs, _ = _layers(ref)
    want_units = [l["units"] for l in theirs]
    if aspect == "layers":
        if problem:
            return _keras(*problem)
        if not flatten:
            return _keras("the model has no Flatten layer before its Dense layers: keras.layers.Flatten() turns each "
                          "8x8 image into 64 values",
                          "Dense 층 앞에 Flatten 층이 없습니다. keras.layers.Flatten()이 8x8 이미지를 값 64개로 펼칩니다")
        units = [l["units"] for l in mine]
        if len(units) != len(want_units):
            none = len(units) == 1
            return _keras(f"the model has {len(units)} Dense layers with units {units}"
                          + (" (no hidden layer)" if none else "")
                          + f"; expected {len(want_units)}: {want_units} (a hidden layer of 128 nodes and the output "
                          f"layer of 10)",
                          f"Dense 층이 {len(units)}개(노드 수 {units})입니다" + (" (은닉층 없음)" if none else "")
                          + f". 기대: {len(want_units)}개 {want_units} (노드 128개인 은닉층과 노드 10개인 출력층)")
        for i, (u, w) in enumerate(zip(units, want_units)):
            if u != w:
                slides = u == 256
                return _keras(f"Dense layer {i + 1} has {u} units, expected {w}"
                              + (" (the slides' 256 is for MNIST; this exercise uses 128)" if slides else ""),
                              f"{i + 1}번째 Dense 층의 노드 수가 {u}입니다. 기대: {w}"
                              + (" (슬라이드의 256은 MNIST용입니다. 이 과제는 128)" if slides else ""))
        return PASS
    if aspect == "activations":
        if problem:
            return _keras(*problem)
        want = [l["activation"] for l in theirs]
        got = [l["activation"] for l in mine]
        if not got:
            return _keras("the model has no Dense layers", "모델에 Dense 층이 없습니다")
        for i, a in enumerate(got):
            w = want[-1] if i == len(got) - 1 else want[0]
            if a != w:
                output = i == len(got) - 1
                return _keras(("the output layer" if output else f"hidden layer {i + 1}")
                              + f" (Dense layer {i + 1}) uses activation {a!r}, expected {w!r}",
                              ("출력층" if output else f"{i + 1}번째 은닉층")
                              + f"({i + 1}번째 Dense 층)의 활성화 함수가 {a!r}입니다. 기대: {w!r}")
        return PASS
    # parameters
    if actual.get("input_shape") is None or actual.get("params") is None:
        return _keras("the model has no input shape yet, so it has no weights: start it with keras.Input(shape=(8, 8))",
                      "모델에 입력 모양이 아직 없어 가중치도 없습니다. keras.Input(shape=(8, 8))로 시작하세요")
    if list(actual["input_shape"]) != list(ref["input_shape"]):
        shape, want_shape = tuple(actual["input_shape"]), tuple(ref["input_shape"])
        mnist = shape == (28, 28)
        return _keras(f"the input shape is {shape}, expected {want_shape}: one 8x8 image"
                      + (" (the slides' (28, 28) is MNIST's size)" if mnist else ""),
                      f"입력 모양이 {shape}입니다. 기대: {want_shape} (8x8 이미지 한 장)"
                      + (" (슬라이드의 (28, 28)은 MNIST의 크기입니다)" if mnist else ""))
    if actual["params"] != ref["params"]:
        per_layer = [l.get("params") for l in mine]
        want_per = [l["params"] for l in theirs]
        return _keras(f"the model has {actual['params']:,} parameters, expected {ref['params']:,} "
                      f"(8*8*128 + 128 + 128*10 + 10)"
                      + (f" (per Dense layer: {per_layer}, expected {want_per})" if per_layer else ""),
                      f"파라미터가 {actual['params']:,}개입니다. 기대: {ref['params']:,}개 (8*8*128 + 128 + 128*10 + 10)"
                      + (f" (Dense 층별: {per_layer}, 기대: {want_per})" if per_layer else ""))
    for i, l in enumerate(mine):
        if l.get("use_bias") is False:
            return _keras(f"Dense layer {i + 1} has no bias (use_bias=False)",
                          f"{i + 1}번째 Dense 층에 바이어스가 없습니다 (use_bias=False)")
    return PASS


# ---- compile_classifier -------------------------------------------------------------------------

COMPILE_CASES = {
    "optimizer: adam with Keras's defaults (learning rate 0.001)": "optimizer",
    "loss: sparse categorical cross-entropy": "loss",
    "metrics: accuracy": "metrics",
    "returns the compiled model": "returns",
}
SPARSE_CE = {"sparse_categorical_crossentropy", "sparsecategoricalcrossentropy"}
ACCURACY = {"accuracy", "acc", "sparse_categorical_accuracy", "sparsecategoricalaccuracy"}
ADAM_DEFAULTS = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def compile_public():
    return [Case(name, probe("compile_classifier", net=NET, seed=0)) for name in COMPILE_CASES]


def compile_expected(case, value, ns):
    return {"aspect": _aspect(COMPILE_CASES, case), "compile": value}


def compile_compare(actual, expected, case):
    aspect, ref = expected["aspect"], expected["compile"]
    if not isinstance(actual, dict):
        return _keras("could not inspect the compiled model", "컴파일한 모델을 검사할 수 없습니다")
    if aspect == "optimizer":
        opt = actual.get("optimizer")
        if opt is None:
            return _keras("the model has no optimizer: call model.compile(optimizer='adam', ...)",
                          "모델에 최적화 함수가 없습니다. model.compile(optimizer='adam', ...)을 부르세요")
        if opt != ref["optimizer"]:
            return _keras(f"the optimizer is {opt}, expected {ref['optimizer']} (optimizer='adam')",
                          f"최적화 함수가 {opt}입니다. 기대: {ref['optimizer']} (optimizer='adam')")
        lr = actual.get("learning_rate")
        if lr is None or not math.isclose(lr, ref["learning_rate"], rel_tol=1e-6):
            got_en, got_ko = ("not readable", "읽을 수 없음") if lr is None else (f"{lr:.6g}", f"{lr:.6g}")
            return _keras(f"the learning rate is {got_en}, expected Keras's default {ref['learning_rate']:.6g}",
                          f"학습률이 {got_ko}입니다. 기대: Keras의 기본값 {ref['learning_rate']:.6g}")
        config = actual.get("optimizer_config") or {}
        for key, want in ADAM_DEFAULTS.items():
            got = config.get(key)
            if got is not None and not math.isclose(float(got), want, rel_tol=1e-6):
                return _keras(f"Adam's {key} is {got:g}, expected Keras's default {want:g}",
                              f"Adam의 {key}가 {got:g}입니다. 기대: Keras의 기본값 {want:g}")
        if config.get("amsgrad"):
            return _keras("Adam with amsgrad=True is another rule: use Keras's defaults",
                          "amsgrad=True인 Adam은 다른 규칙입니다. Keras의 기본값을 쓰세요")
        return PASS
    if aspect == "loss":
        loss = actual.get("loss")
        if loss is None:
            return _keras("the model has no loss: call model.compile(..., loss='sparse_categorical_crossentropy')",
                          "모델에 손실 함수가 없습니다. model.compile(..., loss='sparse_categorical_crossentropy')를 "
                          "부르세요")
        name = str(loss).lower()
        if name in ("categorical_crossentropy", "categoricalcrossentropy"):
            return _keras("the loss is categorical_crossentropy, which expects one-hot labels; the labels here are "
                          "integers 0..9: use 'sparse_categorical_crossentropy'",
                          "손실 함수가 categorical_crossentropy입니다. 이것은 원-핫(one-hot) 레이블을 받습니다. 이 과제의 "
                          "레이블은 정수 0..9이므로 'sparse_categorical_crossentropy'를 쓰세요")
        if name not in SPARSE_CE:
            return _keras(f"the loss is {loss!r}, expected 'sparse_categorical_crossentropy'",
                          f"손실 함수가 {loss!r}입니다. 기대: 'sparse_categorical_crossentropy'")
        if (actual.get("loss_config") or {}).get("from_logits"):
            return _keras("the loss has from_logits=True, but the model's output is already a softmax",
                          "손실 함수에 from_logits=True가 있지만, 모델의 출력은 이미 소프트맥스 확률입니다")
        return PASS
    if aspect == "metrics":
        names = actual.get("metric_names")
        if names is None:
            names = actual.get("metrics")
        names = [str(n).lower() for n in (names or [])]
        if not names:
            return _keras("the model has no metrics: pass metrics=['accuracy'] to model.compile",
                          "측정 지표가 없습니다. model.compile에 metrics=['accuracy']를 주세요")
        if not any(n in ACCURACY for n in names):
            return _keras(f"the metrics are {names}, expected ['accuracy']",
                          f"측정 지표가 {names}입니다. 기대: ['accuracy']")
        return PASS
    if not actual.get("returned_model"):
        return _keras("compile_classifier must return the model it compiled (return model)",
                      "compile_classifier는 컴파일한 그 모델을 돌려주어야 합니다 (return model)")
    return PASS


# ---- train_classifier ---------------------------------------------------------------------------
# One training with the default epochs, shared by four cases (the probe keeps its outcome for the
# same train_classifier), and one short training that checks the epochs argument.

TRAIN_CASES = {
    "history: one loss per epoch (default epochs=5)": ("history", None),
    "optimizer steps: default batch size (32)": ("steps", None),
    "no console output (verbose=0)": ("quiet", None),
    "test accuracy of the trained model": ("accuracy", None),
    "the epochs argument is used (epochs=2)": ("epochs_arg", 2),
}


def train_public():
    out = []
    for name, (_, epochs) in TRAIN_CASES.items():
        params = {"net": NET, "seed": 0, "split": SPLIT}
        if epochs is not None:
            params["epochs"] = epochs
        out.append(Case(name, probe("train_classifier", **params)))
    return out


def _test_set():
    """The test images as raw pixels (0..16, uint8) and their labels, as load_digits_split gives them."""
    from sklearn.datasets import load_digits  # noqa: PLC0415 - reference builds only
    from sklearn.model_selection import train_test_split  # noqa: PLC0415
    digits = load_digits()
    _, X_test, _, y_test = train_test_split(digits.images, digits.target, test_size=SPLIT["test_size"],
                                            random_state=SPLIT["seed"], stratify=digits.target)
    return X_test.astype(np.uint8), y_test.astype(np.int64)


def train_expected(case, value, ns):
    aspect, epochs = TRAIN_CASES[case.name]
    epochs = EPOCHS if epochs is None else epochs
    steps = math.ceil(N_TRAIN / BATCH)
    out = {"aspect": aspect, "epochs": epochs, "iterations": epochs * steps, "steps_per_epoch": steps}
    if value.get("iterations") != out["iterations"] or len(value.get("losses")) != epochs:
        raise RuntimeError(f"the reference trained {value.get('iterations')} steps, expected {out['iterations']}")
    if aspect == "accuracy":
        pixels, labels = _test_set()
        acc = float(np.mean(np.argmax(logits(value["weights"], pixels / 16), axis=1) == labels))
        out.update(test_pixels=pixels, test_labels=labels, reference_accuracy=acc, margin=ACC_MARGIN,
                   measured=MEASURED)
    return out


def train_compare(actual, expected, case):
    aspect = expected["aspect"]
    if not isinstance(actual, dict):
        return _keras("could not inspect the training", "학습 결과를 검사할 수 없습니다")
    losses = actual.get("losses")
    if aspect in ("history", "epochs_arg"):
        if losses is None:
            return _keras(f"train_classifier must return the History object of model.fit (it returned "
                          f"{actual.get('history_type')})",
                          f"train_classifier는 model.fit이 돌려준 History 객체를 돌려주어야 합니다 "
                          f"(돌려준 것: {actual.get('history_type')})")
        if len(losses) != expected["epochs"]:
            arg = aspect == "epochs_arg"
            return _keras(f"the history has {len(losses)} epochs, expected {expected['epochs']}"
                          + (" (use the epochs argument)" if arg else ""),
                          f"History에 에폭이 {len(losses)}개 기록되어 있습니다. 기대: {expected['epochs']}개"
                          + (" (epochs 인자를 쓰세요)" if arg else ""))
        if aspect == "history" or actual.get("iterations") == expected["iterations"]:
            return PASS
        return _keras(f"with epochs={expected['epochs']} the model took {actual.get('iterations')} optimizer steps, "
                      f"expected {expected['iterations']}",
                      f"epochs={expected['epochs']}로 학습했을 때 가중치 갱신이 {actual.get('iterations')}번입니다. "
                      f"기대: {expected['iterations']}번")
    if aspect == "steps":
        it, per_epoch = actual.get("iterations"), expected["steps_per_epoch"]
        epochs = len(losses) if losses is not None and len(losses) else expected["epochs"]
        if not isinstance(it, int) or it != epochs * per_epoch:
            known = isinstance(it, int)
            return _keras(f"the model took {it} optimizer steps"
                          + (f" in {epochs} epochs ({it / epochs:g} per epoch)" if known else "")
                          + f", expected {per_epoch} per epoch ({N_TRAIN} images in batches of {BATCH}, Keras's "
                          f"default): do not pass batch_size",
                          f"가중치 갱신이 {it}번" + (f" (에폭 {epochs}개, 에폭마다 {it / epochs:g}번)" if known else "")
                          + f"입니다. 기대: 에폭마다 {per_epoch}번 (이미지 {N_TRAIN}장, 배치 크기 {BATCH}는 Keras의 "
                          f"기본값): batch_size를 넘기지 마세요")
        return PASS
    if aspect == "quiet":
        n = actual.get("stdout_bytes")
        return Verdict.fail("output_printed", n=n) if n else PASS
    # test accuracy, from the returned weights
    weights = actual.get("weights")
    if not isinstance(weights, list) or [np.shape(w) for w in weights] != SHAPES:
        return _keras("could not read the trained weights", "학습한 가중치를 읽을 수 없습니다")
    scores = logits(weights, expected["test_pixels"] / 16)
    if not np.all(np.isfinite(scores)):
        return Verdict.fail("nonfinite", where=Text("학습한 신경망의 출력", "the trained network's outputs"))
    acc = float(np.mean(np.argmax(scores, axis=1) == expected["test_labels"]))
    ref = expected["reference_accuracy"]
    limit = ref - ACC_MARGIN
    if not acc >= limit - 1e-12:
        return Verdict.fail("threshold", message=Text(
            f"학습한 뒤 시험 데이터의 정확도가 {acc:.4f}입니다. {limit:.4f} 이상이어야 합니다 (정답 풀이의 {ref:.4f} - "
            f"{ACC_MARGIN:g}; 이 여유를 잰 방법은 docs/tolerances.md)",
            f"after training, the network's test accuracy is {acc:.4f}; it must be at least {limit:.4f} "
            f"(the reference's {ref:.4f} - {ACC_MARGIN:g}; see docs/tolerances.md for how this margin was measured)"))
    return PASS


# ---- predict_digits -----------------------------------------------------------------------------

def _predict_case(rng, n, name, public):
    return Case(name, probe("predict_digits", weights=random_weights(rng), images=random_images(rng, n), net=NET),
                public=public)


def predict_public():
    return [_predict_case(np.random.default_rng(606), 12, "fixed weights (seed 606), 12 images", True)]


def predict_hidden(rng):
    return [_predict_case(rng, 40, "random weights, 40 images", False)]


def predict_expected(case, value, ns):
    params = case.call["params"]
    scores = logits(params["weights"], params["images"])
    top2 = np.sort(scores, axis=1)[:, -2:]
    if np.min(top2[:, 1] - top2[:, 0]) < 1e-3:   # float32 against float64 must not be able to swap a label
        raise RuntimeError(f"{case.name}: two classes nearly tie; draw other weights")
    labels = np.argmax(scores, axis=1)
    if not np.array_equal(np.asarray(value["value"]).reshape(-1), labels):
        raise RuntimeError("the reference's predict_digits disagrees with the NumPy forward pass")
    return {"labels": labels}


def predict_compare(actual, expected, case):
    public = bool(case.get("public"))
    want = expected["labels"]
    if not isinstance(actual, dict):
        return _keras("could not inspect predict_digits's result", "predict_digits의 결과를 검사할 수 없습니다")
    shape = tuple(actual.get("shape") or ())
    if actual.get("type") != "ndarray":
        return _type("predict_digits", actual.get("type"), "a NumPy array of labels (np.argmax(..., axis=1))",
                     "레이블의 NumPy 배열 (np.argmax(..., axis=1))")
    if shape == (len(want), 10):
        return _keras(f"predict_digits returned the probabilities, shape {shape}; return the labels, shape "
                      f"({len(want)},): the most probable class of each image, np.argmax(probabilities, axis=1)",
                      f"predict_digits가 확률을 돌려주었습니다 (모양 {shape}). 레이블을 돌려주세요: 모양 ({len(want)},), "
                      f"이미지마다 확률이 가장 큰 클래스, np.argmax(probabilities, axis=1)")
    value = actual.get("value")
    if value is None:
        return _type("predict_digits", f"dtype {actual.get('dtype')}", "an integer array", "정수 배열")
    return Same().compare(value, want, "labels", public)


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


def accuracy_expected(case, value, ns):
    y_true, y_pred = (a["value"] for a in case.call["args"])
    fraction = float(np.mean(y_true == y_pred))
    if not math.isclose(value, fraction, rel_tol=1e-12, abs_tol=1e-15):
        raise RuntimeError("the reference's accuracy disagrees with NumPy")
    return {"fraction": fraction, "equal": int(np.sum(y_true == y_pred)), "n": int(len(y_true))}


def accuracy_compare(actual, expected, case):
    public = bool(case.get("public"))
    fraction, equal = expected["fraction"], expected["equal"]
    value = actual.item() if isinstance(actual, np.ndarray) and actual.size == 1 else actual
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_)):
        if fraction < 1 and math.isclose(float(value), 100 * fraction, rel_tol=1e-9) and fraction > 0:
            return _keras(f"accuracy returned {float(value):g}, a percentage; return the fraction between 0 and 1 "
                          f"({fraction:g})",
                          f"accuracy가 백분율 {float(value):g}을 돌려주었습니다. 0과 1 사이의 비율({fraction:g})을 "
                          f"돌려주세요")
        if equal > 1 and float(value) == equal and equal != fraction:
            return _keras(f"accuracy returned {value}, the number of equal labels; return the fraction: divide by "
                          f"the number of labels ({expected['n']})",
                          f"accuracy가 맞힌 개수 {value}를 돌려주었습니다. 레이블 수({expected['n']})로 나눈 비율을 "
                          f"돌려주세요")
    return Same(rtol=1e-9, atol=1e-12).compare(actual, fraction, "accuracy", public)


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


def plot_expected(case, value, ns):
    args = [a["value"] for a in case.call["args"]]
    X, y_true, y_pred = args[:3]
    n = args[3] if len(args) > 3 else 10
    wrong = np.nonzero(np.asarray(y_true) - np.asarray(y_pred))[0][:n]   # the misclassified, in order
    return {"images": X[wrong].reshape(len(wrong), -1), "true": y_true[wrong], "pred": y_pred[wrong],
            "index": wrong}


def plot_compare(actual, expected, case):
    if not isinstance(actual, dict) or not actual.get("is_figure"):
        got = actual.get("type") if isinstance(actual, dict) else type(actual).__name__
        axes = got in ("Axes", "AxesSubplot", "ndarray")
        return _type("plot_mistakes", Text(f"{got}" + (" (ax가 아니라 fig를 돌려주세요)" if axes else ""),
                                           f"{got}" + (" (return fig, not ax)" if axes else "")),
                     "a matplotlib Figure", "matplotlib Figure")
    shown = [ax for ax in actual.get("axes") or [] if ax.get("images")]
    want = len(expected["index"])
    if len(shown) != want:
        return _keras(f"the figure shows {len(shown)} images, expected {want}: the first {want} misclassified "
                      f"images (y_true != y_pred), one per subplot",
                      f"그림에 이미지가 {len(shown)}장 있습니다. 기대: 틀린 이미지(y_true != y_pred) 앞에서부터 {want}장, "
                      f"칸마다 한 장")
    for k, (ax, pixels, t, p, i) in enumerate(zip(shown, expected["images"], expected["true"], expected["pred"],
                                                   expected["index"])):
        image = np.asarray(ax["images"][0])
        if image.size != pixels.size or not np.allclose(image.reshape(-1), pixels, atol=1e-6):
            return _keras(f"image {k + 1} is not X[{int(i)}], misclassified image number {k + 1} "
                          f"(show the images where y_true != y_pred, in order)",
                          f"{k + 1}번째 이미지가 {k + 1}번째로 틀린 이미지 X[{int(i)}]가 아닙니다 "
                          f"(y_true != y_pred인 이미지를 순서대로 그리세요)")
        numbers = [int(s) for s in re.findall(r"\d+", ax.get("title") or "")]
        if int(t) not in numbers or int(p) not in numbers:
            return _keras(f"the title of image {k + 1} is {ax.get('title')!r}; it must show the true label {int(t)} "
                          f"and the predicted label {int(p)}",
                          f"{k + 1}번째 이미지의 제목이 {ax.get('title')!r}입니다. 정답 {int(t)}과 예측 {int(p)}을 "
                          f"숫자로 적으세요")
    return PASS


SPEC = AssignmentSpec(
    name="06_keras_digits",
    questions=[
        Question("load_digits_split", 10, ["load_digits_split"], Custom(load_compare), load_public, load_hidden,
                 timeout=30, expected=load_expected,
                 hint=("digits = load_digits(); 이미지는 digits.images.astype(np.float32) / 16, 레이블은 digits.target; "
                       "train_test_split(..., test_size=test_size, random_state=seed, stratify=레이블)",
                       "digits = load_digits(); images digits.images.astype(np.float32) / 16, labels digits.target; "
                       "train_test_split(..., test_size=test_size, random_state=seed, stratify=labels)")),
        Question("build_classifier", 20, ["build_classifier"], Custom(build_compare), build_public, None, timeout=60,
                 expected=build_expected, needs_keras=True,
                 hint=("강의의 모델에서 입력 모양만 바꿉니다: Input((8, 8)) → Flatten → Dense(128, relu) → Dense(10, softmax).",
                       "the lecture's model with the input shape changed: Input((8, 8)) -> Flatten -> Dense(128, relu) "
                       "-> Dense(10, softmax)")),
        Question("compile_classifier", 15, ["compile_classifier"], Custom(compile_compare), compile_public, None,
                 timeout=60, expected=compile_expected, needs_keras=True,
                 hint=("model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy']) "
                       "후 model을 돌려줍니다.",
                       "model.compile(optimizer='adam', loss='sparse_categorical_crossentropy', metrics=['accuracy']), "
                       "then return model")),
        Question("train_classifier", 25, ["train_classifier"], Custom(train_compare), train_public, None, timeout=240,
                 expected=train_expected, needs_keras=True,
                 hint=("model.fit(X, y, epochs=epochs, verbose=0): batch_size는 넘기지 않고 History를 돌려줍니다.",
                       "model.fit(X, y, epochs=epochs, verbose=0): no batch_size, return the History")),
        Question("predict_digits", 10, ["predict_digits"], Custom(predict_compare), predict_public, predict_hidden,
                 timeout=60, expected=predict_expected, needs_keras=True,
                 hint=("model.predict(X, verbose=0)은 (n, 10) 확률입니다. 가장 큰 확률의 번호 np.argmax(..., axis=1)를 돌려줍니다.",
                       "model.predict(X, verbose=0) gives (n, 10) probabilities; return np.argmax(..., axis=1)")),
        Question("accuracy", 5, ["accuracy"], Custom(accuracy_compare), accuracy_public, accuracy_hidden, timeout=30,
                 expected=accuracy_expected,
                 hint=("같은 레이블의 비율: np.mean(y_true == y_pred)를 float으로.",
                       "the fraction of equal labels: float(np.mean(y_true == y_pred))")),
        Question("plot_mistakes", 15, ["plot_mistakes"], Custom(plot_compare), plot_public, plot_hidden, timeout=60,
                 expected=plot_expected,
                 hint=("np.flatnonzero로 y_true와 y_pred가 다른 번호를 찾아 앞에서부터 n개; 칸마다 ax.imshow(X[i])와 "
                       "ax.set_title(f'true {y_true[i]} / pred {y_pred[i]}'); return fig",
                       "the first n indices where y_true and y_pred differ (np.flatnonzero); in each subplot ax.imshow(X[i]) and "
                       "ax.set_title(f'true {y_true[i]} / pred {y_pred[i]}'); return fig")),
    ],
    preload=["numpy", "matplotlib.pyplot", "tensorflow", "keras", "sklearn.datasets", "sklearn.model_selection"],
    # Keras on JAX, single-threaded (sandbox.JAX_CPU_ENV), as 05: the reference is built the same way.
    env={"KERAS_BACKEND": "jax"},
    warmup=[probe("warmup", net=NET, split=SPLIT, predict_rows=[12, 40])],
    limits={"memory_mb": 4096, "cell_seconds": 120.0, "call_seconds": 60.0, "question_seconds": 900.0, "cpu_seconds": 900},
    hidden_seed=6060,
)
