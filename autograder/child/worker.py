"""The process that runs student code (forked by zygote.py, the trusted warm parent).

* A child (serve) runs the submission's cells, then answers call requests with plain data only
  (wire.py): what the student's functions returned, printed, warned or raised, and what their
  arguments looked like afterwards. It never decides a score; the grading process compares. One
  child serves one question, so nothing one question does reaches another.

This package (worker, zygote, wire, kit) and the assignments' probes.py are the only harness code that
exists inside the sandbox, as a read-only copy named `agchild`. Standard library and NumPy only.
"""
import base64
import builtins
import importlib
import importlib.util
import marshal
import os
import signal
import sys
import time
import traceback
import types
import warnings

try:  # inside the sandbox the package is `agchild`; in the repository `autograder.child`
    from . import kit, wire
except ImportError:  # pragma: no cover
    import kit  # type: ignore
    import wire  # type: ignore


class SoftTimeout(BaseException):
    """Raised in student code when a cell or a call runs past its time."""


def _on_alarm(signum, frame):
    raise SoftTimeout()


class _Shell:
    """Stands in for IPython's shell: magics become harmless, shell escapes do nothing."""

    def __init__(self, namespace):
        self.user_ns = namespace

    def system(self, cmd):
        print(f"[autograder] shell command not run at grading time: !{cmd}")

    getoutput = system

    def run_line_magic(self, name, line, *args, **kwargs):
        if name in ("time", "timeit"):
            return exec(compile(line, "<magic>", "exec"), self.user_ns)
        return None

    def run_cell_magic(self, name, line, cell):
        if name in ("time", "timeit", "capture"):
            return exec(compile(cell, "<cell magic>", "exec"), self.user_ns)
        print(f"[autograder] cell magic %%{name} not run at grading time")
        return None

    def __getattr__(self, item):
        return lambda *a, **k: None


def new_namespace():
    ns = {"__name__": "__main__", "__builtins__": builtins}
    shell = _Shell(ns)
    ns["get_ipython"] = lambda: shell
    ns["display"] = lambda *a, **k: None
    return ns


def format_error(exc, limit=6):
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=limit)
    text = "".join(lines)
    if len(text) > 4000:
        text = text[:2000] + "\n...\n" + text[-1800:]
    return {"type": type(exc).__name__, "message": _safe_str(exc)[:1000], "traceback": text}


def _safe_str(exc):
    try:
        return str(exc)
    except BaseException:  # noqa: BLE001 - a student's exception with a broken __str__
        return "<unprintable exception>"


def _code(source, index, compiled=None):
    """The cell's code object: the grader's compilation of the same source (marshal, base64) when it
    sent one, else compiled here."""
    if isinstance(compiled, str):
        try:
            code = marshal.loads(base64.b64decode(compiled))
            if isinstance(code, types.CodeType):
                return code
        except (ValueError, EOFError, TypeError):
            pass
    return compile(source, f"<cell {index}>", "exec", dont_inherit=True)


def run_cell(ns, source, index, timeout, compiled=None):
    """Execute one cell; return None or an error dict. A failing cell does not stop later ones."""
    try:
        code = _code(source, index, compiled)
    except SyntaxError as exc:
        return {"type": "SyntaxError", "message": f"line {exc.lineno}: {exc.msg}",
                "traceback": "".join(traceback.format_exception_only(type(exc), exc))}
    except (ValueError, OverflowError, MemoryError, RecursionError) as exc:
        return format_error(exc)
    _arm(timeout)
    try:
        exec(code, ns)
    except SoftTimeout:
        return {"type": "Timeout", "message": f"cell ran longer than {timeout:g} s", "traceback": ""}
    except BaseException as exc:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
        return format_error(exc)
    finally:
        _disarm()
    return None


def _arm(seconds):
    if seconds and hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)


def _disarm():
    if hasattr(signal, "setitimer"):
        signal.setitimer(signal.ITIMER_REAL, 0)



# ---- the assignment's probes ---------------------------------------------------------------------
_TABLES = {}


def probe_table(assignment):
    """The probes, builtins and closures of one assignment (its probes.py), loaded once per process:
    inside the sandbox from the staged copy `agchild.probes_<name>`, in the repository from
    autograder/assignments/<name>/probes.py."""
    if not assignment:
        return kit.Table()
    if assignment not in _TABLES:
        module = None
        if __package__ and __package__ != "autograder.child":
            try:
                module = importlib.import_module(f"{__package__}.probes_{assignment}")
            except ModuleNotFoundError:
                module = None
        else:
            path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "assignments",
                                assignment, "probes.py")
            if os.path.exists(path):
                spec = importlib.util.spec_from_file_location(f"autograder_probes_{assignment}", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
        _TABLES[assignment] = kit.Table.of_module(module) if module is not None else kit.Table()
    return _TABLES[assignment]


# ---- one call ------------------------------------------------------------------------------------
def _stub(name, remote):
    """Stands in for an injected helper: the call's arguments go to the grader, which answers with
    the reference's result (the reference itself never comes here)."""
    def helper(*args, **kwargs):
        return remote(name, args, kwargs)
    helper.__name__ = helper.__qualname__ = name
    return helper


def perform_call(ns, call, timeout=None, table=None, remote=None):
    """Run one call request against the namespace and return the reply (plain data).

    call = {"fn": name | "probe": name, "args": [argspec...], "kwargs": {name: argspec},
            "params": {...} (a probe's), "remote": [names]}; argspec is {"value": encoded} or
    {"fn": name} or {"builtin": name, "params": {...}} or {"closure": name, "over": i, "params": {...}}
    or {"file": {"name": str, "text": str}}. Each name in "remote" is replaced, for this call only,
    by a stub that asks remote(name, args, kwargs) (the grader) for the value.
    """
    started = time.perf_counter()
    caught = []
    replaced = {}
    table = table or kit.Table()
    try:
        if call.get("probe"):
            probe = table.probes[call["probe"]]
            target = None
        else:
            probe = None
            target = ns.get(call["fn"])
            if target is None or not callable(target):
                return {"ok": False, "error": {"type": "MissingFunction", "message": call["fn"], "traceback": ""},
                        "seconds": 0.0}
        args = [kit.resolve_arg(ns, table, spec, None) for spec in call.get("args", [])]
        args = [kit.resolve_arg(ns, table, spec, args) if spec.get("closure") else a
                for spec, a in zip(call.get("args", []), args)]
        kwargs = {k: kit.resolve_arg(ns, table, spec, args) for k, spec in call.get("kwargs", {}).items()}
        if remote is not None:
            for name in call.get("remote", []):
                replaced[name] = ns.get(name, _MISSING)
                ns[name] = _stub(name, remote)
        _arm(timeout)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if probe is not None:
                params = {k: wire.decode(v) for k, v in call.get("params", {}).items()}
                value = probe(ns, *args, **params)
            else:
                value = target(*args, **kwargs)
        _disarm()
        reply = {"ok": True, "value": _encode_safely(value)}
        if call.get("report_args", True) and probe is None:
            reply["args_after"] = [_encode_safely(a) if "value" in spec else None
                                   for spec, a in zip(call.get("args", []), args)]
            reply["kwargs_after"] = {k: _encode_safely(kwargs[k]) for k, spec in call.get("kwargs", {}).items()
                                     if "value" in spec}
    except SoftTimeout:
        reply = {"ok": False, "error": {"type": "Timeout", "message": f"{timeout:g}", "traceback": ""}}
    except BaseException as exc:  # noqa: BLE001 - everything the student raises is reported
        _disarm()
        reply = {"ok": False, "error": format_error(exc)}
    finally:
        _disarm()
        for name, old in replaced.items():
            if old is _MISSING:
                ns.pop(name, None)
            else:
                ns[name] = old
    reply["warnings"] = [_warning_text(w) for w in [w for w in caught if not _harness_warning(w)][:5]]
    reply["seconds"] = time.perf_counter() - started
    return reply


_MISSING = object()
# JAX reports that it could not add an entry to the compilation cache, which student sandboxes see
# read-only (sandbox.CompileCache): the harness's business, not the student's.
_HARNESS_WARNING = "persistent compilation cache"


def _harness_warning(w):
    try:
        return _HARNESS_WARNING in str(w.message)
    except BaseException:  # noqa: BLE001
        return False


def _warning_text(w):
    try:
        return f"{w.category.__name__}: {w.message}"[:300]
    except BaseException:  # noqa: BLE001
        return "warning"


def _encode_safely(value):
    try:
        return wire.encode(value)
    except BaseException as exc:  # noqa: BLE001 - a student's object that breaks while being read
        return {"__unsupported__": f"{type(value).__name__} ({type(exc).__name__} while reading it)"}


class ReferenceHelperError(Exception):
    """The grader's reference helper could not answer the student's call (its message says why)."""


# ---- a child: one question's process --------------------------------------------------------------
class _Channel:
    """The child's two pipes: JSON lines in, JSON lines out."""

    def __init__(self, fd_in, fd_out):
        self.inbox = os.fdopen(fd_in, "rb", closefd=False)
        self.out = os.fdopen(fd_out, "wb", buffering=0, closefd=False)

    def send(self, message):
        self.out.write((wire.dumps(message) + "\n").encode("utf-8"))

    def receive(self):
        line = self.inbox.readline(wire.MAX_MESSAGE_BYTES + 1)
        if not line:
            return None
        try:
            msg = wire.loads(line.decode("utf-8"))
        except (wire.WireError, UnicodeDecodeError):
            return {}
        return msg if isinstance(msg, dict) else {}

    def remote(self, name, args, kwargs):
        """Ask the grader for the reference's `name`(*args, **kwargs). A function among the arguments
        (an activation, a gradient) stays here: it travels as a handle, and the grader calls it back
        through this channel while the reference runs."""
        handles = {}

        def pack(value):
            if callable(value) and not isinstance(value, type):
                handles[str(len(handles))] = value
                return {"__callable__": str(len(handles) - 1)}
            return _encode_safely(value)

        self.send({"op": "helper", "name": name, "args": [pack(a) for a in args],
                   "kwargs": {str(k): pack(v) for k, v in kwargs.items()}})
        while True:
            msg = self.receive()
            if msg is None:
                os._exit(0)
            if msg.get("op") == "helper_result":
                break
            if msg.get("op") == "callback":
                self._callback(handles, msg)
        if not msg.get("ok"):
            raise ReferenceHelperError(str(msg.get("message", ""))[:500])
        return wire.decode(msg.get("value"))

    def _callback(self, handles, msg):
        fn = handles.get(str(msg.get("handle")))
        try:
            if fn is None:
                raise ReferenceHelperError("unknown function handle")
            value = fn(*wire.decode(msg.get("args") or []), **wire.decode(msg.get("kwargs") or {"__dict__": {}}))
            reply = {"op": "callback_result", "ok": True, "value": _encode_safely(value)}
        except SoftTimeout:
            raise
        except BaseException as exc:  # noqa: BLE001 - the student's function failed: the reference sees it
            reply = {"op": "callback_result", "ok": False, "message": f"{type(exc).__name__}: {_safe_str(exc)[:300]}"}
        self.send(reply)


def serve(fd_in, fd_out):
    """One child: run the cells it is sent, then answer call requests until told to stop."""
    channel = _Channel(fd_in, fd_out)
    ns = new_namespace()
    hello = channel.receive() or {}
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    warnings.filterwarnings("ignore", message=".*" + _HARNESS_WARNING)
    table = probe_table(hello.get("assignment"))
    skip = set(hello.get("skip", []))
    shorter = {str(k): v for k, v in (hello.get("cell_timeouts") or {}).items()}
    for cell in hello.get("cells", []):
        if cell["index"] in skip:
            continue
        channel.send({"op": "cell_start", "index": cell["index"]})
        error = run_cell(ns, cell["source"], cell["index"], shorter.get(str(cell["index"]), hello.get("cell_timeout")),
                         cell.get("code"))
        channel.send({"op": "cell_done", "index": cell["index"], "error": error})
    defined = sorted(k for k, v in list(ns.items()) if callable(v) and not k.startswith("__"))
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a student may have replaced the streams
            pass
    channel.send({"op": "ready", "defined": defined[:500]})
    while True:
        request = channel.receive()
        if request is None or request.get("op") == "exit":
            break
        if request.get("op") != "call":
            continue
        reply = perform_call(ns, request.get("call") or {}, request.get("timeout"), table, channel.remote)
        reply.update(op="result", id=request.get("id"))
        channel.send(reply)
    os._exit(0)
