"""Child-side probes of 06_keras_digits: the only code of this assignment that runs beside student
code in the sandbox. Standard library and NumPy here; Keras, scikit-learn and matplotlib inside the
functions that need them. Each probe calls the student's functions and describes what happened as
plain data; none knows an expected value or judges (the spec does, in the grading process).

The lecture's network is built here from the plain numbers the spec passes (`net`), so that
compile_classifier, train_classifier and predict_digits are each tested on a correct model of the
harness's, whatever build_classifier does.
"""
import contextlib
import io

import numpy as np

try:
    from agchild import kit          # inside the sandbox
except ImportError:
    from autograder.child import kit  # in the repository (reference builds, tests)


def lecture_model(net, seed=None):
    """Input(net["input_shape"]) -> Flatten -> Dense(u, a) for each (u, a), not compiled."""
    keras = kit.keras()
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    layers = [keras.Input(shape=tuple(int(d) for d in net["input_shape"])), keras.layers.Flatten()]
    layers += [keras.layers.Dense(int(u), activation=a) for u, a in zip(net["units"], net["activations"])]
    return keras.Sequential(layers)


def compile_lecture(model, net):
    keras = kit.keras()
    opt = getattr(keras.optimizers, net["optimizer"])(learning_rate=float(net["learning_rate"]))
    model.compile(optimizer=opt, loss=net["loss"], metrics=list(net.get("metrics", ())),
                  steps_per_execution=int(net.get("steps_per_execution", 1)))
    return model


def digits_split(test_size=0.25, seed=0):
    """scikit-learn's digits as the assignment states them: float32 images / 16, stratified split."""
    from sklearn.datasets import load_digits  # noqa: PLC0415
    from sklearn.model_selection import train_test_split  # noqa: PLC0415
    digits = load_digits()
    return train_test_split(digits.images.astype(np.float32) / 16, digits.target.astype(np.int64),
                            test_size=test_size, random_state=int(seed), stratify=digits.target)


# ---- build_classifier / compile_classifier -----------------------------------------------------

def probe_build_classifier(ns):
    return kit.describe_model(kit.student_function(ns, "build_classifier")())


def _config_name(item):
    """A compile-config entry (a string, or a serialised object) as a lower-case name."""
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        config = item.get("config") if isinstance(item.get("config"), dict) else {}
        return str(config.get("name") or item.get("class_name") or "")
    return type(item).__name__


def probe_compile_classifier(ns, net, seed=0):
    """compile_classifier on the harness's lecture model: what the compiled model holds."""
    model = lecture_model(net, seed)
    returned = kit.student_function(ns, "compile_classifier")(model)
    target = returned if returned is not None else model
    out = kit.describe_compile(target)
    out["returned_model"] = returned is model
    out.update(optimizer_config=None, loss_config=None, metric_names=None)
    try:
        config = target.get_compile_config() or {}
    except Exception:  # noqa: BLE001 - an uncompiled model has no compile config
        config = {}
    opt = config.get("optimizer")
    if isinstance(opt, dict) and isinstance(opt.get("config"), dict):
        out["optimizer_config"] = {k: v for k, v in opt["config"].items()
                                   if k in ("beta_1", "beta_2", "epsilon", "amsgrad", "weight_decay", "momentum",
                                            "nesterov", "rho", "learning_rate")
                                   and (v is None or isinstance(v, (bool, int, float)))}
    loss = config.get("loss")
    if isinstance(loss, dict) and isinstance(loss.get("config"), dict):
        out["loss_config"] = {k: v for k, v in loss["config"].items()
                              if isinstance(v, (bool, int, float, str)) or v is None}
    elif loss is not None and not isinstance(loss, str):
        out["loss_config"] = {"from_logits": bool(getattr(getattr(target, "loss", None), "_fn_kwargs", {})
                                                  .get("from_logits", False))}
    metrics = config.get("metrics")
    if isinstance(metrics, (list, tuple)):
        out["metric_names"] = [_config_name(m) for m in metrics]
    elif isinstance(metrics, dict):
        out["metric_names"] = [_config_name(m) for v in metrics.values() for m in (v if isinstance(v, list) else [v])]
    return out


# ---- train_classifier: one training shared by the question's cases ----------------------------

_RUNS = {}   # (train_classifier, key) -> (result, error); a child serves one submission only


def probe_train_classifier(ns, net, seed=0, epochs=None, split=None):
    """Train the harness's compiled lecture model with the student's train_classifier on the
    training images (the assignment's split), counting what it printed. The outcome is kept for the
    same function and arguments, so that the question's cases share one training."""
    fn = kit.student_function(ns, "train_classifier")
    key = (repr(sorted(net.items())), int(seed), epochs, repr(sorted((split or {}).items())))
    if (fn, key) in _RUNS:
        result, error = _RUNS[(fn, key)]
        if error is not None:
            raise error
        return result
    out, err = io.StringIO(), io.StringIO()
    result, error = None, None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = _train(fn, net, seed, epochs, split or {})
    except Exception as exc:  # noqa: BLE001 - reported by the worker, for every case alike
        error = exc
    if error is None:
        printed = out.getvalue()
        result.update(stdout_bytes=len(printed.encode("utf-8", "replace")), stdout_head=printed[:300])
    _RUNS[(fn, key)] = (result, error)
    if error is not None:
        raise error
    return result


def _train(fn, net, seed, epochs, split):
    keras = kit.keras()
    X_train, _, y_train, _ = digits_split(**split)
    model = compile_lecture(lecture_model(net, seed), net)
    history = fn(model, X_train, y_train) if epochs is None else fn(model, X_train, y_train, epochs=epochs)
    hist = getattr(history, "history", None)
    losses = np.asarray(hist["loss"], dtype=np.float64) if isinstance(hist, dict) and "loss" in hist else None
    try:
        iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    except Exception:  # noqa: BLE001
        iterations = None
    return {"history_type": type(history).__name__, "losses": losses, "iterations": iterations,
            "train_rows": int(len(y_train)), "weights": kit.weights(model)}


def probe_warmup(ns, net, split=None, predict_rows=()):
    """The harness's own run (no student code): one epoch of model.fit as train_classifier calls it
    and predictions of the given row counts, so that JAX compiles those steps into the compilation
    cache the student sandboxes share."""
    keras = kit.keras()
    X_train, X_test, y_train, _ = digits_split(**(split or {}))
    model = compile_lecture(lecture_model(net, None), net)
    model.fit(X_train, y_train, epochs=1, verbose=0)
    for n in predict_rows:
        model.predict(X_test[:int(n)], verbose=0)
    return {"backend": keras.backend.backend()}


# ---- predict_digits ----------------------------------------------------------------------------

def probe_predict_digits(ns, weights, images, net):
    """predict_digits on the lecture model holding the given weights, and what it returned."""
    model = lecture_model(net)
    model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    value = kit.student_function(ns, "predict_digits")(model, np.asarray(images, dtype=np.float32))
    out = {"type": type(value).__name__, "value": None, "shape": None, "dtype": None}
    try:
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf":
            out.update(value=arr, shape=list(arr.shape), dtype=str(arr.dtype))
    except Exception:  # noqa: BLE001 - a value NumPy cannot read is reported by its type
        pass
    return out


# ---- plot_mistakes -----------------------------------------------------------------------------

def probe_plot_mistakes(ns, X, y_true, y_pred, n=None):
    """The figure plot_mistakes returns: for each Axes, its title and the images it shows."""
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fn = kit.student_function(ns, "plot_mistakes")
    try:
        fig = fn(X, y_true, y_pred) if n is None else fn(X, y_true, y_pred, n=n)
        out = {"is_figure": isinstance(fig, Figure), "type": type(fig).__name__, "axes": []}
        if out["is_figure"]:
            for ax in fig.axes:
                images = []
                for im in ax.images:
                    try:
                        images.append(np.asarray(np.ma.getdata(im.get_array()), dtype=np.float64))
                    except Exception:  # noqa: BLE001 - an image NumPy cannot read counts as none
                        pass
                out["axes"].append({"title": str(ax.get_title()), "images": images})
            out["suptitle"] = str(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) else ""
    finally:
        plt.close("all")
    return out


PROBES = {
    "build_classifier": probe_build_classifier,
    "compile_classifier": probe_compile_classifier,
    "train_classifier": probe_train_classifier,
    "warmup": probe_warmup,
    "predict_digits": probe_predict_digits,
    "plot_mistakes": probe_plot_mistakes,
}
