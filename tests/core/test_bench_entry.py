"""``make bench`` runs ``python -m bench``: a package of its own, outside the application packages."""

import subprocess
import sys
from pathlib import Path

from bench.__main__ import parse_args

PROJECT_DIR = Path(__file__).resolve().parents[2]
APP_PACKAGES = ("helpdesk", "tickets", "sla", "knowledgebase", "reports")


def test_the_bench_explains_its_options_without_a_database():
    # --help is answered before Django starts, like ``manage.py <command> --help`` was.
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    for option in ("--tickets", "--articles", "--outbox", "--duration", "--small", "--kb-only", "--keep"):
        assert option in result.stdout


def test_small_sizes_replace_the_defaults():
    assert (parse_args([]).tickets, parse_args([]).articles) == (1_000_000, 100_000)
    small = parse_args(["--small"])
    assert (small.tickets, small.outbox, small.duration, small.articles) == (20_000, 10_000, 3, 5_000)


def test_the_application_packages_carry_no_benchmark_code():
    # The production image installs these packages; the benchmark stays in the repository only.
    for package in APP_PACKAGES:
        for path in (PROJECT_DIR / package).rglob("*.py"):
            assert not path.name.startswith("bench"), path
            source = path.read_text()
            assert "from bench" not in source and "import bench" not in source, path
