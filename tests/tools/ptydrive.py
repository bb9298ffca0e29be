#!/usr/bin/env python3
"""ptydrive.py STEP... -- CMD [ARG...]: runs CMD on a new pseudo-terminal and
drives it, step by step:
  expect:TEXT   read until TEXT appears in the output (20 s at most, else fail)
  send:TEXT     type TEXT (Python escapes: \\n, \\x1d for Ctrl-])
  exit:N        wait for CMD to exit (20 s at most) and require status N
All output is copied to stdout. Exit status 0 when every step held, else 1
with the reason on stderr."""
import os, pty, select, sys, time

def main():
    if "--" not in sys.argv:
        sys.exit("usage: ptydrive.py STEP... -- CMD [ARG...]")
    i = sys.argv.index("--")
    steps, cmd = sys.argv[1:i], sys.argv[i + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    eof = False

    def pump(timeout):
        nonlocal seen, eof
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            eof = True
            return
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        seen += data

    for step in steps:
        kind, _, arg = step.partition(":")
        deadline = time.monotonic() + 20
        if kind == "expect":
            want = arg.encode()
            while want not in seen:
                if eof or time.monotonic() > deadline:
                    sys.stderr.write("ptydrive: never saw %r\n" % arg)
                    return 1
                pump(0.2)
            seen = seen[seen.index(want) + len(want):]
        elif kind == "send":
            os.write(fd, arg.encode().decode("unicode_escape").encode("latin-1"))
        elif kind == "exit":
            while True:
                w, status = os.waitpid(pid, os.WNOHANG)
                if w == pid:
                    break
                if time.monotonic() > deadline:
                    sys.stderr.write("ptydrive: the command did not exit\n")
                    os.kill(pid, 9)
                    return 1
                pump(0.2)
            while not eof:
                pump(0.2)
                if not select.select([fd], [], [], 0)[0]:
                    break
            code = os.waitstatus_to_exitcode(status)
            if code != int(arg):
                sys.stderr.write("ptydrive: exit status %d, expected %s\n" % (code, arg))
                return 1
        else:
            sys.stderr.write("ptydrive: unknown step %r\n" % step)
            return 1
    return 0

sys.exit(main())
