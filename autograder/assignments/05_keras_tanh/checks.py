"""05_keras_tanh's comparisons and `expected` hooks: every number is compared here, in the grading
process (spec.py's docstring says how the thresholds were measured)."""
import math

import numpy as np

from autograder.compare import PASS, Same, Verdict
from autograder.i18n import Text, msg
from autograder.spec import sibling

network = sibling(__file__, "network")
DATA, N_ROWS, EPOCHS, BATCH = network.DATA, network.N_ROWS, network.EPOCHS, network.BATCH
CURVE, SHAPES, forward = network.CURVE, network.SHAPES, network.forward

FIT_MSE_FACTOR = 2.5          # see spec.py's docstring for the measurement


def _msg(key, **params):
    return Verdict.fail(key, **params)


def _keras(key, **params):
    """A Keras question's failure: an i18n key (autograder/i18n.py, "keras_*") and its parameters."""
    return Verdict.fail(key, **params)


# ---- load_data --------------------------------------------------------------------------------

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

def build_expected(case, value, ns):
    return {"aspect": case.aspect, "model": value}


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
    aspect, ref = case["aspect"], expected["model"]
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

MSE_NAMES = {"mse", "mean_squared_error", "meansquarederror"}


def compile_expected(case, value, ns):
    return {"aspect": case.aspect, "compile": value}


def compile_compare(actual, expected, case):
    aspect, ref = case["aspect"], expected["compile"]
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

def _data():
    import os  # noqa: PLC0415
    from autograder.spec import repo_root  # noqa: PLC0415
    raw = np.loadtxt(os.path.join(repo_root(), "data", DATA), delimiter=",", skiprows=1)
    return raw[:, 0], raw[:, 1]


def train_expected(case, value, ns):
    aspect, epochs = case.aspect, case.call["params"].get("epochs", EPOCHS)
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
    aspect = case["aspect"]
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
