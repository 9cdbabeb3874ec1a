"""06_keras_digits's checks of the model: build_classifier's model as the probe describes it
(layers, units, activations, parameters) and compile_classifier's compiled model (optimizer, loss,
metrics), each case of one aspect."""
import math

from autograder.compare import PASS
from autograder.spec import sibling

network = sibling(__file__, "network")
_keras = sibling(__file__, "checks")._keras


# ---- build_classifier ---------------------------------------------------------------------------

def build_expected(case, value, ns):
    if value.get("params") != network.N_PARAMS:
        raise RuntimeError(f"the reference's model has {value.get('params')} parameters, expected {network.N_PARAMS}")
    return {"aspect": case.aspect, "model": value}


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
    aspect, ref = case["aspect"], expected["model"]
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

SPARSE_CE = {"sparse_categorical_crossentropy", "sparsecategoricalcrossentropy"}


ACCURACY = {"accuracy", "acc", "sparse_categorical_accuracy", "sparsecategoricalaccuracy"}


ADAM_DEFAULTS = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}


def compile_expected(case, value, ns):
    return {"aspect": case.aspect, "compile": value}


def compile_compare(actual, expected, case):
    aspect, ref = case["aspect"], expected["compile"]
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
