"""A seccomp filter for bubblewrap's --seccomp: the system calls student code has no business making.

The filter refuses (EPERM) what could change the sandbox itself or reach outside it: mounting and
pivoting, new namespaces (unshare, setns, clone with a CLONE_NEW* flag; clone3 answers ENOSYS so
the C library falls back to clone, whose flags can be checked), ptrace and reading other
processes' memory, loading kernel code, keyrings, BPF, perf, userfaultfd, io_uring and the clock.
Everything else is allowed: the sandbox's other walls (read-only mounts, no capabilities, an
unprivileged user, limits) do the rest. Built by hand as classic BPF (no libseccomp binding is
needed); None on an architecture whose system-call numbers are not listed here.
"""
import errno
import os
import platform
import struct

_LD_W_ABS, _JEQ_K, _JSET_K, _JGE_K, _RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
_ALLOW, _ERRNO = 0x7FFF0000, 0x00050000
_NEW_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x80

_REFUSED = ("mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "ptrace", "process_vm_readv",
            "process_vm_writev", "kcmp", "pidfd_getfd", "kexec_load", "kexec_file_load", "init_module",
            "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct", "settimeofday",
            "clock_settime", "adjtimex", "clock_adjtime", "keyctl", "add_key", "request_key", "bpf",
            "perf_event_open", "userfaultfd", "open_by_handle_at", "name_to_handle_at", "quotactl",
            "lookup_dcookie", "syslog", "vhangup", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount",
            "open_tree", "mount_setattr", "io_uring_setup", "io_uring_enter", "io_uring_register", "iopl",
            "ioperm")

# (AUDIT_ARCH, {name: number}); names missing on an architecture are left out
_ARCHES = {
    "x86_64": (0xC000003E, {
        "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312, "pidfd_getfd": 438,
        "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
        "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168, "acct": 163, "settimeofday": 164,
        "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305, "keyctl": 250, "add_key": 248,
        "request_key": 249, "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "open_by_handle_at": 304,
        "name_to_handle_at": 303, "quotactl": 179, "lookup_dcookie": 212, "syslog": 103, "vhangup": 153,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
        "mount_setattr": 442, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "iopl": 172, "ioperm": 173, "clone": 56, "clone3": 435}),
    "aarch64": (0xC00000B7, {
        "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272, "pidfd_getfd": 438,
        "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
        "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "settimeofday": 170,
        "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266, "keyctl": 219, "add_key": 217,
        "request_key": 218, "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "open_by_handle_at": 265,
        "name_to_handle_at": 264, "quotactl": 60, "lookup_dcookie": 18, "syslog": 116, "vhangup": 58,
        "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428,
        "mount_setattr": 442, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "clone": 220, "clone3": 435}),
}


def _insn(code, k, jt=0, jf=0):
    return struct.pack("=HBBI", code, jt, jf, k)


def program(machine=None):
    """The compiled filter (bytes of struct sock_filter) for this machine, or None."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, numbers = arch
    refuse = _ERRNO | errno.EPERM
    out = [_insn(_LD_W_ABS, 4),                        # seccomp_data.arch
           _insn(_JEQ_K, audit_arch, 1, 0),
           _insn(_RET_K, refuse),                      # another ABI (x32, i386): refused
           _insn(_LD_W_ABS, 0)]                        # seccomp_data.nr
    if machine in (None, "x86_64") and audit_arch == 0xC000003E:
        out += [_insn(_JGE_K, 0x40000000, 0, 1), _insn(_RET_K, refuse)]  # x32 numbers
    for name in _REFUSED:
        if name in numbers:
            out += [_insn(_JEQ_K, numbers[name], 0, 1), _insn(_RET_K, refuse)]
    out += [_insn(_JEQ_K, numbers["clone3"], 0, 1), _insn(_RET_K, _ERRNO | errno.ENOSYS),
            _insn(_JEQ_K, numbers["clone"], 0, 3),
            _insn(_LD_W_ABS, 16),                      # args[0], low 32 bits: clone's flags
            _insn(_JSET_K, _NEW_NAMESPACES, 0, 1),
            _insn(_RET_K, refuse),
            _insn(_RET_K, _ALLOW)]
    return b"".join(out)


def filter_fd():
    """A readable fd holding the filter (for `bwrap --seccomp FD`), or None. The caller closes it."""
    prog = program()
    if prog is None:
        return None
    r, w = os.pipe()
    os.write(w, prog)  # a few hundred bytes: well under a pipe's buffer
    os.close(w)
    return r
