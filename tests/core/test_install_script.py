"""scripts/ensure-debian-package.sh waits for apt's locks instead of failing.

apt-get itself is replaced by a stand-in on PATH that answers like apt 2.6 does while another
package operation holds the lock; nothing is installed.
"""

import os
import subprocess
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
SCRIPT = PROJECT_DIR / "scripts" / "ensure-debian-package.sh"

# Fails `update` with apt's lock message while the counter file says the lock is still held,
# and records every call's arguments.
FAKE_APT_GET = """#!/usr/bin/env bash
echo "$*" >> "$FAKE_DIR/calls"
for arg in "$@"; do
    if [ "$arg" = update ]; then
        held=$(cat "$FAKE_DIR/held")
        if [ "$held" -gt 0 ]; then
            echo $((held - 1)) > "$FAKE_DIR/held"
            echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 1 (apt-get)" >&2
            exit 100
        fi
        exit "${FAKE_UPDATE_EXIT:-0}"
    fi
done
exit 0
"""


def run_script(tmp_path: Path, *, held: int, update_exit: int = 0, timeout: int = 30) -> subprocess.CompletedProcess:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text(FAKE_APT_GET)
    (bin_dir / "id").write_text("#!/bin/sh\necho 0\n")  # behave as root: no sudo needed
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    (tmp_path / "held").write_text(str(held))
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_DIR": str(tmp_path),
        "FAKE_UPDATE_EXIT": str(update_exit),
        "APT_LOCK_RETRY_SECONDS": "0.1",
        "APT_LOCK_TIMEOUT": str(timeout),
    }
    return subprocess.run(
        ["bash", str(SCRIPT), "some-package", "/nonexistent/some-binary"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_update_waits_while_the_package_lists_are_locked_then_installs(tmp_path):
    result = run_script(tmp_path, held=3)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    updates = [call for call in calls if " update" in call]
    installs = [call for call in calls if " install " in call]
    assert len(updates) == 4  # three refusals while locked, then the update that ran
    assert len(installs) == 1 and installs[0].endswith("some-package")
    # both commands also wait for the dpkg lock themselves
    assert all(call.startswith("-o DPkg::Lock::Timeout=30 ") for call in calls)
    assert "waiting" in result.stdout


def test_other_update_errors_still_fail_at_once(tmp_path):
    result = run_script(tmp_path, held=0, update_exit=100)
    assert result.returncode == 100
    calls = (tmp_path / "calls").read_text().splitlines()
    assert len(calls) == 1  # no retry, no install


def test_gives_up_when_the_lock_outlives_the_timeout(tmp_path):
    result = run_script(tmp_path, held=10_000, timeout=1)
    assert result.returncode == 100
    assert "Could not get lock" in result.stderr
