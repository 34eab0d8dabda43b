"""List a corpus folder: the article files inside its root, and every entry refused, with why.

The rule: a file is read only if, with every link resolved, it is a regular file inside
the corpus root. A link to a file inside the root is read as that file; a link to a
folder is not followed (a folder inside the root is listed under its own name, so
following it would list it twice, or forever for `ln -s . loop`). Everything else is
that entry's problem, reported like any broken article: a link out of the root, a broken
or looping link, a pipe, socket or device, a folder that cannot be listed. Reading goes
through `read_file`, which opens without following a last link and refuses anything but
a regular file, so an entry swapped after the listing is refused too.

May import corpus.models only.
"""

import errno
import os
import stat as stat_module
from dataclasses import dataclass, field
from pathlib import Path

from corpus.models import Problem

# An entry to read: the path to open (links resolved), its name in the corpus, its stat.
Entry = tuple[str, str, os.stat_result]

_KINDS = {stat_module.S_IFIFO: "a named pipe", stat_module.S_IFSOCK: "a socket",
          stat_module.S_IFCHR: "a character device", stat_module.S_IFBLK: "a block device"}
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


class UnreadableFile(OSError):
    """A corpus entry that is not a regular file inside the root, or cannot be opened."""


@dataclass
class CorpusListing:
    """The files to read, in corpus order, and the entries refused (one problem each)."""

    files: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def corpus_order(shown: str) -> str:
    """Sort key of a name in the corpus: by path parts, as a sorted walk gives them."""
    return shown.replace("/", "\x00")


def list_corpus(root: Path | str) -> CorpusListing:
    """List every non-hidden entry below `root` (one `os.scandir` walk, no recursion)."""
    top = os.path.realpath(root)
    result = CorpusListing()
    folders = [(top, "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            with os.scandir(folder) as found:
                entries = list(found)
        except OSError as err:
            result.problems.append(_folder_problem(prefix, err))
            continue
        for entry in entries:
            if not entry.name.startswith("."):
                _take(entry, prefix, top, folders, result)
    result.files.sort(key=lambda item: corpus_order(item[1]))
    result.problems.sort(key=lambda problem: corpus_order(problem.path))
    return result


def _take(entry: os.DirEntry[str], prefix: str, top: str,
          folders: list[tuple[str, str]], result: CorpusListing) -> None:
    """Put one entry in the listing, among the folders to walk, or among the problems."""
    shown = prefix + entry.name
    try:
        if entry.is_symlink():
            _take_link(entry.path, shown, top, result)
        elif entry.is_dir(follow_symlinks=False):
            folders.append((entry.path, f"{shown}/"))
        elif entry.is_file(follow_symlinks=False):
            result.files.append((entry.path, shown, entry.stat(follow_symlinks=False)))
        else:
            kind = _KINDS.get(stat_module.S_IFMT(entry.stat(follow_symlinks=False).st_mode),
                              "not a regular file")
            result.problems.append(refused(shown, f"is {kind}, not an article file"))
    except OSError as err:
        result.problems.append(unreadable(shown, err))


def _take_link(path: str, shown: str, top: str, result: CorpusListing) -> None:
    """Follow a link to a regular file inside the root; refuse every other link."""
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as err:
        if err.errno == errno.ELOOP:
            result.problems.append(refused(shown, "is a link that loops back on itself"))
        elif isinstance(err, FileNotFoundError):
            result.problems.append(refused(shown, "is a broken link (its target is missing)"))
        else:
            result.problems.append(unreadable(shown, err))
        return
    if os.path.commonpath([top, target]) != top:
        result.problems.append(refused(shown, "is a link to a file outside the corpus folder"))
        return
    status = os.stat(target)
    if stat_module.S_ISDIR(status.st_mode):
        inside = os.path.relpath(target, top)
        if os.path.commonpath([target, os.path.join(top, os.path.dirname(shown))]) == target:
            result.problems.append(refused(shown, "is a link to a folder that holds it (a loop)"))
        else:
            result.problems.append(Problem(
                path=shown, line=None, level="warning",
                message=f"is a link to the folder '{inside}', which is listed under its own "
                        "name; not followed",
                fix="remove the link"))
    elif stat_module.S_ISREG(status.st_mode):
        result.files.append((target, shown, status))
    else:
        kind = _KINDS.get(stat_module.S_IFMT(status.st_mode), "not a regular file")
        result.problems.append(refused(shown, f"is a link to {kind}, not an article file"))


def refused(shown: str, message: str) -> Problem:
    """The error for a corpus entry that is not an article file inside the corpus folder."""
    return Problem(path=shown, line=None, message=message,
                   fix="put the article file itself in the corpus folder, or remove this entry")


def unreadable(shown: str, err: OSError) -> Problem:
    """The error for a corpus entry the bot's user cannot read."""
    reason = err.strerror or type(err).__name__
    return Problem(path=shown, line=None, message=f"cannot be read ({reason})",
                   fix="make it readable by the user linli runs as (chmod a+r), or move it out")


def _folder_problem(prefix: str, err: OSError) -> Problem:
    reason = err.strerror or type(err).__name__
    return Problem(path=prefix or ".", line=None,
                   message=f"folder cannot be listed ({reason}); its files are left out",
                   fix="make it readable by the user linli runs as (chmod a+rx), or move it out")


def read_file(path: str | Path, max_bytes: int) -> bytes:
    """Read a listed file, at most `max_bytes` + 1 bytes; raise `UnreadableFile` if it is not one.

    No last link is followed and a pipe never blocks (the listing resolved the links):
    what is opened is checked to be a regular file before a byte is read.
    """
    try:
        handle = os.open(path, _FLAGS)
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise UnreadableFile(errno.ELOOP, "it became a link after the listing") from None
        raise UnreadableFile(err.errno, err.strerror) from None
    with os.fdopen(handle, "rb") as file:
        if not stat_module.S_ISREG(os.fstat(handle).st_mode):
            raise UnreadableFile(errno.EINVAL, "not a regular file")
        return file.read(max_bytes + 1)
