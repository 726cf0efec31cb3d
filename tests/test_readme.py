"""The README's commands work: quick-start targets exist, every cheat-sheet line composes, every link resolves."""

from __future__ import annotations

import re
import shlex

import pytest

from tests.conftest import REPO

README = (REPO / "README.md").read_text()
CHEAT_SHEET = (REPO / "docs" / "cli.md").read_text().split("\n## Override cheat-sheet\n", 1)[1].split("\n## ", 1)[0]
COMMANDS = [line for line in re.findall(r"^dynrec .+$", README + CHEAT_SHEET, flags=re.M) if "-m " not in line]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_quick_start_targets_exist() -> None:
    makefile = (REPO / "Makefile").read_text()
    for target in ("demo", "test", "install", "bench"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
        assert f"make {target}" in README or target in ("install", "bench")
    assert "make test" in (REPO / ".ci" / "run").read_text()
    assert "torch==2.13.0" in makefile


@pytest.mark.parametrize("command", COMMANDS)
def test_cheat_sheet_command_composes(cli, command: str) -> None:
    words = shlex.split(command, comments=True)[1:]
    verb, args = words[0], [w for w in words[1:] if not w.startswith("--fail-under") and "=" in w and not w.startswith("test/")]
    config_dir = words[words.index("--config-dir") : words.index("--config-dir") + 2] if "--config-dir" in words else []
    result = cli(verb, "--print-config", *config_dir, *args)
    assert result.exit_code == 0, (command, result.output)


def test_cheat_sheet_is_not_empty() -> None:
    assert len(COMMANDS) >= 8


def test_cheat_sheet_user_ids_exist_in_the_sample(cli, tmp_path) -> None:
    import pandas as pd

    wanted = [u for line in re.findall(r"rank\.users=\[([^\]]*)\]", README + CHEAT_SHEET) for u in line.split(",") if u]
    assert wanted
    assert cli("prepare", f"run_dir={tmp_path / 'run'}").exit_code == 0
    users = set(pd.read_parquet(tmp_path / "run" / "prepare" / "users.parquet")["user_id"].astype(str))
    assert set(wanted) <= users, sorted(set(wanted) - users)


def test_make_help_lines_up_every_target() -> None:
    import subprocess

    shown = subprocess.run(["make", "--no-print-directory", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in shown.splitlines() if line.strip()]
    starts = {len(line) - len(line.split(maxsplit=1)[1]) for line in lines}
    assert len(lines) >= 8 and len(starts) == 1, lines


def api_example() -> str:
    """The ```python block of the README's "Python API" section."""
    section = README.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


@pytest.mark.slow
def test_python_api_example_runs(tmp_path) -> None:
    """The README's API example, as a user runs it: a script in a folder of their own."""
    import os
    import subprocess
    import sys

    (tmp_path / "example.py").write_text(api_example())
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "runs" / "api" / "metrics.json").exists()
    assert "user_id" in done.stdout and "title" in done.stdout  # the recommendation table was printed
    assert "['test/ndcg@10 = " in done.stdout and "< 0.5']" in done.stdout  # the gate failed and said why


def _anchors(page) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered."""
    seen: dict[str, int] = {}
    for heading in re.findall(r"^#+ (.+)$", _prose(page.read_text()), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        seen[slug] = seen.get(slug, -1) + 1
    return {slug if n == 0 else f"{slug}-{n}" for slug, count in seen.items() for n in range(count + 1)}


def _prose(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page) -> None:
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", re.sub(r"`[^`\n]*`", "", _prose(page.read_text()))):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
            broken.append(target)
    assert not broken, f"{page.name}: {broken}"


def test_documentation_list_names_every_page() -> None:
    section = README.split("\n## Documentation\n", 1)[1]
    assert {p.name for p in (REPO / "docs").glob("*.md")} == set(re.findall(r"\(docs/([\w-]+\.md)\)", section))
