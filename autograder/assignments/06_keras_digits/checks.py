"""06_keras_digits's comparisons and `expected` hooks but the model's (model_checks.py): every number
is computed here, in the grading process (spec.py's docstring says how the threshold was measured)."""
import hashlib
import math
import re

import numpy as np

from autograder.compare import PASS, Same, Verdict
from autograder.i18n import Text
from autograder.spec import sibling

network = sibling(__file__, "network")
EPOCHS, BATCH, SPLIT, N_TRAIN = network.EPOCHS, network.BATCH, network.SPLIT, network.N_TRAIN
SHAPES, logits = network.SHAPES, network.logits

ACC_MARGIN = 0.055            # see spec.py's docstring for the measurement
# ...stored with the reference's accuracy case, so the reference says where its threshold comes from
MEASURED = {"file": "docs/measurements/keras_spread_06_cpu_jax.json", "device": "cpu", "backend": "jax",
            "seeds": 20, "test_accuracy_min": 0.92, "test_accuracy_mean": 0.9344, "test_accuracy_max": 0.9444,
            "tensorflow_min": 0.9244, "tensorflow_max": 0.9489, "one_epoch_max": 0.8422}


def _keras(en, ko):
    """A failure in the student's language: the message's English and Korean sides."""
    return Verdict.fail("keras", message=Text(ko, en))


def _type(where, actual, expected_en, expected_ko):
    return Verdict.fail("type", where=where, actual=actual, expected=Text(expected_ko, expected_en))


# ---- load_digits_split --------------------------------------------------------------------------

PARTS = ("X_train", "X_test", "y_train", "y_test")


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
    return {"aspect": case.aspect, "shapes": [list(p.shape) for p in parts],
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
    return LOAD_CHECKS[case["aspect"]](actual, expected)


# ---- train_classifier ---------------------------------------------------------------------------

def _test_set():
    """The test images as raw pixels (0..16, uint8) and their labels, as load_digits_split gives them."""
    from sklearn.datasets import load_digits  # noqa: PLC0415 - reference builds only
    from sklearn.model_selection import train_test_split  # noqa: PLC0415
    digits = load_digits()
    _, X_test, _, y_test = train_test_split(digits.images, digits.target, test_size=SPLIT["test_size"],
                                            random_state=SPLIT["seed"], stratify=digits.target)
    return X_test.astype(np.uint8), y_test.astype(np.int64)


def train_expected(case, value, ns):
    aspect, epochs = case.aspect, case.call["params"].get("epochs", EPOCHS)
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
    aspect = case["aspect"]
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
