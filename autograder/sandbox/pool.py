"""Warm sandboxes: a zygote per configuration imports the assignment's libraries once and forks one
child per question of each submission; idle zygotes wait in a pool shared by a grading process's
threads. The zygote's control socket is the only channel the grader trusts about a child's life,
and no child ever holds it (child/worker.py). CompileCache fills JAX's compilation cache once per
run, in a zygote of its own whose child runs no student code.
"""
import atexit
import concurrent.futures
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field, replace

from . import isolation, seccomp


# Every zygote is started from this one long-lived thread: a process's parent-death signal (ours and
# bubblewrap's --die-with-parent) fires when the *thread* that started it ends, and grading threads
# come and go while idle zygotes wait in the pool.
_SPAWNER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="zygote-spawner")


class SandboxGone(Exception):
    """The zygote or the child stopped answering (or said something that is not an answer)."""


class OutputSink(threading.Thread):
    """Drains a child's printed output; keeps the first `limit` bytes, counts the rest."""

    def __init__(self, fd, limit):
        super().__init__(daemon=True)
        self.stream = os.fdopen(fd, "rb", buffering=0)
        self.limit = limit
        self.kept = bytearray()
        self.total = 0
        self.start()

    def run(self):
        while True:
            try:
                chunk = self.stream.read(65536)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            self.total += len(chunk)
            room = self.limit - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]
        try:
            self.stream.close()
        except OSError:
            pass

    def text(self):
        out = self.kept.decode("utf-8", errors="replace")
        if self.total > len(self.kept):
            out += f"\n[... {self.total - len(self.kept)} more bytes of output not kept]"
        return out


@dataclass(frozen=True)
class SandboxSetup:
    """Everything a zygote is made from (and the pool's key)."""
    assignment: str = None
    data_files: tuple = ()            # ((name in the sandbox, host path), ...)
    preload: tuple = ("numpy",)
    env: tuple = ()                   # ((name, value), ...)
    xla_cache: str = None             # host folder of a CompileCache, bound read-only
    xla_writable: bool = False        # only the CompileCache's own warm-up zygote
    sandboxed: bool = True
    student_uid: int = 65534
    limits: object = field(default=None, compare=False, hash=False)

    def key(self):
        lim = self.limits
        return (self.assignment, self.data_files, self.preload, self.env, self.xla_cache, self.xla_writable,
                self.sandboxed, self.student_uid, lim.memory_mb, lim.processes, lim.file_mb, lim.output_kb)


class Zygote:
    """One warm sandbox (see child/zygote.py)."""

    def __init__(self, setup, wait=True):
        self.setup = setup
        limits = setup.limits
        self.stage = isolation.stage_child_package([setup.assignment] if setup.assignment else [])
        self.tmp = tempfile.mkdtemp(prefix=f"autograder-zygote-{os.getpid()}-")
        self.drop_to = None
        if not setup.sandboxed and os.geteuid() == 0:
            uid = isolation.fallback_uid()
            if isolation.reachable_by(uid, isolation.python_roots() + [self.stage]):
                self.drop_to = uid
                os.chown(self.tmp, uid, uid)
        os.chmod(self.tmp, 0o700 if self.drop_to is None else 0o755)
        if not setup.sandboxed:
            for name, path in setup.data_files:
                shutil.copyfile(path, os.path.join(self.tmp, name))
        self.ctl, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        filter_fd = seccomp.filter_fd() if setup.sandboxed else None
        xla = (setup.xla_cache, setup.xla_writable) if setup.xla_cache else None
        cmd, env, cwd = isolation.zygote_command(self.stage, self.tmp, dict(setup.data_files), theirs.fileno(),
                                                 filter_fd, limits, setup.sandboxed, setup.student_uid,
                                                 dict(setup.env), xla)
        self.cgroup = isolation.PidsCgroup(limits.processes)
        out_r, out_w = os.pipe()
        try:
            self.proc = _SPAWNER.submit(
                subprocess.Popen, cmd, stdin=subprocess.DEVNULL, stdout=out_w, stderr=out_w, env=env, cwd=cwd,
                pass_fds=tuple(fd for fd in (theirs.fileno(), filter_fd) if fd is not None),
                preexec_fn=isolation.preexec(limits, self.cgroup.procs_file())).result()
        finally:
            theirs.close()
            os.close(out_w)
            if filter_fd is not None:
                os.close(filter_fd)
        self.sink = OutputSink(out_r, limits.output_kb * 1024)
        self.busy = False
        self.ready = False
        self._hello_error = None
        try:  # sent now, so that the zygote imports its libraries while the caller goes on
            self.send(self._hello())
        except SandboxGone as exc:
            self._hello_error = exc
        if wait:
            self.wait_ready()

    def _hello(self):
        setup = self.setup
        sandbox_home = isolation.HOME if setup.sandboxed else self.tmp
        wipe = ["/tmp", isolation.HOME, "/dev/shm"] if setup.sandboxed else [self.tmp]
        return {"op": "hello", "preload": list(setup.preload), "wipe": wipe, "pidns": setup.sandboxed,
                "home": sandbox_home, "assignment": setup.assignment}

    def wait_ready(self):
        """Wait for the zygote's answer to the hello the constructor sent (once). The process itself
        is started by the spawner thread: its parent-death signal is tied to that thread."""
        if self.ready:
            return
        try:
            if self._hello_error is not None:
                raise self._hello_error
            if self.receive(180).get("op") != "zygote_ready":
                raise SandboxGone("the warm sandbox did not start")
        except (SandboxGone, OSError) as exc:
            self.kill()
            self.sink.join(timeout=2)
            raise SandboxGone(f"{exc}: {self.sink.text()[-600:]}") from None
        self.ready = True

    # -- the control socket ---------------------------------------------------------------------------
    def send(self, message, fds=()):
        try:
            socket.send_fds(self.ctl, [json.dumps(message).encode("utf-8")], list(fds))
        except OSError as exc:
            raise SandboxGone(f"the warm sandbox closed its control socket ({exc})") from None

    def receive(self, timeout):
        ready, _, _ = select.select([self.ctl], [], [], max(0.0, timeout))
        if not ready:
            raise SandboxGone("the warm sandbox did not answer")
        try:
            data = self.ctl.recv(65536)
        except OSError as exc:
            raise SandboxGone(f"the warm sandbox's control socket failed ({exc}) {self._said()}") from None
        if not data:
            raise SandboxGone(f"the warm sandbox ended {self._said()}")
        try:
            msg = json.loads(data.decode("utf-8"))
        except ValueError:
            raise SandboxGone("the warm sandbox sent garbage") from None
        return msg if isinstance(msg, dict) else {}

    def _said(self):
        """The zygote's own last words (harness output only: children print elsewhere)."""
        code = self.proc.poll() if getattr(self, "proc", None) is not None else None
        return f"[exit {code}] {self.sink.text()[-400:]}".strip()

    # -- children -------------------------------------------------------------------------------------
    def fork(self, limits):
        """A fresh child; returns (to_child fd, from_child fd, OutputSink of what it prints)."""
        self.wait_ready()
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        log_r, log_w = os.pipe()
        mem, fsize = limits.memory_mb * 1024 * 1024, limits.file_mb * 1024 * 1024
        try:
            self.send({"op": "fork", "drop_to": self.drop_to,
                       "limits": {"RLIMIT_AS": mem, "RLIMIT_CPU": limits.cpu_seconds, "RLIMIT_FSIZE": fsize,
                                  "RLIMIT_CORE": 0}}, fds=(req_r, rep_w, log_w))
        finally:
            for fd in (req_r, rep_w, log_w):
                os.close(fd)
        try:
            if self.receive(30).get("op") != "forked":
                raise SandboxGone("the warm sandbox did not fork")
        except SandboxGone:
            for fd in (req_w, rep_r, log_r):
                os.close(fd)
            raise
        self.busy = True
        return req_w, rep_r, OutputSink(log_r, limits.output_kb * 1024)

    def end_child(self, kill=False, patience=15.0):
        """Wait until the zygote reports its child gone (after SIGKILL when kill=True). False when the
        zygote did not: then it is killed itself and must not be reused."""
        try:
            if kill:
                self.send({"op": "kill"})
            while True:
                msg = self.receive(patience)
                if msg.get("op") == "child_exit":
                    self.busy = False
                    return True
        except SandboxGone:
            self.kill()
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if getattr(self, "proc", None) is not None:
            isolation.kill_tree(self.proc, self.cgroup)
            self.proc = None
        try:
            self.ctl.close()
        except OSError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)
        isolation.remove_stage(self.stage)


class ZygotePool:
    """Idle zygotes by configuration, shared by the grading threads of one process."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle = {}
        self.max_idle_per_key = max(2, os.cpu_count() or 1)
        self.max_idle = 2 * self.max_idle_per_key

    def acquire(self, setup, wait=True):
        key = setup.key()
        with self.lock:
            while self.idle.get(key):
                z = self.idle[key].pop()
                if z.alive() and not z.busy:
                    return z
                z.kill()
        return Zygote(setup, wait=wait)

    def prestart(self, setup, n):
        """Start up to n warm sandboxes of this configuration now (they import their libraries while
        the caller reads its submissions); they wait idle for the first acquire."""
        key = setup.key()
        with self.lock:
            have = len(self.idle.get(key, []))
        started = 0
        for _ in range(max(0, min(n, self.max_idle_per_key) - have)):
            try:
                z = Zygote(setup, wait=False)
            except (SandboxGone, OSError):
                break
            with self.lock:  # each one available as soon as it is started
                self.idle.setdefault(key, []).append(z)
            started += 1
        return started

    def release(self, z, reuse=True):
        if not reuse or not z.alive() or z.busy:
            z.kill()
            return
        with self.lock:
            group = self.idle.setdefault(z.setup.key(), [])
            total = sum(len(g) for g in self.idle.values())
            if len(group) < self.max_idle_per_key and total < self.max_idle:
                group.append(z)
                return
        z.kill()  # enough warm sandboxes of this kind are idle already

    def shutdown(self):
        with self.lock:
            zs = [z for group in self.idle.values() for z in group]
            self.idle.clear()
        for z in zs:
            z.kill()


POOL = ZygotePool()
atexit.register(POOL.shutdown)


class CompileCache:
    """JAX's compilation cache for one assignment, shared read-only by the student sandboxes of a
    grading process, so that XLA compiles the Keras network's training and prediction steps once
    instead of once per submission (about 2 s each).

    Only the harness's own code writes it: a warm-up zygote whose child runs no student code makes
    the spec's warm-up calls with a private staging folder bound writable; when it is done each file
    is moved into the shared folder by a rename, so a student sandbox sees a whole entry or none.
    Student sandboxes bind the shared folder read-only (JAX's cache trusts its entries: a writable
    one would let one student's code run in the next student's process).

    A finished warm-up is also stored (stored=True): a copy in the user's cache folder under a key of
    everything its programs depend on (stored_key), published whole by a rename with a COMPLETE
    mark, so that the next run and every `check` read it at once instead of warming up again. A
    stored folder is used only if it is complete, this user's own and writable by no one else."""

    def __init__(self, setup, calls, stored=True):
        self.error = None
        self.entries = 0
        self.reused = False
        self._stored = stored_compile_cache(setup, calls) if stored else None
        self.thread = None
        if self._stored is not None and _usable(self._stored):
            self.path, self._staging, self.reused = self._stored, None, True
            self.entries = len([n for n in os.listdir(self.path) if n != _COMPLETE])
            return
        self.path = tempfile.mkdtemp(prefix=f"autograder-xla-{os.getpid()}-")
        self._staging = tempfile.mkdtemp(prefix=f"autograder-xla-warmup-{os.getpid()}-")
        for d in (self.path, self._staging):
            os.chmod(d, 0o755)
        if os.geteuid() == 0:  # the warm-up sandbox writes as the student user
            os.chown(self._staging, setup.student_uid, setup.student_uid)
        warm = replace(setup, xla_cache=self._staging, xla_writable=True, preload=())
        self.thread = threading.Thread(target=self._warm, args=(warm, calls), name="xla-warmup", daemon=True)
        self.thread.start()

    def _warm(self, setup, calls):
        from .session import Session  # noqa: PLC0415
        try:
            session = Session([], setup, pool=None)
            with session:
                run = session.question("warm-up", setup.limits.question_seconds)
                for call in calls:
                    reply = run.call(call, timeout=setup.limits.call_seconds)
                    if not reply.get("ok"):
                        raise RuntimeError(f"warm-up call failed: {reply.get('error')}")
                run.close()
            for name in sorted(os.listdir(self._staging)):
                src = os.path.join(self._staging, name)
                if os.path.isfile(src) and not os.path.islink(src) and name != _COMPLETE:
                    shutil.copyfile(src, src + ".copy")  # owned by the grader, not the warm-up's user
                    os.chmod(src + ".copy", 0o644)
                    os.replace(src + ".copy", os.path.join(self.path, name))
                    self.entries += 1
            if self._stored is not None and self.entries:
                _publish(self.path, self._stored)
        except Exception as exc:  # noqa: BLE001 - without a cache every sandbox compiles for itself
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)

    def close(self):
        """Remove this run's folders (a warm-up still running dies with the grading process); a
        stored cache stays."""
        for d in (self.path, self._staging):
            if d and d != self._stored:
                shutil.rmtree(d, ignore_errors=True)


_COMPLETE = "COMPLETE"


def _stored_root():
    return isolation.user_cache_dir("xla")


_stored_keys = {}


def stored_key(setup, calls):
    """What the compiled programs depend on: the sandbox's configuration (backend, XLA flags, data),
    the warm-up calls, the harness code that makes them (the child package and the assignment's
    probes), the versions of JAX, jaxlib, Keras and NumPy, and this machine's processor. Computed
    once per process and configuration (it reads the harness files and /proc/cpuinfo)."""
    fields = (replace(setup, xla_cache=None, xla_writable=False).key(), repr(list(calls)))
    if fields not in _stored_keys:
        _stored_keys[fields] = _stored_key(setup, fields)
    return _stored_keys[fields]


def _stored_key(setup, fields):
    import hashlib  # noqa: PLC0415
    import importlib.metadata  # noqa: PLC0415
    import platform  # noqa: PLC0415
    digest = hashlib.sha256()
    digest.update(repr(fields).encode())
    for name in ("jax", "jaxlib", "keras", "numpy"):
        try:
            digest.update(f"{name}={importlib.metadata.version(name)};".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{name}=none;".encode())
    digest.update(platform.machine().encode())
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            digest.update("".join(sorted({ln for ln in fh if ln.startswith(("model name", "flags"))})).encode())
    except OSError:
        pass
    for path in isolation.harness_files([setup.assignment] if setup.assignment else []):
        with open(path, "rb") as fh:
            digest.update(hashlib.sha256(fh.read()).digest())
    return digest.hexdigest()[:24]


def stored_compile_cache(setup, calls):
    """The user's stored cache folder for these warm-up calls (it may not exist yet)."""
    return os.path.join(_stored_root(), f"{setup.assignment}-{stored_key(setup, calls)}")


def _usable(folder):
    """A complete stored cache that only this user can have written."""
    try:
        for path in (folder, os.path.join(folder, _COMPLETE)):
            st = os.lstat(path)
            if st.st_uid != os.geteuid() or st.st_mode & 0o022 or os.path.islink(path):
                return False
        return all(os.lstat(os.path.join(folder, n)).st_uid == os.geteuid() for n in os.listdir(folder))
    except OSError:
        return False


def _publish(path, folder):
    """Copy this run's finished cache to `folder`, whole or not at all (rename of a complete copy)."""
    parent = os.path.dirname(folder)
    os.makedirs(parent, mode=0o755, exist_ok=True)
    building = tempfile.mkdtemp(prefix=".building-", dir=parent)
    try:
        for name in sorted(os.listdir(path)):
            shutil.copyfile(os.path.join(path, name), os.path.join(building, name))
            os.chmod(os.path.join(building, name), 0o644)
        with open(os.path.join(building, _COMPLETE), "w", encoding="utf-8") as fh:
            fh.write("written by the autograder's warm-up sandbox (no student code)\n")
        os.chmod(building, 0o755)
        if os.path.isdir(folder) and not _usable(folder):
            shutil.rmtree(folder, ignore_errors=True)  # incomplete or not ours: replaced
        try:
            os.rename(building, folder)
        except OSError:
            pass  # another run published it first
    finally:
        shutil.rmtree(building, ignore_errors=True)


_compile_caches = {}
_compile_caches_lock = threading.Lock()


def compile_cache(setup, calls, stored=True):
    """The grading process's CompileCache for this configuration (started on first use; the stored
    one when it is there), or None without bubblewrap: an unsandboxed child could write to any
    folder it shares."""
    if not calls or not setup.sandboxed:
        return None
    key = (setup.key(), repr(calls), stored)
    with _compile_caches_lock:
        cache = _compile_caches.get(key)
        if cache is None:
            cache = _compile_caches[key] = CompileCache(setup, calls, stored=stored)
        return cache


def stored_cache_path(setup, calls):
    """The stored cache's folder when a complete one is there (a `check` reads it, never warms up)."""
    if not calls or not setup.sandboxed:
        return None
    folder = stored_compile_cache(setup, calls)
    return folder if _usable(folder) else None


def _close_compile_caches():
    with _compile_caches_lock:
        caches = list(_compile_caches.values())
        _compile_caches.clear()
    for cache in caches:
        cache.close()


atexit.register(_close_compile_caches)
