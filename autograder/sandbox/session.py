"""One submission's sandboxed runs: every question gets a fresh child forked from a warm zygote,
which runs the submission's cells and then that question's calls. A hang, crash, exit, patch or
stashed object in one question therefore reaches no other question, and each question has its
own wall-time budget. Everything a child sends is untrusted: any shape, any size, any garbage
becomes a fault of that call, read in linear time and bounded per message.
"""
import base64
import marshal
import os
import secrets
import select
import threading
import time

from ..child import wire
from . import pool as poolmod
from .pool import SandboxGone

_READ = 1 << 20


class Fault:
    """Why a call produced no answer (a reply of the same shape as the child's)."""

    @staticmethod
    def reply(kind, message):
        return {"ok": False, "error": {"type": kind, "message": message, "traceback": ""}, "fault": True,
                "seconds": 0.0, "warnings": []}


class _ChildGone(Exception):
    pass


class _Deadline(Exception):
    def __init__(self, which):
        super().__init__(which)
        self.which = which  # "call" or "question"


class _Reader:
    """JSON objects, one per line, from a child's reply pipe: linear time, at most `limit` bytes each."""

    def __init__(self, fd, limit):
        self.fd, self.limit = fd, limit
        self.buf = bytearray()
        self.scanned = 0

    def next(self, deadline, which):
        while True:
            end = self.buf.find(b"\n", self.scanned)
            if end >= 0:
                line = bytes(self.buf[:end])
                del self.buf[:end + 1]
                self.scanned = 0
                try:
                    msg = wire.loads(line.decode("utf-8"))
                except (wire.WireError, UnicodeDecodeError) as exc:
                    raise _ChildGone(f"it sent something that is not a valid message ({str(exc)[:80]})") from None
                if not isinstance(msg, dict):
                    raise _ChildGone(f"it sent a message that is not an object ({type(msg).__name__})")
                return msg
            self.scanned = len(self.buf)
            if len(self.buf) > self.limit:
                raise _ChildGone(f"it sent a reply larger than the limit ({self.limit // (1 << 20)} MB)")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Deadline(which)
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(self.fd, _READ)
            if not chunk:
                raise _ChildGone("the process ended")
            self.buf += chunk


_CODE_BUDGET = 16 << 20  # bytes of encoded bytecode per submission; the init message must stay far below wire's limit


def compiled_cells(cells, budget=_CODE_BUDGET):
    """The cells as the child receives them: each with its bytecode ("code", marshal, base64) compiled
    here once per submission instead of once per question in every child (1.7 ms of 03's 21 ms a
    question). Compiling runs nothing of the student's; a cell that does not compile, or comes after
    `budget` bytes of bytecode, goes as source only, and the child compiles it as before (and
    reports its error). The bytecode is of the student's source alone, which the child has anyway."""
    out = []
    for cell in cells:
        cell = dict(cell)
        cell.pop("code", None)
        try:
            code = base64.b64encode(marshal.dumps(compile(cell["source"], f"<cell {cell['index']}>", "exec",
                                                          dont_inherit=True))).decode("ascii")
            if len(code) <= budget:
                cell["code"] = code
                budget -= len(code)
        except (SyntaxError, ValueError, OverflowError, MemoryError, RecursionError, TypeError, KeyError):
            pass
        out.append(cell)
    return out


class Session:
    """The runs of one submission. cells: [{"index": i, "source": str}]; setup: pool.SandboxSetup."""

    def __init__(self, cells, setup, pool=poolmod.POOL):
        self.cells = cells
        self.setup = setup
        self.limits = setup.limits
        self.sandboxed = setup.sandboxed
        self.pool = pool
        self.skip = set()                 # cells that crashed or hung past their alarm: not run again
        self.cut_short = {}               # cells that ran into their alarm: run again with a short one
        self.cell_errors = {}             # index -> error dict, from the first complete run
        self.defined = []
        self.spoke = False                # a child answered at least once (Python started in it)
        self.faults = []
        self.outputs = []                 # what each child printed
        self.dropped = None               # without bubblewrap: whether children dropped privileges
        self._zygote = None
        self._zygote_lock = threading.Lock()
        self._first_run_done = False

    @property
    def cells(self):
        """What every child runs: the cells given ([{"index", "source"}]), each with its bytecode
        (compiled_cells), however they were given: here or later (grading's early session)."""
        return self._cells

    @cells.setter
    def cells(self, cells):
        self._cells = compiled_cells(cells)

    # -- the zygote, held for the whole submission ----------------------------------------------------
    def _zygote_now(self, wait=True):
        with self._zygote_lock:
            if self._zygote is None or not self._zygote.alive():
                self._zygote = (self.pool.acquire(self.setup, wait=wait) if self.pool
                                else poolmod.Zygote(self.setup, wait=wait))
                self.dropped = self._zygote.drop_to is not None
            return self._zygote

    def _give_back(self, reuse=True):
        z, self._zygote = self._zygote, None
        if z is None:
            return
        if self.pool is not None:
            self.pool.release(z, reuse=reuse)
        else:
            z.kill()

    def prepare(self):
        """Start (or take) the zygote ahead of the first question, in this thread, without waiting for
        it to be ready (it imports its libraries while the caller reads the submission); errors
        surface at the first call."""
        try:
            self._zygote_now(wait=False)
        except (SandboxGone, OSError):
            pass

    def question(self, name, seconds=None):
        return QuestionRun(self, name, seconds or self.limits.question_seconds)

    def output(self):
        """What the submission printed: the first run in full, then what later runs added to it."""
        if not self.outputs:
            return ""
        first = self.outputs[0]
        extra = []
        for text in self.outputs[1:]:
            extra.append(text[len(first):] if text.startswith(first) else text)
        return "\n".join(p for p in [first] + extra if p.strip())

    def close(self):
        self._give_back(reuse=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class QuestionRun:
    """One question: a child started lazily at the first call, restarted after a fault."""

    def __init__(self, session, name, seconds):
        self.session, self.name = session, name
        self.deadline = time.monotonic() + seconds
        self.child = None                  # (to fd, reader, sink)
        self.restarts = 0
        self.started = False

    # -- life of one child ---------------------------------------------------------------------------
    def _start(self):
        s = self.session
        while True:
            if time.monotonic() >= self.deadline:
                raise _Deadline("question")
            try:
                try:
                    to, frm, sink = s._zygote_now().fork(s.limits)
                except (SandboxGone, OSError):  # a pooled zygote that died meanwhile: one fresh try
                    s._give_back(reuse=False)
                    to, frm, sink = s._zygote_now().fork(s.limits)
            except (SandboxGone, OSError) as exc:
                s._give_back(reuse=False)
                s.faults.append(str(exc))
                raise _ChildGone(f"the sandbox could not start ({exc})") from None
            self.child = (to, _Reader(frm, s.limits.reply_mb * (1 << 20)), sink, frm)
            current = None
            first = not s._first_run_done
            try:
                self._send({"op": "init", "cells": s.cells, "skip": sorted(s.skip), "assignment": s.setup.assignment,
                            "cell_timeout": s.limits.cell_seconds, "cell_timeouts": s.cut_short})
                while True:
                    wait = s.limits.cell_seconds + 5 if current is not None else 120
                    msg = self._receive(min(self.deadline, time.monotonic() + wait), "call")
                    s.spoke = True
                    op = msg.get("op")
                    if op == "cell_start":
                        current = msg.get("index")
                    elif op == "cell_done":
                        error = msg.get("error") if isinstance(msg.get("error"), dict) else None
                        if first and error:
                            s.cell_errors[msg.get("index")] = error
                        if error and error.get("type") == "Timeout" and isinstance(msg.get("index"), int):
                            # what it defined before the alarm stays; later questions wait 1 s, not the full limit
                            s.cut_short[msg["index"]] = min(1.0, s.limits.cell_seconds)
                        current = None
                    elif op == "ready":
                        if first:
                            s.defined = [d for d in (msg.get("defined") or []) if isinstance(d, str)]
                            s._first_run_done = True
                        return
            except (_ChildGone, _Deadline) as exc:
                timed_out = isinstance(exc, _Deadline)
                self._end(kill=True)
                self.restarts += 1
                if current is None:
                    s.faults.append(str(exc))
                    raise
                if first:
                    kind = "Timeout" if timed_out else "Crash"
                    s.cell_errors[current] = {"type": kind, "message": str(exc), "traceback": ""}
                s.skip.add(current)
                if self.restarts > len(s.cells) + 3:
                    raise

    def _send(self, message):
        try:
            os.write(self.child[0], (wire.dumps(message) + "\n").encode("utf-8"))
        except OSError as exc:
            raise _ChildGone(f"it closed its input ({exc})") from None

    def _receive(self, deadline, which):
        return self.child[1].next(min(deadline, self.deadline), which if deadline < self.deadline else "question")

    def _end(self, kill):
        """Stop the current child (asked to exit, or killed) and keep what it printed."""
        if self.child is None:
            return
        to, _reader, sink, frm = self.child
        self.child = None
        s = self.session
        if not kill:
            try:
                os.write(to, b'{"op":"exit"}\n')
            except OSError:
                kill = True
        z = s._zygote
        ok = z.end_child(kill=kill, patience=5.0 if not kill else 15.0) if z is not None else False
        if not ok and not kill and z is not None and z.alive():
            ok = z.end_child(kill=True)
        if not ok:
            s._give_back(reuse=False)
        for fd in (to, frm):
            try:
                os.close(fd)
            except OSError:
                pass
        sink.join(timeout=2)
        s.outputs.append(sink.text())

    # -- calls ---------------------------------------------------------------------------------------
    def call(self, call, timeout=None, helpers=None):
        """Run one call; always returns a reply dict (a fault becomes an error reply). helpers: name ->
        trusted function that answers the child's stubs for the names in call["remote"]."""
        timeout = timeout or self.session.limits.call_seconds
        if self.child is None:
            try:
                self._start()
            except _Deadline:
                return Fault.reply("Timeout", "question")
            except _ChildGone as exc:
                return Fault.reply("Crash", str(exc))
        rid = f"{secrets.token_hex(8)}"
        try:
            self._send({"op": "call", "id": rid, "call": call, "timeout": timeout})
            call_deadline = time.monotonic() + timeout + 2.0
            while True:
                msg = self._receive(call_deadline, "call")
                op = msg.get("op")
                if op == "result":
                    if msg.get("id") != rid:
                        raise _ChildGone("it wrote a result for a call that was never made (forged)")
                    return msg
                if op == "helper":
                    self._answer_helper(msg, helpers or {}, call_deadline)
        except _Deadline as exc:
            self._end(kill=True)
            return Fault.reply("Timeout", exc.which if exc.which == "question" else f"{timeout:g}")
        except _ChildGone as exc:
            self._end(kill=True)
            return Fault.reply("Crash", str(exc))

    def _answer_helper(self, msg, helpers, deadline):
        """Run the reference helper the child asked for, here, and send its result. A function
        argument is a handle into the child: calling it asks the child (and waits for its answer)."""
        name = msg.get("name")
        fn = helpers.get(name) if isinstance(name, str) else None
        if fn is None:
            self._send({"op": "helper_result", "ok": False, "message": f"no reference helper {str(name)[:40]!r}"})
            return
        try:
            args = msg.get("args")
            kwargs = msg.get("kwargs")
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError("arguments are not plain data")
            args = [self._unpack(a, helpers, deadline) for a in args]
            kwargs = {str(k): self._unpack(v, helpers, deadline) for k, v in kwargs.items()}
            reply = {"op": "helper_result", "ok": True, "value": wire.encode(fn(*args, **kwargs))}
        except (_ChildGone, _Deadline):
            raise
        except Exception as exc:  # noqa: BLE001 - the student's arguments made the reference fail
            reply = {"op": "helper_result", "ok": False, "message": f"{type(exc).__name__}: {str(exc)[:200]}"}
        self._send(reply)

    def _unpack(self, data, helpers, deadline):
        if isinstance(data, dict) and set(data) == {"__callable__"}:
            handle = str(data["__callable__"])[:20]
            return lambda *a, **k: self._call_back(handle, a, k, helpers, deadline)
        return wire.decode(data)

    def _call_back(self, handle, args, kwargs, helpers, deadline):
        self._send({"op": "callback", "handle": handle, "args": wire.encode(list(args)), "kwargs": wire.encode(kwargs)})
        while True:
            msg = self._receive(deadline, "call")
            if msg.get("op") == "callback_result":
                if not msg.get("ok"):
                    raise RuntimeError(f"the student's function failed: {str(msg.get('message'))[:200]}")
                return wire.decode(msg.get("value"))
            if msg.get("op") == "helper":
                self._answer_helper(msg, helpers, deadline)

    def close(self):
        self._end(kill=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
