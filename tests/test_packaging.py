"""`pip install .` gives a working package: every subpackage, the prompts, and the `caching` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
import venv as venv_module
from pathlib import Path

from caching import CallRecorder, Emulator

from .helpers import CP, SONNET, text_of, user

ROOT = Path(__file__).parent.parent


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd), "COLUMNS": "100", "CACHING_ENV_FILE": os.devnull}
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )


def test_a_wheel_installed_in_a_fresh_venv_runs_plan_and_doctor(tmp_path: Path) -> None:
    # Build from a copy of the sources, so the build leaves nothing in the working tree.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "caching", source / "caching", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", source)

    # A fresh venv, and the package built into a wheel and installed in one pip run; the dependencies (setuptools
    # for the build among them) come from this venv's site-packages (no network), added with a .pth line, which does
    # not run this venv's editable hook, so the source tree stays off the path. The pip is this venv's too, run by
    # the fresh venv's Python (which sees it through that line), as `pip --python` would, less the second start of
    # pip that costs.
    venv = tmp_path / "venv"
    venv_module.create(venv, with_pip=False)
    python = venv / "bin" / "python"
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = run(
        python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", source, cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr
    assert "Created wheel for bedrock-prompt-caching-lab: " in installed.stdout, installed.stdout

    # One Python of the venv says where the package is and which pytest plugins it sees.
    code = (
        "import caching.planner, caching; print(caching.__file__); from importlib.metadata import entry_points as e; "
        "print(*[p.value for p in e(group='pytest11')])"
    )
    where, plugins = run(python, "-c", code, cwd=tmp_path).stdout.splitlines()
    assert where.startswith(str(site)), where
    assert "caching.check.pytest_plugin" in plugins.split()  # pytest finds the bedrock_emulator fixture

    planned = run(venv / "bin" / "caching", "plan", "blog-chat", cwd=tmp_path)
    assert planned.returncode == 0, planned.stderr
    assert "Cost by approach and TTL" in planned.stdout and "Best possible input cost (oracle)" in planned.stdout

    # A small recording: the same cached request twice, the second one reads.
    recorder = CallRecorder(tmp_path / "calls.jsonl")
    client = Emulator().session().client("bedrock-runtime")
    recorder.attach(client, "app")
    for _ in range(2):
        client.converse(modelId=SONNET, system=[{"text": text_of(2_100)}, CP], messages=[user("Hi")])
    doctored = run(venv / "bin" / "caching", "doctor", "calls.jsonl", cwd=tmp_path)
    assert doctored.returncode == 0, doctored.stderr
    flat = " ".join(doctored.stdout.split())
    assert "1 app 0 2,100 NEW PREFIX: first request like this" in flat
    assert "2 app 2,100 0 HIT: read 2,100 cached tokens" in flat
