"""helpdesk.supervisor: restarts a dead process while the others keep running; stops all cleanly."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpdesk.supervisor import read_procfile
from tests.conftest import PROJECT_DIR, child_pids, test_database_url, wait_until

SLEEPER = f"{sys.executable} -c 'import time; time.sleep(600)'"


class Supervised:
    """``python -m helpdesk.supervisor`` on a Procfile written by the test; output in a file."""

    def __init__(self, tmp_path: Path, procfile: str, *args: str, env: dict | None = None):
        (tmp_path / "Procfile").write_text(procfile)
        self.log_path = tmp_path / "supervisor.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "helpdesk.supervisor", "--procfile", str(tmp_path / "Procfile"), *args],
            cwd=PROJECT_DIR,
            env={**os.environ, "PYTHONPATH": str(PROJECT_DIR), **(env or {})},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pids(self, name: str) -> list[int]:
        """Pid of every start of process ``name``, in order."""
        return [int(pid) for pid in re.findall(rf"{name}\s+\| started \(pid (\d+)\)", self.log())]

    def wait_for_starts(self, name: str, count: int, timeout: float = 20) -> list[int]:
        return wait_until(lambda: (p := self.pids(name)) and len(p) >= count and p, timeout=timeout, message=name)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is gone for our purpose
    return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][:1] != "Z"


def group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(") ", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def test_reads_a_procfile(tmp_path):
    path = tmp_path / "Procfile"
    path.write_text("# comment\nweb: python -m helpdesk.web\n\nworker: celery -A helpdesk worker --concurrency 2\n")
    assert read_procfile(path) == {
        "web": "python -m helpdesk.web",
        "worker": "celery -A helpdesk worker --concurrency 2",
    }
    path.write_text("web python -m helpdesk.web\n")
    with pytest.raises(ValueError, match="expected 'name: command'"):
        read_procfile(path)


def test_killed_process_is_restarted_while_the_other_keeps_running_and_sigterm_stops_all(tmp_path):
    # `worker` leaves a child of its own behind, as Celery's pool does.
    procfile = f"worker: {SLEEPER} & {SLEEPER}\nweb: {SLEEPER}\n"
    sup = Supervised(tmp_path, procfile)
    try:
        [worker] = sup.wait_for_starts("worker", 1)
        [web] = sup.wait_for_starts("web", 1)
        wait_until(lambda: len(group_members(worker)) >= 2, timeout=10, message="worker and its children")
        os.kill(worker, signal.SIGKILL)

        first, second = sup.wait_for_starts("worker", 2)
        assert first == worker and second != worker
        assert f"worker (pid {worker}) killed by signal 9; restarting in 1s" in sup.log()
        assert group_members(worker) == []  # the orphaned child went with its leader
        assert alive(web) and sup.pids("web") == [web]  # never touched

        sup.proc.send_signal(signal.SIGTERM)
        assert sup.proc.wait(15) == 0
        assert "every process stopped" in sup.log()
        assert not alive(web) and not alive(second) and group_members(second) == []
    finally:
        sup.close()


def test_crash_loop_backs_off_and_ctrl_c_stops(tmp_path):
    sup = Supervised(
        tmp_path, f"crash: {sys.executable} -c 'raise SystemExit(3)'\nweb: {SLEEPER}\n", "--backoff", "0.2"
    )
    try:
        sup.wait_for_starts("crash", 4)
        delays = [
            float(d) for d in re.findall(r"crash \(pid \d+\) exited with code 3; restarting in ([\d.]+)s", sup.log())
        ]
        assert delays[:3] == [0.2, 0.4, 0.8]  # doubling
        [web] = sup.pids("web")
        assert alive(web)
        sup.proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
        assert sup.proc.wait(15) == 0
        assert not alive(web)
    finally:
        sup.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_real_worker_killed_is_restarted_while_web_keeps_answering(tmp_path):
    """The Procfile's kind of commands: a Celery worker (main process and pool) and a web server."""
    port = free_port()
    procfile = (
        # its own queue, so it takes nothing meant for the suite's session worker
        "worker: celery -A helpdesk worker --loglevel INFO --concurrency 1 -Q supervisor-test"
        " --without-heartbeat --without-gossip --without-mingle\n"
        f"web: {sys.executable} -m http.server --bind 127.0.0.1 $PORT\n"
    )
    env = {
        "DATABASE_URL": test_database_url(),
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings.test",
        "PORT": str(port),
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    sup = Supervised(tmp_path, procfile, env=env)

    def web_answers() -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
            return response.status == 200

    try:
        [worker] = sup.wait_for_starts("worker", 1)
        wait_until(lambda: sup.log().count("ready.") == 1, timeout=60, message="worker ready")
        wait_until(lambda: len(group_members(worker)) >= 2, timeout=10, message="worker pool")
        web = sup.wait_for_starts("web", 1)[0]
        wait_until(web_answers, timeout=10, message="web answers")

        os.kill(worker, signal.SIGKILL)  # what the out-of-memory killer does
        deadline = time.monotonic() + 60
        while sup.log().count("ready.") < 2:
            assert web_answers()  # web keeps serving while the worker is down and restarting
            assert time.monotonic() < deadline, sup.log()[-3000:]
            time.sleep(0.3)
        assert len(sup.pids("worker")) == 2
        assert group_members(worker) == []  # its pool children did not linger
        assert sup.pids("web") == [web] and alive(web)

        sup.proc.send_signal(signal.SIGTERM)
        assert sup.proc.wait(30) == 0
        assert not alive(web)
    finally:
        sup.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_make_run_chain_stops_everything_on_a_signal_to_its_first_process(tmp_path, signum):
    """`make run` is embedded -> make -> sh -> make -> supervisor: a signal to the first stops all."""
    (tmp_path / "Procfile").write_text(f"web: {SLEEPER}\n")
    # The shape of the real Makefile's serve -> serve-app (a shell line, then a nested make).
    (tmp_path / "Makefile").write_text(
        "serve:\n"
        '\t@url="$$(echo app)" && ROLE="$$url" $(MAKE) -f $(CURDIR)/Makefile --no-print-directory serve-app\n'
        "serve-app:\n"
        f"\t{sys.executable} -m helpdesk.supervisor --procfile $(CURDIR)/Procfile\n"
    )
    log = (tmp_path / "run.log").open("wb")
    run = subprocess.Popen(
        [sys.executable, "-m", "helpdesk.embedded", "run", "--", "make", "-C", str(tmp_path), "serve"],
        cwd=PROJECT_DIR,
        # URLs already set: the embedded servers are neither started nor stopped here
        env={
            **os.environ,
            "PYTHONPATH": str(PROJECT_DIR),
            "DATABASE_URL": "postgresql:///x",
            "REDIS_URL": "redis:///x",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def text() -> str:
        return (tmp_path / "run.log").read_text(errors="replace")

    try:
        started = wait_until(lambda: re.search(r"web\s+\| started \(pid (\d+)\)", text()), timeout=20)
        web = int(started.group(1))
        [first_make] = child_pids(run.pid)
        make_group = os.getpgid(first_make)
        assert make_group != os.getpgid(run.pid)  # its own group, which every signal is passed to
        assert len(group_members(make_group)) >= 4  # make, sh, make, supervisor

        run.send_signal(signum)
        run.wait(30)
        assert "every process stopped" in text()  # the supervisor stopped its processes itself
        assert not alive(web)
        assert group_members(make_group) == []  # no make or supervisor left behind
    finally:
        if run.poll() is None:
            run.kill()
        log.close()
