"""The process that runs student code. It runs inside the sandbox and trusts nothing it runs.

It receives the submission's cells and then call requests as JSON lines on one pipe, and answers
on another pipe with plain data only (see wire.py). It never decides a score: it reports what
the student's functions returned, what they printed, whether they warned or raised, and what
their arguments looked like afterwards; the grading process compares and scores.

This module and probes.py are the only parts of the autograder that exist inside the sandbox;
they are copied there as the package `agchild` (see sandbox.py). Standard library and NumPy only.
"""
import builtins
import os
import signal
import sys
import time
import traceback
import warnings

try:  # inside the sandbox the package is `agchild`; in-process it is `autograder`
    from . import probes, wire
except ImportError:  # pragma: no cover
    import probes  # type: ignore
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


def run_cell(ns, source, index, timeout):
    """Execute one cell; return None or an error dict. A failing cell does not stop later ones."""
    try:
        code = compile(source, f"<cell {index}>", "exec")
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


def perform_call(ns, call, timeout=None, helpers=None):
    """Run one call request against the namespace and return the reply (plain data).

    call = {"fn": name, "args": [argspec...], "kwargs": {name: argspec}, "probe": name|None,
            "params": {...}, "inject": [names]}; argspec is {"value": encoded} or
    {"fn": name} or {"builtin": name, "params": {...}} or {"closure": name, "over": i, "params": {...}}
    or {"file": {"name": str, "text": str}}.
    """
    started = time.perf_counter()
    caught = []
    injected = {}
    try:
        if call.get("probe"):
            probe = probes.PROBES[call["probe"]]
            target = None
        else:
            probe = None
            target = ns.get(call["fn"])
            if target is None or not callable(target):
                return {"ok": False, "error": {"type": "MissingFunction", "message": call["fn"], "traceback": ""},
                        "seconds": 0.0}
        args = [probes.resolve_arg(ns, spec, None) for spec in call.get("args", [])]
        args = [probes.resolve_arg(ns, spec, args) if spec.get("closure") else a
                for spec, a in zip(call.get("args", []), args)]
        kwargs = {k: probes.resolve_arg(ns, spec, args) for k, spec in call.get("kwargs", {}).items()}
        for name in call.get("inject", []):
            if helpers is not None and name in helpers:
                injected[name] = ns.get(name, _MISSING)
                ns[name] = helpers[name]
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
        reply = {"ok": False, "error": {"type": "Timeout", "message": f"call ran longer than {timeout:g} s",
                                        "traceback": ""}}
    except BaseException as exc:  # noqa: BLE001 - everything the student raises is reported
        _disarm()
        reply = {"ok": False, "error": format_error(exc)}
    finally:
        _disarm()
        for name, old in injected.items():
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


def _send(out, message):
    out.write(wire.dumps(message) + "\n")
    out.flush()


def main(fd_in, fd_out):
    """Serve one submission: run its cells, then answer call requests until told to stop."""
    inbox = os.fdopen(fd_in, "r", encoding="utf-8", closefd=False)
    out = os.fdopen(fd_out, "w", encoding="utf-8", closefd=False)
    # Student code can find and write to these pipes; what it writes is only more plain data, and
    # a result for a call id it was not given is treated as forged by the grader (sandbox.py).
    ns = new_namespace()
    helpers = None
    hello = wire.loads(inbox.readline())
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3000))
    warnings.filterwarnings("ignore", message=".*" + _HARNESS_WARNING)
    for name in hello.get("preload", []):
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a missing optional library costs only its questions
            pass
    skip = set(hello.get("skip", []))
    for cell in hello["cells"]:
        if cell["index"] in skip:
            continue
        _send(out, {"op": "cell_start", "index": cell["index"]})
        error = run_cell(ns, cell["source"], cell["index"], hello.get("cell_timeout"))
        _send(out, {"op": "cell_done", "index": cell["index"], "error": error})
    defined = sorted(k for k, v in list(ns.items()) if callable(v) and not k.startswith("__"))
    _send(out, {"op": "ready", "defined": defined[:500]})
    for line in inbox:
        request = wire.loads(line)
        if request.get("op") == "exit":
            break
        if request.get("op") == "helpers":
            helpers = probes.load_helpers(request["source"])
            continue
        reply = perform_call(ns, request["call"], request.get("timeout"), helpers)
        reply.update(op="result", id=request["id"])
        _send(out, reply)
    out.flush()
    os._exit(0)


def _prctl(option, value):
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _read_line_unbuffered(fd):
    """One line from a pipe without reading past it (the next bytes belong to the next child)."""
    data = bytearray()
    while True:
        ch = os.read(fd, 1)
        if not ch:
            return None
        if ch == b"\n":
            return bytes(data).decode("utf-8")
        data += ch


def _apply_limits(limits):
    import resource
    for name, value in (limits or {}).items():
        which = getattr(resource, name, None)
        if which is not None:
            try:
                resource.setrlimit(which, (int(value), int(value)))
            except (ValueError, OSError):
                pass


def _wipe(paths):
    """Empty these folders, leaving mount points (the read-only Python environment or data files
    bound into them) and everything under them alone."""
    for root in paths:
        doomed = []
        for here, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not os.path.ismount(os.path.join(here, d))]
            doomed += [os.path.join(here, f) for f in files if not os.path.ismount(os.path.join(here, f))]
            doomed += [os.path.join(here, d) for d in dirs]
        for path in reversed(doomed):  # children before their folders
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    os.rmdir(path)
                else:
                    os.unlink(path)
            except OSError:
                pass  # a folder that still holds a mount point stays


def zygote_main(fd_in, fd_out):
    """A warm parent inside one bubblewrap sandbox (its own PID namespace, required): imports the
    heavy libraries once, then forks one child per submission. After each child ends it kills every
    other process in the namespace and empties /tmp and the home folder, so nothing of one student
    is left for the next. It is not dumpable: student code (same uid, no capabilities) can neither
    ptrace it nor read its memory."""
    _prctl(4, 0)  # PR_SET_DUMPABLE = 0
    hello = wire.loads(_read_line_unbuffered(fd_in))
    for name in hello.get("preload", []):
        try:
            __import__(name)
        except Exception:  # noqa: BLE001
            pass
    out = os.fdopen(fd_out, "w", encoding="utf-8", closefd=False)
    _send(out, {"op": "zygote_ready"})
    while True:
        line = _read_line_unbuffered(fd_in)
        if line is None:
            os._exit(0)
        request = wire.loads(line)
        if request.get("op") != "fork":
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: die with the zygote
            _apply_limits(request.get("limits"))
            _send(out, {"op": "forked"})
            main(fd_in, fd_out)
            os._exit(0)
        _, status = os.waitpid(pid, 0)
        if hello.get("pidns") and os.getpid() < 10:  # only ever inside a fresh PID namespace
            try:
                os.kill(-1, signal.SIGKILL)  # every process but us and the namespace's init
            except OSError:
                pass
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG) == (0, 0):
                    break
            except ChildProcessError:
                break
        _wipe(hello.get("wipe", []))
        os.chdir(hello.get("home", "/"))
        _send(out, {"op": "child_exit", "status": status})


if __name__ == "__main__":  # python -m agchild.worker FD_IN FD_OUT
    main(int(sys.argv[1]), int(sys.argv[2]))
