#!/usr/bin/env python3
"""Drives an --init server's console relay (`vserver-monitor --console-relay`)
by itself, as the start helper runs it: the pty's master on fd 3, its other
side on fd 4, a pidfd of "init" (here a sleep) on fd 5, pipes as stdin and
stdout (the monitor's). Nobody reads the pty's other side, as when nothing in
the server reads /dev/console.

  relaydrive.py MONITOR input    input nobody reads fills the pty: output
                                 written on the console still reaches stdout
  relaydrive.py MONITOR output   nobody reads stdout: writes to the console
                                 still go through (the relay drops what the
                                 log cannot take) and the relay still ends
                                 when init does

Prints what it saw; exits 0 when the relay kept going, 1 when it stalled."""
import fcntl
import os
import select
import signal
import sys
import time


def start_relay(mon):
    master, peer = os.openpty()
    init = os.fork()
    if init == 0:
        os.execvp("sleep", ["sleep", "1000"])
    pfd = os.pidfd_open(init)
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    relay = os.fork()
    if relay == 0:
        # above every target first, then onto 3-5
        high = [os.dup2(fd, 100 + i) for i, fd in enumerate((master, peer, pfd))]
        os.dup2(in_r, 0)
        os.dup2(out_w, 1)
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i)
        os.closerange(6, 4096)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.execv(mon, ["vserver-console", "--console-relay"])
    for fd in (master, pfd, in_r, out_w):
        os.close(fd)
    return init, relay, peer, in_w, out_r


def set_nonblock(fd):
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def write_for(fd, total, seconds):
    """Writes up to total bytes without blocking, for at most seconds;
    returns how many went through."""
    set_nonblock(fd)
    chunk = b"x" * 4095 + b"\n"
    done, end = 0, time.monotonic() + seconds
    while done < total and time.monotonic() < end:
        try:
            done += os.write(fd, chunk[: min(len(chunk), total - done)])
        except BlockingIOError:
            select.select([], [fd], [], 0.05)
    return done


def read_until(fd, marker, seconds):
    set_nonblock(fd)
    got, end = b"", time.monotonic() + seconds
    while marker not in got and time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                break
            got += data
    return got


def gone(pid, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return True
        time.sleep(0.05)
    return False


def main():
    mon, mode = sys.argv[1], sys.argv[2]
    init, relay, peer, in_w, out_r = start_relay(mon)
    ok = True
    try:
        if mode == "input":
            # 1 MiB typed at a console nobody reads: more than the pty and
            # the input pipe hold together
            n = write_for(in_w, 1 << 20, 2)
            print(f"input accepted: {n} bytes")
            os.write(peer, b"still-relayed\r\n")
            got = read_until(out_r, b"still-relayed\n", 5)
            ok = b"still-relayed\n" in got
            print("console output after the input stall:", "arrived" if ok else "stalled")
        else:
            # 4 MiB written on the console while nobody reads the log
            n = write_for(peer, 4 << 20, 5)
            print(f"console accepted: {n} bytes")
            ok = n == 4 << 20
            got = read_until(out_r, b"dropped", 5)
            print("the log says so:", "yes" if b"bytes of console output dropped" in got else "no")
            ok = ok and b"bytes of console output dropped" in got
        # init ends: so does the relay
        os.kill(init, signal.SIGKILL)
        os.waitpid(init, 0)
        read_until(out_r, b"\0", 1)
        ended = gone(relay, 5)
        print("relay ended with init:", "yes" if ended else "no")
        ok = ok and ended
    finally:
        for pid in (init, relay):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
