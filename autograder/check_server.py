"""A student's `autograder check` of a Keras assignment, kept warm between commands.

A cold check of one Keras question spends most of its time in a sandbox importing Keras and JAX;
the notebook's check cells keep such a sandbox warm for the kernel's lifetime (notebook.py). For the
command line, the first `autograder check` of an assignment with Keras questions, once it has
printed its result, starts a check server in the background: a grader-side process of the same
trust as the command (public cases only; it never runs student code itself) that keeps a warm
sandbox of the assignment. The next checks send it the notebook's path and print what comes back;
it grades each in a fresh child of its warm sandbox (`grading.grade_file`, the arguments the
command would have used), reading the notebook again every time.

- Where: a Unix socket in this user's runtime folder ($XDG_RUNTIME_DIR/autograder, else
  ~/.cache/autograder/run), a folder of mode 0700 owned by this user. No sandbox binds it
  (bubblewrap binds system folders, the Python environment and the data files only), and the server
  answers only connections of its own uid (SO_PEERCRED).
- Which: one server per assignment and set-up. The key hashes the assignment, the fingerprint a
  dask worker must match (cluster.package_fingerprint: the harness's sources, the assignment's spec,
  references, template and data files), the Python executable, the working directory and the
  AUTOGRADER_/KERAS_/JAX_/XLA_/TF_ environment: a changed package or setting gets a server of its
  own and the old one idles out.
- How long: it exits after `GraderConfig.check_server_idle_s` without a request
  (AUTOGRADER_CHECK_SERVER_IDLE, default 600 s; 0: no server, every check starts cold).
  `python -m autograder.check_server stop ASSIGNMENT` stops one at once.
- Anything wrong (no server, a refused or dropped connection, a reply that is not a result): the
  command grades the notebook itself, as it would without a server.
"""
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys

from .config import GraderConfig

_ENV_PREFIXES = ("AUTOGRADER_", "KERAS_", "JAX_", "XLA_", "TF_")
_MAX_REQUEST = 1 << 20


def folder(create=True):
    """This user's folder for check servers' sockets, or None where it is not private to this user."""
    from .sandbox.isolation import user_cache_dir
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = os.path.join(runtime, "autograder") if runtime else user_cache_dir("run")
    try:
        if create:
            os.makedirs(base, mode=0o700, exist_ok=True)
        st = os.lstat(base)
    except OSError:
        return None
    if not os.path.isdir(base) or os.path.islink(base) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return None
    return base


def server_key(assignment):
    """What a server's answers depend on besides the notebook: equal keys, equal checks. The
    package and the assignment as a dask worker must match them (cluster.package_fingerprint:
    harness sources, spec, references, template, data files), the Python executable, the working
    folder and the settings in the environment."""
    from .cluster import package_fingerprint
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES))
    text = json.dumps([assignment, package_fingerprint(assignment), sys.executable, os.getcwd(), env])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def socket_path(assignment, key=None, create=True):
    base = folder(create)
    if base is None:
        return None
    path = os.path.join(base, f"{assignment.split('_')[0]}-{(key or server_key(assignment))[:16]}.sock")
    return path if len(path.encode()) < 100 else None  # sun_path holds 108 bytes


def usable(assignment, config=None):
    """A server is worth having for this assignment here: its questions need Keras, servers are on
    (check_server_idle_s > 0), and this system has Unix sockets with peer credentials."""
    from . import spec as specmod
    config = config or GraderConfig.from_env()
    if config.check_server_idle_s <= 0 or not sys.platform.startswith("linux") or \
            not hasattr(socket, "AF_UNIX") or not hasattr(socket, "SO_PEERCRED"):
        return False
    try:
        return any(q.needs_keras for q in specmod.load_spec(assignment).questions)
    except Exception:  # noqa: BLE001
        return False


def ask(assignment, request, connect_timeout=5.0):
    """Send one request to the assignment's server; its reply (a dict), or None (no server, or any fault)."""
    path = socket_path(assignment, create=False)
    if path is None or not os.path.exists(path):
        return None
    try:
        st = os.lstat(path)
        if st.st_uid != os.geteuid():
            return None
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(connect_timeout)
            conn.connect(path)
            conn.settimeout(None)  # a check takes as long as it takes; a dead server closes the socket
            conn.sendall(json.dumps(request).encode() + b"\n")
            conn.shutdown(socket.SHUT_WR)
            data = _read_all(conn, limit=None)
        reply = json.loads(data.decode("utf-8"))
        return reply if isinstance(reply, dict) else None
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def check(assignment, path, given_assignment, questions, lang):
    """The result of `autograder check` as the server graded it (a SubmissionResult), or None."""
    from .outcome import SubmissionResult
    reply = ask(assignment, {"op": "check", "path": path, "assignment": given_assignment,
                             "questions": questions, "lang": lang})
    if not reply or not isinstance(reply.get("result"), dict):
        return None
    try:
        return SubmissionResult.from_json(reply["result"])
    except ValueError:
        return None


def start(assignment):
    """Start the assignment's server in the background (it returns at once; a second server of the
    same key gives way to the first)."""
    key = server_key(assignment)
    path = socket_path(assignment, key)
    if path is None:
        return None
    log = open(path[:-len(".sock")] + ".log", "ab")
    try:
        return subprocess.Popen([sys.executable, "-m", "autograder.check_server", "serve", assignment, key],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                close_fds=True, cwd=os.getcwd())
    except OSError:
        return None
    finally:
        log.close()


def stop(assignment):
    """Ask the assignment's server to exit; True if one answered."""
    return bool(ask(assignment, {"op": "exit"}))


def _read_all(conn, limit):
    chunks, size = [], 0
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if limit is not None and size > limit:
            raise ValueError("request too large")


def _peer_uid(conn):
    pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                         struct.calcsize("3i")))
    return uid


def _check(grading, config, request):
    """One check, graded as `autograder check` grades it."""
    questions = request.get("questions")
    return grading.grade_file(str(request["path"]), assignment=request.get("assignment"), include_hidden=False,
                              lang=request.get("lang"), questions=list(questions) if questions else None,
                              warm=True, config=config)


def serve(assignment, key):
    """The server's life: hold the key's lock, listen, warm a sandbox up, answer until idle."""
    import fcntl
    import select
    from . import grading
    config = GraderConfig.from_env()
    path = socket_path(assignment, key)
    if path is None or key != server_key(assignment):
        print(f"check server {assignment}: not started: {'no private socket folder' if path is None else 'another set-up'}",
              file=sys.stderr)
        return 2
    lock = open(path[:-len(".sock")] + ".lock", "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # one is running already
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_mask = os.umask(0o177)
    try:
        listener.bind(path)
    finally:
        os.umask(old_mask)
    listener.listen(16)
    mine = os.stat(path).st_ino
    checks = 0
    try:
        grading.prepare_run(assignment, 1, config=config, warm=True)
        while select.select([listener], [], [], config.check_server_idle_s)[0]:
            conn, _ = listener.accept()
            with conn:
                try:
                    if _peer_uid(conn) != os.geteuid():
                        continue
                    conn.settimeout(10)
                    request = json.loads(_read_all(conn, _MAX_REQUEST).decode("utf-8"))
                    conn.settimeout(None)
                    op = request.get("op") if isinstance(request, dict) else None
                    if op == "check":
                        reply = {"result": _check(grading, config, request).as_json()}
                        checks += 1
                    elif op == "status":
                        reply = {"pid": os.getpid(), "checks": checks, "key": key}
                    else:  # exit, or not a request: no more than an acknowledgement
                        reply = {"ok": True} if op == "exit" else None
                except Exception as exc:  # noqa: BLE001 - the command then grades the notebook itself
                    reply, op = {"error": f"{type(exc).__name__}: {exc}"}, None
                if reply is not None:
                    try:
                        conn.sendall(json.dumps(reply, ensure_ascii=False).encode())
                    except OSError:
                        pass
            if op == "exit":
                break
        return 0
    finally:
        try:
            if os.stat(path).st_ino == mine:
                os.unlink(path)
        except OSError:
            pass
        listener.close()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 3 and argv[0] == "serve":
        return serve(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "stop":
        from . import i18n
        key = "check_server_stopped" if stop(argv[1]) else "check_server_none"
        print(i18n.t(key, GraderConfig.from_env().lang, assignment=argv[1]))
        return 0
    print("usage: python -m autograder.check_server stop ASSIGNMENT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
