"""The warm parent inside the sandbox: trusted harness code only, never student code.

It imports the assignment's libraries once, then, for every request on its control socket, forks
one child with the three pipe ends it was handed (requests in, replies out, printed output) and runs
worker.serve in it. When the child is gone it kills every process the child left, empties the
writable folders, and says so on the control socket, which no child ever holds: nothing student code
writes can be taken for the zygote's word.
"""
import json
import os
import select
import signal
import socket
import sys

try:  # inside the sandbox the package is `agchild`; in the repository `autograder.child`
    from .kit import LAZY_AT_PRELOAD, defer_tensorflow, lazy_modules, preload_jax_lowering
    from .worker import probe_table, serve
except ImportError:  # pragma: no cover
    from kit import LAZY_AT_PRELOAD, defer_tensorflow, lazy_modules, preload_jax_lowering  # type: ignore
    from worker import probe_table, serve  # type: ignore

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
    with lazy_modules(LAZY_AT_PRELOAD):  # Keras's scikit-learn wrappers: when first used
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
    try:
        defer_tensorflow()  # Keras on JAX: TensorFlow only if the submission imports it
        preload_jax_lowering()  # and what JAX imports on its first lowering, once here
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
