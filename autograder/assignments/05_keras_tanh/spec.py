"""Question spec, 05_keras_tanh: the lecture's Keras exercise on dataset2.csv (100 points).

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
leave little room, so memory_mb is 4096. Importing TensorFlow, JAX and Keras takes about 4.5 s of
CPU, once per warm sandbox; TensorFlow is preloaded only because keras.utils.set_random_seed
(the notebook's setup cell, and the probes) imports it when it is installed.
"""
import math

import numpy as np

from autograder.compare import PASS, Custom, Same, Verdict
from autograder.i18n import Text, msg
from autograder.spec import AssignmentSpec, Case, File, Question, call, probe

DATA = "dataset2.csv"
N_ROWS = 1000                 # rows of dataset2.csv
EPOCHS = 100                  # train_model's default
BATCH = 32                    # Keras's default batch size
FIT_MSE_FACTOR = 2.5          # see the module docstring for the measurement
CURVE = np.linspace(0, 1, 100).reshape(-1, 1)
SHAPES = [(1, 6), (6,), (6, 4), (4,), (4, 1), (1,)]   # get_weights() of the figure's network
# The figure's network and its training settings, as the assignment states them; the harness
# builds this network from these numbers to test compile_model, train_model and predict_curve
# on their own (probes.py holds no model code of its own).
NET = {"inputs": 1, "units": [6, 4, 1], "activation": "tanh", "optimizer": "SGD", "learning_rate": 0.1,
       "loss": "mse", "steps_per_execution": 32}  # 32 steps per call: same numbers, 1.5x faster


def forward(weights, X):
    """The figure's network in NumPy (float64): tanh after every Dense layer."""
    h = np.asarray(X, dtype=np.float64).reshape(-1, 1)
    for W, b in zip(weights[0::2], weights[1::2]):
        h = np.tanh(h @ np.asarray(W, dtype=np.float64) + np.asarray(b, dtype=np.float64))
    return h.reshape(-1)


def random_weights(rng, scale=1.5):
    """Weights for the figure's network, exactly representable in float32 (Keras's dtype)."""
    return [(rng.normal(size=s) * (scale if len(s) == 2 else 0.5)).astype(np.float32).astype(np.float64)
            for s in SHAPES]


def _csv_text(rng, n):
    x = rng.uniform(0.0, 1.0, n)
    y = np.clip(0.7 * np.sin(2 * np.pi * x) + rng.normal(0.0, 0.1, n), -0.99, 0.99)
    return "x,y\n" + "".join(f"{a:.6f},{b:.6f}\n" for a, b in zip(x, y))


def _msg(key, **params):
    return Verdict.fail(key, **params)


def _keras(key, **params):
    """A Keras question's failure: an i18n key (autograder/i18n.py, "keras_*") and its parameters."""
    return Verdict.fail(key, **params)


# ---- load_data --------------------------------------------------------------------------------

def load_public():
    return [Case("dataset2.csv (1000 rows)", call("load_data", DATA))]


def load_hidden(rng):
    return [Case(f"another CSV file ({n} rows)", call("load_data", File("hidden.csv", _csv_text(rng, n))), public=False)
            for n in (7, 3)]


def load_compare(actual, expected, case):
    public = bool(case.get("public"))
    if not isinstance(actual, (tuple, list)):
        return _msg("type", where="load_data", actual=type(actual).__name__, expected=msg("expected_tuple_xy"))
    if len(actual) != 2:
        return _msg("length", where="load_data", actual=len(actual), expected=2)
    same = Same(rtol=1e-12, atol=1e-12)
    for name, a, e in (("X", actual[0], expected[0]), ("y", actual[1], expected[1])):
        if isinstance(a, np.ndarray) and a.shape == e.shape and a.dtype.kind == "f" and a.dtype != np.float64:
            return _msg("dtype", where=name, actual=str(a.dtype), expected="float64")  # not "wrong value"
        v = same.compare(a, e, name, public)
        if not v.ok:
            return v
    return PASS


# ---- build_model ------------------------------------------------------------------------------

BUILD_ASPECTS = ("layers", "activations", "parameters")


def build_public():
    return [Case("layers: Dense(6) -> Dense(4) -> Dense(1)", probe("build_model")),
            Case("activations: tanh in every layer", probe("build_model")),
            Case("parameters: 45, input shape (1,)", probe("build_model"))]


def build_expected(case, value, ns):
    aspect = BUILD_ASPECTS[[c.name for c in build_public()].index(case.name)]
    return {"aspect": aspect, "model": value}


def _dense_layers(desc):
    """[(units, activation, use_bias, params)] of the Dense layers, with a following Activation
    layer folded into a linear Dense; or a message for a layer that is neither."""
    out = []
    for i, layer in enumerate(desc.get("layers") or []):
        cls = layer.get("class")
        if cls == "InputLayer":
            continue
        if cls == "Dense":
            out.append(dict(layer))
        elif cls == "Activation" and out and out[-1].get("activation") in ("linear", None):
            out[-1]["activation"] = layer.get("activation")
        else:
            return None, msg("keras_not_dense", n=i + 1, cls=cls)
    return out, None


def build_compare(actual, expected, case):
    aspect, ref = expected["aspect"], expected["model"]
    if not isinstance(actual, dict) or not actual.get("is_model"):
        got = actual.get("type") if isinstance(actual, dict) else type(actual).__name__
        return _keras("keras_not_a_model", got=got)
    mine, problem = _dense_layers(actual)
    theirs, _ = _dense_layers(ref)
    want_units = [l["units"] for l in theirs]
    if aspect == "layers":
        if problem:
            return _keras("keras", message=problem)
        units = [l["units"] for l in mine]
        if len(units) != len(want_units):
            return _keras("keras_layer_count", n=len(units), units=units, want_n=len(want_units), want=want_units)
        for i, (u, w) in enumerate(zip(units, want_units)):
            if u != w:
                return _keras("keras_units", n=i + 1, units=u, want=w)
        return PASS
    if aspect == "activations":
        if problem:
            return _keras("keras", message=problem)
        want = [l["activation"] for l in theirs]
        got = [l["activation"] for l in mine]
        if not got:
            return _keras("keras_no_dense")
        for i, a in enumerate(got):
            w = want[i] if len(got) == len(want) else want[-1 if i == len(got) - 1 else 0]
            if a != w:
                where = msg("keras_output_layer") if i == len(got) - 1 else msg("keras_hidden_layer", n=i + 1)
                return _keras("keras_activation", where=where, n=i + 1, actual=repr(a), expected=repr(w))
        return PASS
    # parameters
    if actual.get("input_shape") is None or actual.get("params") is None:
        return _keras("keras_no_input")
    if list(actual["input_shape"]) != list(ref["input_shape"]):
        return _keras("keras_input_shape", actual=tuple(actual['input_shape']), expected=tuple(ref['input_shape']))
    if actual["params"] != ref["params"]:
        per_layer = [l.get("params") for l in (mine or [])]
        detail = msg("keras_params_detail", per_layer=per_layer, want=[l['params'] for l in theirs]) if per_layer else ""
        return _keras("keras_params", actual=actual['params'], expected=ref['params'], detail=detail)
    for i, l in enumerate(mine or []):
        if l.get("use_bias") is False:
            return _keras("keras_no_bias", n=i + 1)
    return PASS


# ---- compile_model ----------------------------------------------------------------------------

COMPILE_ASPECTS = ("optimizer", "loss", "returns")
MSE_NAMES = {"mse", "mean_squared_error", "meansquarederror"}


def compile_public():
    return [Case("optimizer: SGD(learning_rate=0.1)", probe("compile_model", seed=0, net=NET)),
            Case("loss: mean squared error", probe("compile_model", seed=0, net=NET)),
            Case("returns the compiled model", probe("compile_model", seed=0, net=NET))]


def compile_expected(case, value, ns):
    aspect = COMPILE_ASPECTS[[c.name for c in compile_public()].index(case.name)]
    return {"aspect": aspect, "compile": value}


def compile_compare(actual, expected, case):
    aspect, ref = expected["aspect"], expected["compile"]
    if not isinstance(actual, dict):
        return _keras("keras_compile_uninspectable")
    if aspect == "optimizer":
        opt = actual.get("optimizer")
        if opt is None:
            return _keras("keras_no_optimizer")
        if opt != ref["optimizer"]:
            return _keras("keras_optimizer", actual=opt, expected=ref['optimizer'])
        lr = actual.get("learning_rate")
        if lr is None or not math.isclose(lr, ref["learning_rate"], rel_tol=1e-6):
            got = msg("keras_unreadable") if lr is None else f"{lr:.6g}"
            return _keras("keras_learning_rate", actual=got, expected=f"{ref['learning_rate']:.6g}")
        if (actual.get("momentum") or 0.0) != 0.0 or actual.get("nesterov"):
            return _keras("keras_momentum", momentum=actual.get('momentum'), nesterov=actual.get('nesterov'))
        return PASS
    if aspect == "loss":
        loss = actual.get("loss")
        if loss is None:
            return _keras("keras_no_loss")
        if str(loss).lower() not in MSE_NAMES:
            return _keras("keras_loss", actual=repr(loss))
        return PASS
    if not actual.get("returned_model"):
        return _keras("keras_return_model")
    return PASS


# ---- train_model ------------------------------------------------------------------------------
# One training with the default epochs, shared by four cases (the probe keeps its result for the
# same train_model function), and one short training that checks the epochs argument.

TRAIN_CASES = {
    "history: one loss per epoch (default epochs=100)": ("history", None),
    "optimizer steps: default batch size (32)": ("steps", None),
    "no console output (verbose=0)": ("quiet", None),
    "fit: the trained network follows the data": ("fit", None),
    "the epochs argument is used (epochs=2)": ("epochs_arg", 2),
}


def train_public():
    out = []
    for name, (aspect, epochs) in TRAIN_CASES.items():
        params = {"data_path": DATA, "seed": 0, "net": NET}
        if epochs is not None:
            params["epochs"] = epochs
        out.append(Case(name, probe("train_model_captured", **params)))
    return out


def _data():
    import os  # noqa: PLC0415
    from autograder.spec import repo_root  # noqa: PLC0415
    raw = np.loadtxt(os.path.join(repo_root(), "data", DATA), delimiter=",", skiprows=1)
    return raw[:, 0], raw[:, 1]


def train_expected(case, value, ns):
    aspect, epochs = TRAIN_CASES[case.name]
    epochs = EPOCHS if epochs is None else epochs
    x, y = _data()
    out = {"aspect": aspect, "epochs": epochs, "iterations": epochs * math.ceil(len(x) / BATCH)}
    if value.get("iterations") != out["iterations"] or len(value.get("losses")) != epochs:
        raise RuntimeError(f"the reference trained {value.get('iterations')} steps, expected {out['iterations']}")
    if aspect == "fit":
        mse = float(np.mean((forward(value["weights"], x) - y) ** 2))
        out.update(x=x, y=y, reference_mse=mse, reference_r2=1.0 - mse / float(np.var(y)),
                   reference_curve=forward(value["weights"], CURVE))
    return out


def train_compare(actual, expected, case):
    aspect = expected["aspect"]
    if not isinstance(actual, dict):
        return _keras("keras_train_uninspectable")
    losses = actual.get("losses")
    if aspect in ("history", "epochs_arg"):
        if losses is None:
            return _keras("keras_no_history", got=actual.get('history_type'))
        if len(losses) != expected["epochs"]:
            return _keras("keras_history_epochs", actual=len(losses), expected=expected['epochs'],
                          detail=msg("keras_use_epochs") if aspect == "epochs_arg" else "")
        if aspect == "history" or actual.get("iterations") == expected["iterations"]:
            return PASS
        return _keras("keras_steps_with_epochs", epochs=expected['epochs'], actual=actual.get('iterations'),
                      expected=expected['iterations'])
    if aspect == "steps":
        # steps per epoch, so that a wrong number of epochs costs only the history case
        it, per_epoch = actual.get("iterations"), expected["iterations"] // expected["epochs"]
        epochs = len(losses) if losses is not None and len(losses) else expected["epochs"]
        if not isinstance(it, int) or it != epochs * per_epoch:
            per = msg("keras_steps_per", epochs=epochs, each=it / epochs) if isinstance(it, int) else ""
            return _keras("keras_steps", actual=it, per=per, per_epoch=per_epoch, n=N_ROWS, batch=BATCH)
        return PASS
    if aspect == "quiet":
        n = actual.get("stdout_bytes")
        if n:
            return Verdict.fail("output_printed", n=n)
        return PASS
    # fit, from the returned weights
    weights = actual.get("weights")
    if not isinstance(weights, list) or [np.shape(w) for w in weights] != SHAPES:
        return _keras("keras_weights_unreadable")
    pred = forward(weights, expected["x"])
    if not np.all(np.isfinite(pred)):
        return Verdict.fail("nonfinite", where=msg("keras_predictions"))
    mse = float(np.mean((pred - expected["y"]) ** 2))
    limit = FIT_MSE_FACTOR * expected["reference_mse"]
    # the fitted curve beside the reference's, drawn over the data in the student's feedback
    figure = {"figure": "fit", "data": DATA, "domain": CURVE.ravel().round(6).tolist(),
              "student": np.round(forward(weights, CURVE), 6).tolist(),
              "reference": np.round(np.asarray(expected.get("reference_curve", [])), 6).tolist()}
    if not mse <= limit:
        r2 = 1.0 - mse / float(np.var(expected["y"]))
        verdict = Verdict.fail("keras_fit", mse=mse, r2=r2, limit=limit, factor=FIT_MSE_FACTOR,
                               reference=expected['reference_mse'])
    else:
        verdict = Verdict(True)
    verdict.extra = figure
    return verdict


# ---- predict_curve ----------------------------------------------------------------------------

def predict_public():
    rng = np.random.default_rng(505)
    return [Case("fixed weights (seed 505)", probe("predict_curve", weights=random_weights(rng), seed=0, net=NET))]


def predict_hidden(rng):
    return [Case("random weights", probe("predict_curve", weights=random_weights(rng), seed=0, net=NET), public=False)]


def predict_expected(case, value, ns):
    y_hat = forward(case.call["params"]["weights"], CURVE)
    if not np.allclose(value["y_hat"], y_hat, rtol=1e-5, atol=1e-5):   # the solution agrees with NumPy
        raise RuntimeError("the reference's predict_curve disagrees with the NumPy forward pass")
    return {"domain": CURVE.copy(), "y_hat": y_hat}


def predict_compare(actual, expected, case):
    public = bool(case.get("public"))
    if not isinstance(actual, dict):
        return _keras("keras_predict_uninspectable")
    for name in ("domain", "y_hat"):
        if actual.get(f"{name}_type") != "ndarray":
            return _msg("type", where=name, actual=actual.get(f"{name}_type"), expected=msg("expected_numpy"))
    v = Same(rtol=0.0, atol=1e-6).compare(actual["domain"], expected["domain"], "domain", public)
    if not v.ok:
        return v
    # float32 network against the float64 NumPy forward pass
    return Same(rtol=1e-5, atol=1e-5).compare(actual["y_hat"], expected["y_hat"], "y_hat", public)


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


def plot_expected(case, value, ns):
    X, y, domain, y_hat = (a["value"] for a in case.call["args"])
    return {"points": np.column_stack([np.ravel(X), np.ravel(y)]), "curve_x": np.ravel(domain),
            "curve_y": np.ravel(y_hat)}


def _is_red(rgba):
    r, g, b = rgba[:3]
    return r >= 0.5 and g <= 0.3 * r and b <= 0.3 * r


def plot_compare(actual, expected, case):
    if not isinstance(actual, dict) or not actual.get("is_figure"):
        got = actual.get("type") if isinstance(actual, dict) else type(actual).__name__
        extra = msg("return_fig_not_ax") if got in ("Axes", "AxesSubplot") else Text("")
        return _msg("type", where="plot_fit", actual=Text(f"{got}{extra[0]}", f"{got}{extra[1]}"),
                    expected=msg("expected_figure"))
    points = expected["points"]
    scatters = actual.get("scatters") or []
    same_n = [s for s in scatters if s.get("n") == len(points)]
    if not same_n:
        found = msg("keras_scatters_found", counts=[s.get('n') for s in scatters]) if scatters \
            else msg("keras_no_scatter_found")
        return _keras("keras_no_scatter", n=len(points), found=found)
    if not any(np.allclose(np.asarray(s["offsets"]).reshape(-1, 2), points, atol=1e-9) for s in same_n):
        return _keras("keras_scatter_points")
    lines = actual.get("lines") or []
    cx, cy = expected["curve_x"], expected["curve_y"]
    curve = [l for l in lines if np.shape(l.get("x")) == cx.shape and np.shape(l.get("y")) == cy.shape
             and np.allclose(l["x"], cx, atol=1e-9) and np.allclose(l["y"], cy, atol=1e-9)]
    if not curve:
        return _keras("keras_no_curve", n=len(cx))
    if not any(_is_red(l["color"]) for l in curve):
        rgba = tuple(round(c, 3) for c in curve[0]["color"])
        return _keras("keras_curve_color", rgba=rgba)
    return PASS


SPEC = AssignmentSpec(
    name="05_keras_tanh",
    questions=[
        Question("load_data", 10, ["load_data"], Custom(load_compare), load_public, load_hidden, timeout=30,
                 hint=("pd.read_csv로 읽고 X는 frame['x']를 (n, 1)로, y는 frame['y']를 (n,)으로 (float64).",
                       "read with pd.read_csv; X = column x as (n, 1), y = column y as (n,), float64")),
        Question("build_model", 25, ["build_model"], Custom(build_compare), build_public, None, timeout=60,
                 expected=build_expected, needs_keras=True,
                 hint=("그림의 구조를 다시 보세요: 입력 1개, 은닉층 노드 6개와 4개, 출력 1개, 모든 층의 활성화 함수는 tanh.",
                       "look at the figure again: 1 input, hidden layers of 6 and 4 nodes, 1 output, tanh on every layer")),
        Question("compile_model", 15, ["compile_model"], Custom(compile_compare), compile_public, None, timeout=60,
                 expected=compile_expected, needs_keras=True,
                 hint=("model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss='mse') 후 model을 돌려줍니다.",
                       "model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss='mse'), then return model")),
        Question("train_model", 25, ["train_model"], Custom(train_compare), train_public, None, timeout=240,
                 expected=train_expected, needs_keras=True,
                 hint=("model.fit(X, y, epochs=epochs, verbose=0): batch_size는 넘기지 않고 History를 돌려줍니다.",
                       "model.fit(X, y, epochs=epochs, verbose=0): no batch_size, return the History")),
        Question("predict_curve", 15, ["predict_curve"], Custom(predict_compare), predict_public, predict_hidden,
                 timeout=60, expected=predict_expected, needs_keras=True,
                 hint=("domain = np.linspace(0, 1, 100).reshape(-1, 1); y_hat은 model.predict(domain, verbose=0)을 (100,)으로.",
                       "domain = np.linspace(0, 1, 100).reshape(-1, 1); y_hat = model.predict(domain, verbose=0) flattened to (100,)")),
        Question("plot_fit", 10, ["plot_fit"], Custom(plot_compare), plot_public, plot_hidden, timeout=60,
                 expected=plot_expected,
                 hint=("fig, ax = plt.subplots(); ax.scatter(X, y); ax.plot(domain, y_hat, color='red'); return fig",
                       "fig, ax = plt.subplots(); ax.scatter(X, y); ax.plot(domain, y_hat, color='red'); return fig")),
    ],
    data_files={DATA: "data/dataset2.csv"},
    preload=["numpy", "pandas", "matplotlib.pyplot", "tensorflow", "keras"],
    # Keras on JAX: a jitted step of this 45-parameter network costs far less than TensorFlow's
    # graph dispatch (one training: 0.6 s instead of 5 s on this project's CPU); TensorFlow
    # where JAX is not installed. The warm-up compiles the training and prediction steps once per run.
    env={"KERAS_BACKEND": "jax"},
    warmup=[probe("keras_warmup", DATA, net=NET)],
    limits={"memory_mb": 4096, "cell_seconds": 120.0, "call_seconds": 60.0, "question_seconds": 900.0, "cpu_seconds": 900},
    hidden_seed=5050,
)
