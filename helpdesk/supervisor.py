"""Run the processes of a Procfile, restart any that dies, stop them all on Ctrl-C or SIGTERM.

`make run` used honcho, which stops every process as soon as one exits: one worker killed by
the kernel's out-of-memory killer took the web server, beat and the embedded servers down
with it. honcho and foreman have no restart option, and supervisord or circus would bring a
configuration format of their own beside the Procfile; this is the small part we need:

- each Procfile line runs through ``/bin/sh -c`` (so ``$PORT`` expands as under honcho), in
  a process group of its own, its output prefixed with its name;
- a process that exits while the others run is restarted after a back-off (1 s, doubling up
  to 60 s; back to 1 s once it had run for 30 s), and every exit and restart is logged. What
  is left of its group (a Celery worker's pool children, gunicorn's workers) is killed first,
  so an orphan never holds a port or a task;
- SIGINT, SIGTERM or SIGHUP stops every group with SIGTERM, waits up to ``--grace`` seconds (Celery's
  warm shutdown finishes its tasks), then kills what is left, and exits 0.

    python -m helpdesk.supervisor [--procfile Procfile] [--grace 20]
"""

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

STABLE_AFTER_SECONDS = 30.0
BACKOFF_MAX_SECONDS = 60.0


def read_procfile(path: Path) -> dict[str, str]:
    """Process names and commands of a Procfile (``name: command`` lines; ``#`` comments)."""
    processes: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, command = line.partition(":")
        if not sep or not name.strip() or not command.strip():
            raise ValueError(f"{path}:{number}: expected 'name: command', got {line!r}")
        processes[name.strip()] = command.strip()
    return processes


_print_lock = threading.Lock()


def say(name: str, text: str) -> None:
    with _print_lock:
        sys.stdout.write(f"{time.strftime('%H:%M:%S')} {name:<10} | {text}\n")
        sys.stdout.flush()


@dataclass
class Child:
    name: str
    command: str
    backoff_base: float
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    pumps: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        # Own session and process group: the terminal's Ctrl-C reaches only the supervisor,
        # which then stops each group once, and a dead leader's children can be found.
        self.proc = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {self.command}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        say(self.name, f"started (pid {self.proc.pid}): {self.command}")
        pump = threading.Thread(target=self._pump, args=(self.proc,), daemon=True)
        pump.start()
        self.pumps = [pump]

    def _pump(self, proc: subprocess.Popen) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            say(self.name, raw.decode(errors="replace").rstrip("\n"))
        proc.stdout.close()

    def signal_group(self, signum: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
            os.killpg(self.proc.pid, signum)

    def exited(self, now: float) -> None:
        """Log the exit, clear what is left of the group, and plan the restart."""
        assert self.proc is not None
        code = self.proc.returncode
        how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
        self.signal_group(signal.SIGKILL)
        if now - self.started_at >= STABLE_AFTER_SECONDS:
            self.failures = 0
        delay = min(self.backoff_base * 2**self.failures, BACKOFF_MAX_SECONDS)
        self.failures += 1
        self.restart_at = now + delay
        say("supervisor", f"{self.name} (pid {self.proc.pid}) {how}; restarting in {delay:g}s")


class Supervisor:
    def __init__(self, processes: dict[str, str], *, grace: float = 20.0, backoff_base: float = 1.0):
        self.children = [Child(name, command, backoff_base) for name, command in processes.items()]
        self.grace = grace
        self.stopping = threading.Event()

    def request_stop(self, signum: int, _frame: object = None) -> None:
        if not self.stopping.is_set():
            say("supervisor", f"{signal.Signals(signum).name} received: stopping every process")
        self.stopping.set()

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, self.request_stop)
        for child in self.children:
            child.start()
        while not self.stopping.wait(0.2):
            now = time.monotonic()
            for child in self.children:
                if child.restart_at is not None:
                    if now >= child.restart_at:
                        child.start()
                elif child.proc is not None and child.proc.poll() is not None:
                    child.exited(now)
        self.stop_all()
        return 0

    def stop_all(self) -> None:
        running = [(c, c.proc) for c in self.children if c.restart_at is None and c.proc and c.proc.poll() is None]
        for child, _ in running:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child, proc in running:
            try:
                proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say("supervisor", f"{child.name} still running after {self.grace:g}s: killing it")
        for child in self.children:
            child.signal_group(signal.SIGKILL)  # anything its leader left behind
            if child.proc is not None:
                child.proc.wait()
            for pump in child.pumps:
                pump.join(timeout=2)
        say("supervisor", "every process stopped")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procfile", type=Path, default=Path("Procfile"))
    parser.add_argument("--grace", type=float, default=20.0, help="seconds between SIGTERM and SIGKILL")
    parser.add_argument("--backoff", type=float, default=1.0, help="first restart delay in seconds")
    args = parser.parse_args(argv)
    return Supervisor(read_procfile(args.procfile), grace=args.grace, backoff_base=args.backoff).run()


if __name__ == "__main__":
    sys.exit(main())
