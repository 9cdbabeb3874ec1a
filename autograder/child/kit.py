"""Generic helpers for the assignments' child-side probes (standard library and NumPy; Keras and
matplotlib only inside the functions that need them). A probe calls the student's functions and
describes what came back as plain data; it never knows an expected value and never judges.

An assignment's probes.py imports this module as

    try:
        from agchild import kit          # inside the sandbox
    except ImportError:
        from autograder.child import kit  # in the repository (reference builds, tests)

and defines PROBES (name -> fn(ns, *args, **params)), and optionally BUILTINS (name -> factory
of a callable passed as an argument) and CLOSURES (name -> fn(over, **params) -> zero-argument f).
"""
import copy
import os
import sys

import numpy as np

try:
    from . import wire
except ImportError:  # pragma: no cover
    import wire  # type: ignore


class Table:
    """The probes, builtins and closures one assignment's calls may name."""

    def __init__(self, probes=None, builtins=None, closures=None):
        self.probes = dict(GENERIC_PROBES, **(probes or {}))
        self.builtins = dict(builtins or {})
        self.closures = dict(closures or {})

    @classmethod
    def of_module(cls, module):
        return cls(getattr(module, "PROBES", None), getattr(module, "BUILTINS", None),
                   getattr(module, "CLOSURES", None))


def student_function(ns, name):
    """The student's function `name`, or NameError (reported as a missing function)."""
    fn = ns.get(name)
    if fn is None or not callable(fn):
        raise NameError(f"function '{name}' is not defined")
    return fn


def resolve_arg(ns, table, spec, args):
    """Turn one argument spec into the value the student's function receives."""
    if "value" in spec:
        return wire.decode(spec["value"])
    if "fn" in spec:
        return student_function(ns, spec["fn"])
    if "builtin" in spec:
        params = {k: wire.decode(v) for k, v in spec.get("params", {}).items()}
        return table.builtins[spec["builtin"]](**params)
    if "closure" in spec:
        if args is None:
            return None
        params = {k: wire.decode(v) for k, v in spec.get("params", {}).items()}
        return table.closures[spec["closure"]](args[spec["over"]], **params)
    if "file" in spec:
        name = os.path.basename(spec["file"]["name"])
        path = os.path.join(os.getcwd(), name)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(spec["file"]["text"])
        return path
    if "path" in spec:
        return spec["path"]
    raise ValueError("unknown argument spec")


def snapshot(value):
    """A deep copy (a rule may mutate and return the same object), or the value when it cannot be copied."""
    try:
        return copy.deepcopy(value)
    except Exception:  # noqa: BLE001 - an object that cannot be copied is reported as it is
        return value


def probe_defaults(ns, fn, args=(), kwargs=None):
    """Call fn(*args, **kwargs) once (cheaply; a stub still reports "not attempted"), then report the
    default values of its parameters from its signature, plain data only: e.g. 03's train(lr=0.5,
    epochs=5000), whose default run is too long to grade by calling it."""
    import inspect  # noqa: PLC0415
    target = student_function(ns, fn)
    target(*args, **(kwargs or {}))
    out = {}
    for name, p in inspect.signature(target).parameters.items():
        if p.default is inspect.Parameter.empty:
            continue
        d = p.default
        out[name] = d if d is None or isinstance(d, (bool, int, float, str)) else f"<{type(d).__name__}>"
    return out


GENERIC_PROBES = {"defaults": probe_defaults}


# ---- Keras ---------------------------------------------------------------------------------------
def keras():
    import keras as _keras  # noqa: PLC0415 - only the Keras questions pay for this import
    return _keras


def describe_model(model):
    """Plain-data description of a Keras model: layers, units, activations, parameters."""
    k = keras()
    if not isinstance(model, k.Model):
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
    """The optimizer (class, learning rate, momentum, nesterov), loss and metrics of a compiled model."""
    k = keras()
    opt = getattr(model, "optimizer", None)
    out = {"optimizer": type(opt).__name__ if opt is not None else None, "learning_rate": None,
           "momentum": None, "nesterov": None, "loss": None, "metrics": None}
    if opt is not None:
        try:
            out["learning_rate"] = float(k.ops.convert_to_numpy(opt.learning_rate))
        except Exception:  # noqa: BLE001
            pass
        out["momentum"] = float(getattr(opt, "momentum", 0.0) or 0.0) if hasattr(opt, "momentum") else None
        out["nesterov"] = bool(getattr(opt, "nesterov", False)) if hasattr(opt, "nesterov") else None
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        out["loss"] = loss
    elif loss is not None:
        out["loss"] = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    try:
        metrics = getattr(model, "_compile_metrics", None)
        names = getattr(metrics, "_user_metrics", None) if metrics is not None else None
        if names is not None:
            out["metrics"] = [m if isinstance(m, str) else getattr(m, "name", type(m).__name__) for m in names]
    except Exception:  # noqa: BLE001 - metrics are reported where Keras exposes them
        pass
    return out


def weights(model):
    return [np.asarray(w, dtype=np.float64) for w in model.get_weights()]


class lazy_modules:
    """While active, the named modules are created lazily when first imported (importlib's
    LazyLoader): their code runs only when something reads one of their attributes.

    Keras imports `keras.wrappers` (its scikit-learn wrappers) at start-up, and with it scikit-learn
    and scipy.stats: 0.8 s of a sandbox's 3.2 s Keras import, for classes no assignment uses (and
    h5py, requests: LAZY_AT_PRELOAD). Made lazy, the wrappers (and scikit-learn) load the moment a
    submission touches `keras.wrappers.X`, exactly as they would have; the import statements Keras
    runs only bind the module object.
    """

    def __init__(self, names):
        self.names = frozenset(names)

    def find_spec(self, name, path=None, target=None):
        if name not in self.names or name in sys.modules:
            return None
        import importlib.machinery
        import importlib.util
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        spec.loader = importlib.util.LazyLoader(spec.loader)
        return spec

    def __enter__(self):
        sys.meta_path.insert(0, self)
        return self

    def __exit__(self, *exc):
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        return False


# Keras binds these at start-up for features no assignment grades: its scikit-learn wrappers (with
# scikit-learn and scipy.stats, 0.8 s), h5py for the legacy .h5 format (0.16 s) and requests for
# its RemoteMonitor callback (0.05 s). A submission that uses one gets it, loaded on first read.
LAZY_AT_PRELOAD = ("keras.wrappers", "keras._tf_keras.keras.wrappers", "h5py", "requests")


def preload_jax_lowering():
    """Where Keras runs on JAX, import the MLIR dialects JAX loads only on its first lowering
    (mhlo and builtin: 0.22-0.29 s of imports). A zygote that has them spares every Keras
    question's child that time; importing them starts no thread and no XLA backend (those the child
    makes itself, after the fork)."""
    if "jax" not in sys.modules:
        return False
    for name in ("jaxlib.mlir.dialects.mhlo", "jaxlib.mlir.dialects.builtin"):
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - another jaxlib layout: the child imports what it needs
            return False
    return True


def defer_tensorflow():
    """Keras on JAX (or torch) imports TensorFlow anyway when it is installed, only to seed it in
    keras.utils.set_random_seed (`tf.available` imports it: about 3 s of a cold sandbox). Where
    TensorFlow is not imported yet, make Keras see it as available only once something imports it;
    a submission that imports TensorFlow itself gets it seeded as before. Training on JAX never
    reads TensorFlow's random state, so no result changes."""
    import sys
    keras_mod = sys.modules.get("keras")
    if keras_mod is None or "tensorflow" in sys.modules:
        return False
    try:
        from keras.src.utils import module_utils
        if keras_mod.backend.backend() == "tensorflow":
            return False
        lazy = module_utils.tensorflow
    except Exception:  # noqa: BLE001 - another Keras layout: leave it as it is
        return False

    class DeferredTensorFlow(type(lazy)):
        @property
        def available(self):
            return "tensorflow" in sys.modules and type(lazy).available.fget(self)

    lazy.__class__ = DeferredTensorFlow
    return True
