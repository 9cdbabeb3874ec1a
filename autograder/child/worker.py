"""The processes inside the sandbox: a trusted zygote, and the children that run student code.

* The zygote (zygote_main) runs harness code only. It imports the assignment's libraries once, then,
  for every request on its control socket, forks one child with the three pipe ends it was handed
  (requests in, replies out, printed output). When the child is gone it kills every process the
  child left, empties the writable folders, and says so on the control socket, which no child ever
  holds: nothing student code writes can be taken for the zygote's word.
* A child (serve) runs the submission's cells, then answers call requests with plain data only
  (wire.py): what the student's functions returned, printed, warned or raised, and what their
  arguments looked like afterwards. It never decides a score; the grading process compares. One
  child serves one question, so nothing one question does reaches another.

This package (worker, wire, kit) and the assignments' probes.py are the only harness code that
exists inside the sandbox, as a read-only copy named `agchild`. Standard library and NumPy only.
"""
import builtins
import importlib
import importlib.util
import json
import os
import select
import signal
import socket
import sys
import time
import traceback
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
        error = run_cell(ns, cell["source"], cell["index"], shorter.get(str(cell["index"]), hello.get("cell_timeout")))
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


# ---- the zygote ----------------------------------------------------------------------------------
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38


def _prctl(option, value):
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _apply_limits(limits):
    import resource
    for name, value in (limits or {}).items():
        which = getattr(resource, name, None)
        if which is not None:
            try:
                resource.setrlimit(which, (int(value), int(value)))
            except (ValueError, OSError):
                pass


def _drop_privileges(uid):
    """Become `uid` (group the same, no supplementary groups) for good, and never regain privilege."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def _wipe(paths):
    """Empty these folders, leaving mount points (data files bound into them) alone."""
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


def _ctl_send(ctl, message):
    ctl.sendall(json.dumps(message).encode("utf-8"))


def _ctl_receive(ctl):
    """(message, fds) from the grader; (None, []) when it has gone."""
    try:
        data, fds, _flags, _addr = socket.recv_fds(ctl, 65536, 4)
    except OSError:
        return None, []
    if not data:
        return None, fds
    try:
        return json.loads(data.decode("utf-8")), fds
    except ValueError:
        return {}, fds


def _wait_child(ctl, pid):
    """Wait for the child to end, or kill it when the grader says so. Returns its wait status."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    while True:
        watch = [ctl] + ([pidfd] if pidfd is not None else [])
        ready, _, _ = select.select(watch, [], [], None if pidfd is not None else 0.05)
        if ctl in ready:
            msg, fds = _ctl_receive(ctl)
            for fd in fds:
                os.close(fd)
            if msg is None:
                os._exit(0)  # the grader is gone: so is everything here
            if msg.get("op") == "kill":
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            if pidfd is not None:
                os.close(pidfd)
            return status


def _clean_up(pid, own_pid_namespace, wipe):
    """Nothing of the child survives it: every process it left, every file it wrote."""
    if own_pid_namespace:
        try:
            os.kill(-1, signal.SIGKILL)  # every process here but us and the namespace's init
        except OSError:
            pass
    else:
        try:
            os.killpg(pid, signal.SIGKILL)  # the child's own session (see zygote_main)
        except OSError:
            pass
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG) == (0, 0):
                break
        except ChildProcessError:
            break
    _wipe(wipe)


def zygote_main(ctl_fd):
    """The warm parent: imports the heavy libraries once, then forks one child per request.

    hello: {"preload": [modules], "wipe": [folders], "pidns": bool, "home": folder}
    fork:  {"op": "fork", "limits": {RLIMIT_*: n}, "drop_to": uid | None} with three fds
           (requests in, replies out, printed output); answered {"op": "forked"}, then, once the
           child and all it left are gone and the folders are empty, {"op": "child_exit", "status": n}.
    kill:  {"op": "kill"} while a child runs: SIGKILL it.
    It is not dumpable: student code can neither ptrace it nor read its memory.
    """
    _prctl(PR_SET_DUMPABLE, 0)
    ctl = socket.socket(fileno=ctl_fd)
    hello, _ = _ctl_receive(ctl)
    if not hello:
        os._exit(0)
    for name in hello.get("preload", []):
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - a missing optional library costs only its questions
            pass
    if "numpy" in sys.modules:  # NumPy 2 loads numpy.random on first use: 12 ms of every child
        try:
            sys.modules["numpy"].random.default_rng(0)
        except Exception:  # noqa: BLE001
            pass
    if hello.get("assignment"):
        try:
            probe_table(hello["assignment"])  # once here, not in every child
        except Exception:  # noqa: BLE001 - a broken probes.py costs only the calls that need it
            pass
    own_pid_namespace = bool(hello.get("pidns")) and os.getpid() < 10
    _ctl_send(ctl, {"op": "zygote_ready"})
    while True:
        msg, fds = _ctl_receive(ctl)
        if msg is None or msg.get("op") != "fork" or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            if msg is None or msg.get("op") == "exit":
                os._exit(0)
            continue
        pid = os.fork()
        if pid == 0:
            try:
                ctl.close()
                _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
                if not own_pid_namespace:
                    os.setsid()
                os.chdir(hello.get("home") or "/")
                if msg.get("drop_to") is not None:
                    _drop_privileges(int(msg["drop_to"]))
                _apply_limits(msg.get("limits"))
                fd_in, fd_out, fd_log = fds
                os.dup2(fd_log, 1)
                os.dup2(fd_log, 2)
                os.close(fd_log)
                serve(fd_in, fd_out)
            finally:
                os._exit(0)
        for fd in fds:
            os.close(fd)
        _ctl_send(ctl, {"op": "forked"})
        status = _wait_child(ctl, pid)
        _clean_up(pid, own_pid_namespace, hello.get("wipe", []))
        _ctl_send(ctl, {"op": "child_exit", "status": status})
