"""Issue 22's hostile corpus folders: every odd entry is that entry's problem, never a crash.

Rows 2-4 of the trial: a file or folder the bot's user cannot read, a symlink loop, a
link out of the corpus to private data, plus pipes and broken links. The rule (README,
"The corpus format"): a file is read only if, with its links resolved, it is a regular
file inside the corpus folder.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from corpus.listing import read_file
from corpus.load import load_corpus
from tests.helpers.privileges import needs_root, run_unprivileged
from tests.test_service import LINLI

GOOD = "---\ntitle: 老年食堂开张\ndate: 2021-07\n---\n社区开设了老年食堂，每天中午供应午餐。\n"
SECRET = "内部通讯录 机密电话 13800000000 老年食堂负责人\n老年食堂 机密电话 值班表 13800000000。\n"


def lock_up(corpus: Path) -> None:
    """Add a mode-000 article and a mode-000 folder holding one."""
    (corpus / "locked.md").write_text(GOOD, encoding="utf-8")
    (corpus / "closed").mkdir()
    (corpus / "closed" / "a.md").write_text(GOOD, encoding="utf-8")
    (corpus / "locked.md").chmod(0)
    (corpus / "closed").chmod(0)


def messages(corpus: Path) -> dict[str, str]:
    return {p.path: p.message for p in load_corpus(corpus).problems}


def test_a_symlink_loop_is_that_entrys_error_and_the_rest_loads(corpus_dir: Path) -> None:
    (corpus_dir / "loop").symlink_to(".")
    (corpus_dir / "sub").mkdir()
    (corpus_dir / "sub" / "up").symlink_to("..")
    (corpus_dir / "self.md").symlink_to("self.md")
    loaded = load_corpus(corpus_dir)
    assert len(loaded.articles) == 4
    found = messages(corpus_dir)
    assert found["loop"] == "is a link to a folder that holds it (a loop)"
    assert found["sub/up"] == "is a link to a folder that holds it (a loop)"
    assert found["self.md"] == "is a link that loops back on itself"
    assert all(p.level == "error" for p in loaded.problems)


def test_a_link_out_of_the_corpus_is_refused_and_never_read(corpus_dir: Path,
                                                            tmp_path: Path) -> None:
    outside = tmp_path / "linli.env"
    outside.write_text(SECRET, encoding="utf-8")
    (corpus_dir / "passwd.txt").symlink_to("/etc/passwd")
    (corpus_dir / "status.txt").symlink_to("/proc/self/status")
    (corpus_dir / "env.txt").symlink_to(outside)
    (corpus_dir / "up").mkdir()
    (corpus_dir / "up" / "env.md").symlink_to(Path("..") / ".." / "linli.env")
    loaded = load_corpus(corpus_dir)
    assert len(loaded.articles) == 4
    assert not any("13800000000" in a.body or "root" in a.title for a in loaded.articles)
    found = messages(corpus_dir)
    for name in ("passwd.txt", "status.txt", "env.txt", "up/env.md"):
        assert found[name] == "is a link to a file outside the corpus folder", name


def test_a_link_to_a_file_inside_the_corpus_is_read_as_that_file(corpus_dir: Path) -> None:
    (corpus_dir / "news").mkdir()
    (corpus_dir / "news" / "食堂.md").write_text(GOOD, encoding="utf-8")
    (corpus_dir / "食堂链接.md").symlink_to(Path("news") / "食堂.md")
    (corpus_dir / "新闻").symlink_to("news")  # a folder link: listed under its own name
    loaded = load_corpus(corpus_dir)
    assert sorted(a.id for a in loaded.articles if a.title == "老年食堂开张") == [
        "news/食堂", "食堂链接"]
    [warning] = loaded.problems
    assert warning.path == "新闻" and warning.level == "warning"
    assert "listed under its own name" in warning.message


def test_pipes_sockets_and_broken_links_are_errors_and_never_block(corpus_dir: Path) -> None:
    os.mkfifo(corpus_dir / "pipe.md")
    (corpus_dir / "gone.md").symlink_to("nowhere.md")
    (corpus_dir / "to-pipe.md").symlink_to("pipe.md")
    loaded = load_corpus(corpus_dir)  # opening the pipe would wait for a writer forever
    assert len(loaded.articles) == 4
    found = messages(corpus_dir)
    assert found["pipe.md"] == "is a named pipe, not an article file"
    assert found["gone.md"] == "is a broken link (its target is missing)"
    assert found["to-pipe.md"] == "is a link to a named pipe, not an article file"


def test_a_file_swapped_for_a_link_or_pipe_after_the_listing_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text(SECRET, encoding="utf-8")
    (tmp_path / "a.md").symlink_to(tmp_path / "secret")
    os.mkfifo(tmp_path / "p.md")
    for name, reason in (("a.md", "became a link"), ("p.md", "not a regular file")):
        with pytest.raises(OSError, match=reason):
            read_file(tmp_path / name, 1024)


def test_linli_corpus_reports_each_odd_entry_and_exits_1(corpus_dir: Path) -> None:
    (corpus_dir / "loop").symlink_to(".")
    (corpus_dir / "passwd.md").symlink_to("/etc/passwd")
    done = subprocess.run([LINLI, "corpus", str(corpus_dir), "--json"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    listing = json.loads(done.stdout)
    assert len(listing["articles"]) == 4
    assert {p["path"] for p in listing["problems"]} == {"loop", "passwd.md"}


@needs_root
def test_an_unreadable_file_or_folder_is_its_own_error_for_linli_corpus(
        corpus_dir: Path) -> None:
    lock_up(corpus_dir)
    done = run_unprivileged([LINLI, "corpus", str(corpus_dir), "--json"], dict(os.environ))
    assert done.returncode == 1, done.stderr
    problems = {p["path"]: p for p in json.loads(done.stdout)["problems"]}
    assert problems["locked.md"]["message"] == "cannot be read (Permission denied)"
    assert "chmod a+r" in problems["locked.md"]["fix"]
    assert problems["closed/"]["message"] == (
        "folder cannot be listed (Permission denied); its files are left out")
    assert len(json.loads(done.stdout)["articles"]) == 4


def hostile(corpus: Path, outside: Path) -> None:
    """A corpus folder with a loop, links out to private data and a pipe."""
    outside.write_text(SECRET, encoding="utf-8")
    (corpus / "loop").symlink_to(".")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "env.md").symlink_to(outside)
    os.mkfifo(corpus / "pipe.md")


def linli_run(args: list[str], env: dict[str, str],
              unprivileged: bool = False) -> subprocess.CompletedProcess[str]:
    if unprivileged:
        return run_unprivileged([LINLI, *args], env)
    return subprocess.run([LINLI, *args], env=env, capture_output=True, text=True, timeout=180,
                          check=False)


@pytest.mark.parametrize("step", ["build", "unchanged", "one edit"])
def test_index_and_search_hold_on_a_hostile_corpus_at_every_refresh(
        corpus_dir: Path, tmp_path: Path, step: str) -> None:
    hostile(corpus_dir, tmp_path / "linli.env")
    env = {**os.environ, "LINLI_CORPUS_DIR": str(corpus_dir), "LINLI_DATA_DIR": str(tmp_path / "d")}
    if step != "build":
        assert linli_run(["index"], env).returncode == 1
    if step == "one edit":  # the spliced path: only the new file is read
        (corpus_dir / "食堂.md").write_text(GOOD, encoding="utf-8")
    done = linli_run(["index", "--json"], env)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    for name, why in (("loop", "a folder that holds it"), ("passwd.txt", "outside the corpus"),
                      ("env.md", "outside the corpus"), ("pipe.md", "a named pipe")):
        assert f"error: {name}: is a " in done.stderr and why in done.stderr, (name, done.stderr)
    assert json.loads(done.stdout)["articles"] == (5 if step == "one edit" else 4)
    found = linli_run(["search", "机密电话 13800000000 root", "--json"], env)
    hits = json.loads(found.stdout)["hits"]
    assert found.returncode == 0
    assert not any("13800000000" in h["text"] or "root:x:0" in h["text"] for h in hits)


@needs_root
def test_an_unreadable_file_or_folder_never_stops_index_or_search(corpus_dir: Path,
                                                                  tmp_path: Path) -> None:
    lock_up(corpus_dir)
    env = {**os.environ, "LINLI_CORPUS_DIR": str(corpus_dir), "LINLI_DATA_DIR": str(tmp_path / "d")}
    for _ in range(2):  # the build, then the start that trusts the manifest
        done = linli_run(["index"], env, unprivileged=True)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        assert "error: locked.md: cannot be read (Permission denied)" in done.stderr
        assert "error: closed/: folder cannot be listed (Permission denied)" in done.stderr
        asked = linli_run(["search", "老年人活动区在哪里", "--json"], env, unprivileged=True)
        assert asked.returncode == 0 and json.loads(asked.stdout)["answered"], asked.stderr
    (corpus_dir / "locked.md").chmod(0o644)  # fixed: a chmod changes no modification time
    done = linli_run(["index", "--json"], env, unprivileged=True)
    assert "locked.md" not in done.stderr and json.loads(done.stdout)["added"] == ["locked"]
