"""The watchdog of one ``redis-server``: run as a script (standard library only), never imported.

``python _watchdog.py USERS_LOCK [--keep] [--state FILE] [--remove-dir DIR] [--log FILE]
[--pass-fd N] -- redis-server ...``

It starts ``redis-server`` as its child (umask 077, stdout and stderr going to the
watchdog's stderr, the log file), writes the server's pid as the first line of its stdout,
then waits; if the server exits by itself, a second line says how, with the log's tail.  The
server is stopped, always by SIGTERM and never by SIGKILL (a server finishing its last save is
left to finish), when no process holds a shared lock on ``USERS_LOCK`` any more (every user
closed or died, SIGKILL included), or when the watchdog gets SIGTERM (``hxredis server
stop``).  With ``--keep`` the watchdog counts as a user itself, so only SIGTERM stops it.
Afterwards the state file is removed if it still names this server and ``--remove-dir`` is
deleted.

Descriptors passed in (the data directory's lock) are inherited by the server, so the lock is
held exactly as long as the server process lives.  The server gets PR_SET_PDEATHSIG against
this single-threaded watchdog, so it also stops if the watchdog itself is killed.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time

POLL = 0.05  # seconds between checks for users and for the server's exit
RESEND = 30.0  # seconds between SIGTERMs while a server refuses to shut down


def _die_with_watchdog() -> None:
    os.umask(0o077)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _no_users(users: int) -> bool:
    try:
        fcntl.flock(users, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _stop(server: subprocess.Popen[bytes]) -> None:
    while server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(RESEND)
        except subprocess.TimeoutExpired:
            continue


def _remove_state(path: str, pid: int) -> None:
    try:
        with open(path) as f:
            if json.load(f).get("pid") != pid:
                return
        os.unlink(path)
    except (OSError, ValueError):
        pass


def _report_exit(code: int, log: str | None) -> None:
    """Tell the starter (if it still listens) how the server ended by itself."""
    lines: list[str] = []
    if log:
        try:
            with open(log, errors="replace") as f:
                lines = [line.strip() for line in f.read().splitlines()[-8:] if line.strip()]
        except OSError:
            pass
    with contextlib.suppress(OSError):  # nobody may listen any more
        print(f"exited with code {code}: {' | '.join(lines) or '(no output)'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("users_lock")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--state")
    parser.add_argument("--remove-dir")
    parser.add_argument("--log")
    parser.add_argument("--pass-fd", type=int, action="append", default=[])
    split = sys.argv.index("--")
    args = parser.parse_args(sys.argv[1:split])
    command = sys.argv[split + 1 :]
    stop_requested = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    users = os.open(args.users_lock, os.O_RDWR | os.O_CREAT, 0o600)
    if args.keep:
        fcntl.flock(users, fcntl.LOCK_SH)  # a user like any other, until SIGTERM
    try:
        server = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sys.stderr,
            stderr=sys.stderr,
            pass_fds=args.pass_fd,
            preexec_fn=_die_with_watchdog,
        )
    except OSError as exc:
        print(f"error cannot run {command[0]}: {exc}", flush=True)
        return
    for fd in args.pass_fd:
        os.close(fd)  # the server holds the data directory's lock from now on
    print(server.pid, flush=True)
    while server.poll() is None and not stop_requested:
        if not args.keep and _no_users(users):
            break
        time.sleep(POLL)
    if server.poll() is not None and not stop_requested:
        _report_exit(server.returncode, args.log)
    _stop(server)
    if args.state:
        _remove_state(args.state, server.pid)
    if args.remove_dir:
        shutil.rmtree(args.remove_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
