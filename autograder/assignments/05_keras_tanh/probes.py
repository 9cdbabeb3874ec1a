"""05_keras_tanh's child-side probes: the figure's network built from the spec's plain numbers, and
the student's functions called on it."""
import numpy as np

try:
    from agchild import kit          # inside the sandbox
except ImportError:
    from autograder.child import kit  # in the repository


def _figure_model(keras, seed, net=None):
    """A dense network from plain parameters (the spec passes the figure's layer sizes)."""
    net = net or {}
    if seed is not None:  # (Keras seeds TensorFlow too, importing it: 2.5 s where it is not loaded yet)
        keras.utils.set_random_seed(int(seed))
    layers = [keras.Input(shape=(int(net.get("inputs", 1)),))]
    layers += [keras.layers.Dense(int(u), activation=net.get("activation")) for u in net.get("units", ())]
    return keras.Sequential(layers)


def _compile(keras, model, net):
    """Compile with plain-data settings: {"optimizer": class name, "learning_rate": float, "loss": str}."""
    opt = getattr(keras.optimizers, net.get("optimizer", "SGD"))(learning_rate=float(net.get("learning_rate", 0.01)))
    model.compile(optimizer=opt, loss=net.get("loss"), steps_per_execution=int(net.get("steps_per_execution", 1)))


def probe_build_model(ns):
    model = kit.student_function(ns, "build_model")()
    return kit.describe_model(model)


def probe_compile_model(ns, seed=0, net=None):
    keras = kit.keras()
    model = _figure_model(keras, seed, net)
    returned = kit.student_function(ns, "compile_model")(model)
    target = returned if returned is not None else model
    out = kit.describe_compile(target)
    out["returned_model"] = returned is model
    return out


def _load_xy(data_path):
    """The exercise's CSV (columns x, y) as X (n, 1) and y (n,), float64."""
    table = np.genfromtxt(data_path, delimiter=",", names=True, dtype=np.float64)
    return np.atleast_1d(table["x"]).reshape(-1, 1), np.atleast_1d(table["y"])


def probe_train_model(ns, data_path, seed=0, epochs=None, net=None):
    """Train the figure's network (built and compiled here) with the student's train_model."""
    keras = kit.keras()
    X, y = _load_xy(data_path)
    model = _figure_model(keras, seed, net)
    _compile(keras, model, net or {})
    history = kit.student_function(ns, "train_model")(model, X, y) if epochs is None else kit.student_function(ns, "train_model")(model, X, y, epochs=epochs)
    losses = None
    hist = getattr(history, "history", None)
    if isinstance(hist, dict) and "loss" in hist:
        losses = np.asarray(hist["loss"], dtype=np.float64)
    iterations = None
    try:
        iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    except Exception:  # noqa: BLE001
        pass
    return {"history_type": type(history).__name__, "losses": losses, "iterations": iterations,
            "weights": kit.weights(model)}


def probe_keras_warmup(ns, data_path, net=None, predict_rows=100):
    """The harness's own run of the figure's network (no student code): one epoch of model.fit as
    train_model calls it, and a prediction of predict_rows rows, so that JAX compiles those steps
    into the compilation cache the student sandboxes share (sandbox.CompileCache)."""
    keras = kit.keras()
    X, y = _load_xy(data_path)
    model = _figure_model(keras, None, net)
    _compile(keras, model, net or {})
    model.fit(X, y, epochs=1, verbose=0)
    model.predict(np.linspace(0, 1, int(predict_rows)).reshape(-1, 1), verbose=0)
    return {"backend": keras.backend.backend()}


def probe_predict_curve(ns, weights, seed=0, net=None):
    keras = kit.keras()
    model = _figure_model(keras, seed, net)
    model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    domain, y_hat = kit.student_function(ns, "predict_curve")(model)
    return {"domain": np.asarray(domain, dtype=np.float64), "y_hat": np.asarray(y_hat, dtype=np.float64),
            "domain_type": type(domain).__name__, "y_hat_type": type(y_hat).__name__}


def probe_plot_fit(ns, X, y, domain, y_hat):
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg", force=True)
    from matplotlib import colors  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = kit.student_function(ns, "plot_fit")(X, y, domain, y_hat)
    out = {"is_figure": isinstance(fig, Figure), "type": type(fig).__name__, "scatters": [], "lines": []}
    if not out["is_figure"]:
        return out
    for ax in fig.axes:
        for coll in ax.collections:
            offsets = np.asarray(coll.get_offsets(), dtype=np.float64)
            out["scatters"].append({"n": int(offsets.shape[0]), "offsets": offsets})
        for line in ax.get_lines():
            out["lines"].append({
                "color": [float(c) for c in colors.to_rgba(line.get_color())],
                "x": np.asarray(line.get_xdata(), dtype=np.float64).ravel(),
                "y": np.asarray(line.get_ydata(), dtype=np.float64).ravel(),
            })
    import matplotlib.pyplot as plt  # noqa: PLC0415
    plt.close("all")
    return out


def probe_load_data(ns, path):
    X, y = kit.student_function(ns, "load_data")(path)
    return {"X": X, "y": y}



# ---- 05: training with its console output counted, shared by the train_model cases -----------

_TRAIN_RUN = {}


def probe_train_model_captured(ns, data_path, seed=0, epochs=None, net=None):
    """probe_train_model, counting what the student's train_model printed to stdout (Keras's
    progress bar unless verbose=0). The outcome (result or exception) is kept for the same
    train_model function object and arguments, so several cases share one training."""
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415
    fn = ns.get("train_model")
    if fn is None:
        raise NameError("function 'train_model' is not defined")
    key = (data_path, int(seed), epochs, repr(sorted((net or {}).items())))
    last = _TRAIN_RUN.get(key)
    if last is not None and last[0] is fn:
        if last[2] is not None:
            raise last[2]
        return last[1]
    out, err = io.StringIO(), io.StringIO()
    result, error = None, None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            result = probe_train_model(ns, data_path, seed=seed, epochs=epochs, net=net)
    except Exception as exc:  # noqa: BLE001 - reported by the worker, for every case alike
        error = exc
    if error is None:
        printed = out.getvalue()
        result.update(stdout_bytes=len(printed.encode("utf-8", "replace")), stdout_head=printed[:300],
                      stderr_bytes=len(err.getvalue().encode("utf-8", "replace")))
    _TRAIN_RUN[key] = (fn, result, error)
    if error is not None:
        raise error
    return result


PROBES = {
    "build_model": probe_build_model,
    "compile_model": probe_compile_model,
    "train_model": probe_train_model,
    "predict_curve": probe_predict_curve,
    "plot_fit": probe_plot_fit,
    "load_data": probe_load_data,
    "train_model_captured": probe_train_model_captured,
    "keras_warmup": probe_keras_warmup,
}
