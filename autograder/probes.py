"""Harness code that runs beside student code inside the sandbox (standard library and NumPy;
Keras and matplotlib only inside the probes that need them).

* builtins: functions the grader passes as arguments (a gradient, an activation, an update rule),
  built here from plain parameters;
* probes: small recipes that call a student's functions in a particular way and describe what
  came back as plain data (a Keras model's layers, a figure's artists, a chain of optimizer steps).

Nothing here knows an expected value; the grading process compares.
"""
import os

import numpy as np

try:
    from . import wire
except ImportError:  # pragma: no cover
    import wire  # type: ignore


# ---- builtins: callables made from plain parameters ------------------------------------------

def _quadratic_grad(A, b=None):
    A = np.asarray(A, dtype=np.float64)
    b = np.zeros(A.shape[0]) if b is None else np.asarray(b, dtype=np.float64)
    if A.ndim == 1:
        return lambda w: A * np.asarray(w, dtype=np.float64) - b
    return lambda w: A @ np.asarray(w, dtype=np.float64) - b


def _rosenbrock_grad(a=1.0, b=100.0):
    def grad(w):
        x, y = float(w[0]), float(w[1])
        return np.array([-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)])
    return grad


def _decaying_rule(learning_rate=0.1):
    """An update rule that is none of the lecture's: w - lr/k g(w), with k counted in config."""
    def update(w, grad_fn, config=None):
        config = {} if config is None else dict(config)
        k = config.get("k", 0) + 1
        config["k"] = k
        return np.asarray(w, dtype=np.float64) - learning_rate / k * grad_fn(w), config
    return update


ACTIVATIONS = {
    "identity": lambda z: np.asarray(z, dtype=np.float64) * 1.0,
    "tanh": lambda z: np.tanh(np.asarray(z, dtype=np.float64)),
    "relu": lambda z: np.maximum(np.asarray(z, dtype=np.float64), 0.0),
    "double": lambda z: 2.0 * np.asarray(z, dtype=np.float64),
}

BUILTINS = {
    "quadratic_grad": _quadratic_grad,
    "rosenbrock_grad": _rosenbrock_grad,
    "decaying_rule": _decaying_rule,
    "activation": lambda name: ACTIVATIONS[name],
}


def _closure_weighted_sin(x, c):
    """f() = sum(c * sin(x)) + 0.5 * sum(x^2): its gradient is c cos(x) + x."""
    c = np.asarray(c, dtype=np.float64)
    return lambda: float(np.sum(c * np.sin(x)) + 0.5 * np.sum(x * x))


def _closure_mlp_loss(x, which, X, t, params):
    """f() = the 03 network's loss with `x` standing in for params[which]."""
    params = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}

    def f():
        p = dict(params)
        p[which] = x
        sig = lambda z: 1.0 / (1.0 + np.exp(-z))  # noqa: E731 - small inputs here
        h = sig(X @ p["W1"] + p["b1"])
        y = sig(h @ p["W2"] + p["b2"])
        return float(0.5 * np.sum((y - t) ** 2))
    return f


CLOSURES = {
    "weighted_sin": _closure_weighted_sin,
    "mlp_loss": _closure_mlp_loss,
}


def resolve_arg(ns, spec, args):
    """Turn one argument spec into the value the student's function receives."""
    if "value" in spec:
        return wire.decode(spec["value"])
    if "fn" in spec:
        target = ns.get(spec["fn"])
        if target is None:
            raise NameError(f"function '{spec['fn']}' is not defined")
        return target
    if "builtin" in spec:
        params = {k: wire.decode(v) for k, v in spec.get("params", {}).items()}
        return BUILTINS[spec["builtin"]](**params)
    if "closure" in spec:
        if args is None:
            return None
        params = {k: wire.decode(v) for k, v in spec.get("params", {}).items()}
        return CLOSURES[spec["closure"]](args[spec["over"]], **params)
    if "file" in spec:
        name = os.path.basename(spec["file"]["name"])
        path = os.path.join(os.getcwd(), name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(spec["file"]["text"])
        return path
    if "path" in spec:
        return spec["path"]
    raise ValueError("unknown argument spec")


def load_helpers(source):
    """Trusted reference helpers, injected for a call so that one question does not depend on another."""
    ns = {"__name__": "reference_helpers"}
    exec(compile(source, "<reference helpers>", "exec"), ns)
    return {k: v for k, v in ns.items() if callable(v) and not k.startswith("_")}


# ---- probes ----------------------------------------------------------------------------------

GATE_TABLES = {"AND": (0, 0, 0, 1), "OR": (0, 1, 1, 1), "NAND": (1, 1, 1, 0)}
INPUTS = ((0, 0), (0, 1), (1, 0), (1, 1))


def _gate(table, counter, name):
    def gate(x1, x2):
        counter[name] = counter.get(name, 0) + 1
        return table[INPUTS.index((int(x1), int(x2)))]
    return gate


def probe_xor_structure(ns):
    """Evaluate the student's XOR with honest gates (counting calls) and with constant gates."""
    xor = ns.get("XOR")
    if xor is None:
        raise NameError("function 'XOR' is not defined")
    saved = {g: ns.get(g) for g in GATE_TABLES}
    result = {}
    try:
        counter = {}
        for g, table in GATE_TABLES.items():
            ns[g] = _gate(table, counter, g)
        result["table"] = [int(xor(a, b)) for a, b in INPUTS]
        result["gate_calls"] = dict(counter)
        for const in (0, 1):
            for g in GATE_TABLES:
                ns[g] = _gate((const,) * 4, {}, g)
            result[f"with_constant_{const}"] = [int(xor(a, b)) for a, b in INPUTS]
    finally:
        for g, f in saved.items():
            if f is None:
                ns.pop(g, None)
            else:
                ns[g] = f
    return result


def probe_gate_calls(ns, gate):
    """Call one gate on the four inputs with a counting, correct `perceptron` in place."""
    fn = ns.get(gate)
    if fn is None:
        raise NameError(f"function '{gate}' is not defined")
    saved = ns.get("perceptron")
    calls = []

    def perceptron(x, w, b):
        z = float(np.dot(np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)) + b)
        calls.append(1)
        return 1 if z > 0 else 0
    ns["perceptron"] = perceptron
    try:
        table = [fn(a, b) for a, b in INPUTS]
    finally:
        if saved is None:
            ns.pop("perceptron", None)
        else:
            ns["perceptron"] = saved
    return {"table": table, "perceptron_calls": len(calls)}


def probe_iterate(ns, rule, w0, grad, config=None, steps=2):
    """Apply an update rule `steps` times, threading config; report (w, config) after each step."""
    fn = ns.get(rule)
    if fn is None:
        raise NameError(f"function '{rule}' is not defined")
    grad_fn = BUILTINS[grad["builtin"]](**grad.get("params", {}))
    w = np.array(w0, dtype=np.float64)
    out = []
    for _ in range(steps):
        before = w.copy()
        w_next, config = fn(w, grad_fn, config)
        # Snapshots: a rule may return the same (mutated) config dict or update its state arrays in
        # place (both allowed), which must not rewrite the record of earlier steps.
        out.append({"w": _snapshot(w_next), "config": _snapshot(config),
                    "w_unchanged": bool(np.array_equal(before, w))})
        w = w_next
    return out


def _snapshot(value):
    import copy  # noqa: PLC0415 - only the iterate probe needs it
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an object that cannot be copied is reported as it is
        return value


def probe_backward(ns, t, params, cache):
    """backward(t, params, cache) with the student's own cache extended by the correct X, h, y."""
    full = {}
    forward = ns.get("forward")
    if forward is not None:
        try:
            _, own = forward(np.array(cache["X"]), {k: np.array(v) for k, v in params.items()})
            if isinstance(own, dict):
                full.update(own)
        except Exception:  # noqa: BLE001 - a broken forward only loses the extra keys
            pass
    full.update({k: np.array(v) for k, v in cache.items()})
    backward = ns.get("backward")
    if backward is None:
        raise NameError("function 'backward' is not defined")
    return backward(np.array(t), {k: np.array(v) for k, v in params.items()}, full)



XOR_GIVEN = {"W1": [[-2.0, 2.0], [-2.0, 2.0]], "b1": [3.0, -1.0], "W2": [1.0, 1.0], "b2": -1.0,
             "X_xor": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]}


def _int_list(value):
    try:
        return [int(v) for v in np.ravel(np.asarray(value))]
    except Exception:  # noqa: BLE001 - reported as "not a table"
        return None


def probe_xor_table_structure(ns, constant_y=(1, 0, 0, 1)):
    """02: xor_table() with the slides' weights in place, once with the mlp_forward it finds
    (counting calls) and once with an mlp_forward that returns a fixed y, which a table computed
    by the network must follow (a hard-coded answer does not)."""
    fn = ns.get("xor_table")
    if fn is None:
        raise NameError("function 'xor_table' is not defined")
    names = tuple(XOR_GIVEN) + ("mlp_forward",)
    missing = object()
    saved = {k: ns.get(k, missing) for k in names}
    honest = ns.get("mlp_forward")
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return honest(*args, **kwargs)

    def constant(*args, **kwargs):
        return np.zeros((len(constant_y), 2), dtype=int), np.array(constant_y, dtype=int)

    result = {}
    try:
        for k, v in XOR_GIVEN.items():
            ns[k] = np.array(v) if isinstance(v, list) else v
        if honest is not None:
            ns["mlp_forward"] = counting
        result["table"] = _int_list(fn())
        result["mlp_calls"] = len(calls)
        ns["mlp_forward"] = constant
        try:
            result["with_constant"] = _int_list(fn())
        except Exception:  # noqa: BLE001 - a table that does not come from mlp_forward's y
            result["with_constant"] = None
    finally:
        for k, v in saved.items():
            if v is missing:
                ns.pop(k, None)
            else:
                ns[k] = v
    return result


def probe_defaults(ns, fn, args=(), kwargs=None):
    """Call fn(*args, **kwargs) once (cheaply; a stub still reports "not attempted"), then report the
    default values of its parameters from its signature, plain data only: e.g. 03's train(lr=0.5,
    epochs=5000), whose default run is too long to grade by calling it."""
    import inspect  # noqa: PLC0415
    target = ns.get(fn)
    if target is None:
        raise NameError(f"function '{fn}' is not defined")
    target(*args, **(kwargs or {}))
    out = {}
    for name, p in inspect.signature(target).parameters.items():
        if p.default is inspect.Parameter.empty:
            continue
        d = p.default
        out[name] = d if d is None or isinstance(d, (bool, int, float, str)) else f"<{type(d).__name__}>"
    return out

# ---- Keras probes ----------------------------------------------------------------------------

def _keras():
    import keras  # noqa: PLC0415 - only the Keras questions pay for this import
    return keras


def describe_model(model):
    """Plain-data description of a Keras model: layers, units, activations, parameters."""
    keras = _keras()
    if not isinstance(model, keras.Model):
        return {"is_model": False, "type": type(model).__name__}
    layers = []
    for layer in model.layers:
        act = getattr(layer, "activation", None)
        layers.append({
            "class": type(layer).__name__,
            "units": getattr(layer, "units", None),
            "activation": getattr(act, "__name__", None) if act is not None else None,
            "use_bias": getattr(layer, "use_bias", None),
            "params": int(layer.count_params()) if layer.built else None,
        })
    try:
        n_params = int(model.count_params())
    except Exception:  # noqa: BLE001 - an unbuilt model has no parameter count yet
        n_params = None
    try:
        input_shape = list(model.inputs[0].shape[1:]) if model.inputs else None
    except Exception:  # noqa: BLE001
        input_shape = None
    return {"is_model": True, "type": type(model).__name__, "layers": layers, "params": n_params,
            "input_shape": input_shape, "compiled": bool(getattr(model, "compiled", False))}


def describe_compile(model):
    keras = _keras()
    opt = getattr(model, "optimizer", None)
    out = {"optimizer": type(opt).__name__ if opt is not None else None, "learning_rate": None,
           "momentum": None, "nesterov": None, "loss": None}
    if opt is not None:
        try:
            out["learning_rate"] = float(keras.ops.convert_to_numpy(opt.learning_rate))
        except Exception:  # noqa: BLE001
            pass
        out["momentum"] = float(getattr(opt, "momentum", 0.0) or 0.0) if hasattr(opt, "momentum") else None
        out["nesterov"] = bool(getattr(opt, "nesterov", False)) if hasattr(opt, "nesterov") else None
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        out["loss"] = loss
    elif loss is not None:
        out["loss"] = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    return out


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
    model = ns["build_model"]()
    return describe_model(model)


def probe_compile_model(ns, seed=0, net=None):
    keras = _keras()
    model = _figure_model(keras, seed, net)
    returned = ns["compile_model"](model)
    target = returned if returned is not None else model
    out = describe_compile(target)
    out["returned_model"] = returned is model
    return out


def _load_xy(data_path):
    """The exercise's CSV (columns x, y) as X (n, 1) and y (n,), float64."""
    table = np.genfromtxt(data_path, delimiter=",", names=True, dtype=np.float64)
    return np.atleast_1d(table["x"]).reshape(-1, 1), np.atleast_1d(table["y"])


def _weights(model):
    return [np.asarray(w, dtype=np.float64) for w in model.get_weights()]


def probe_train_model(ns, data_path, seed=0, epochs=None, net=None):
    """Train the figure's network (built and compiled here) with the student's train_model."""
    keras = _keras()
    X, y = _load_xy(data_path)
    model = _figure_model(keras, seed, net)
    _compile(keras, model, net or {})
    history = ns["train_model"](model, X, y) if epochs is None else ns["train_model"](model, X, y, epochs=epochs)
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
            "weights": _weights(model)}


def probe_keras_warmup(ns, data_path, net=None, predict_rows=100):
    """The harness's own run of the figure's network (no student code): one epoch of model.fit as
    train_model calls it, and a prediction of predict_rows rows, so that JAX compiles those steps
    into the compilation cache the student sandboxes share (sandbox.CompileCache)."""
    keras = _keras()
    X, y = _load_xy(data_path)
    model = _figure_model(keras, None, net)
    _compile(keras, model, net or {})
    model.fit(X, y, epochs=1, verbose=0)
    model.predict(np.linspace(0, 1, int(predict_rows)).reshape(-1, 1), verbose=0)
    return {"backend": keras.backend.backend()}


def probe_predict_curve(ns, weights, seed=0, net=None):
    keras = _keras()
    model = _figure_model(keras, seed, net)
    model.set_weights([np.asarray(w, dtype=np.float32) for w in weights])
    domain, y_hat = ns["predict_curve"](model)
    return {"domain": np.asarray(domain, dtype=np.float64), "y_hat": np.asarray(y_hat, dtype=np.float64),
            "domain_type": type(domain).__name__, "y_hat_type": type(y_hat).__name__}


def probe_plot_fit(ns, X, y, domain, y_hat):
    import matplotlib  # noqa: PLC0415
    matplotlib.use("Agg", force=True)
    from matplotlib import colors  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = ns["plot_fit"](X, y, domain, y_hat)
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
    X, y = ns["load_data"](path)
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
    "xor_structure": probe_xor_structure,
    "gate_calls": probe_gate_calls,
    "iterate": probe_iterate,
    "backward": probe_backward,
    "xor_table_structure": probe_xor_table_structure,
    "defaults": probe_defaults,
    "build_model": probe_build_model,
    "compile_model": probe_compile_model,
    "train_model": probe_train_model,
    "predict_curve": probe_predict_curve,
    "plot_fit": probe_plot_fit,
    "load_data": probe_load_data,
    "train_model_captured": probe_train_model_captured,
    "keras_warmup": probe_keras_warmup,
}
