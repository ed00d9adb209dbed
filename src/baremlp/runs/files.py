"""Files written so that a crash never leaves half of one: a temporary file in the same folder,
fsync, then an atomic rename.  Readers see the old file or the new one, never a torn one.
JSON and CSV readers and writers of the run folder use these, and every read failure is a
one-line UsageError naming the file.
"""
import csv
import errno
import io
import json
import os
import tempfile

from ..errors import UsageError


PLACE_ERRORS = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT)  # the place cannot take files: the user's to fix


def check_writable_folder(path):
    """Refuses a folder that cannot be made or written, before anything is written: the nearest existing
    folder on the way must be a folder in which a new folder can be made (tried, then removed)."""
    path = os.path.abspath(path)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise UsageError(f"cannot make the folder {path}: {existing} is a file")
    try:
        os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".baremlp-check-"))
    except OSError as e:
        raise UsageError(f"cannot write the folder {path}: {existing} is not writable ({e.strerror})") from None


def _umask():
    """The process umask, read without changing it where Linux allows (setting it is racy in threads)."""
    try:
        with open("/proc/self/status") as f:
            return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0o022)
        os.umask(mask)
        return mask


def write_atomic(path, data):
    """Writes bytes or text to path via a temporary file in the same folder, fsync, then rename:
    readers see the old file or the new one, never a torn one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if isinstance(data, str):
        data = data.encode()
    if not os.path.isdir(folder):
        raise UsageError(f"cannot write {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"cannot write {path}: it is a folder, expected a file name")
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; a run folder's files read like any other file
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        if tmp and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(e, OSError):  # named by the path asked for, never by the temporary file
            raise (UsageError if e.errno in PLACE_ERRORS else OSError)(f"cannot write {path}: {e.strerror}") from None
        raise
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # makes the rename itself durable
    finally:
        os.close(dir_fd)


def write_json(path, obj):
    write_atomic(path, json.dumps(obj, indent=2) + "\n")


def read_json(path, lines=False):
    """The JSON value in a file (lines=True: a list, one value per line, as metrics.jsonl); a file
    that cannot be read or parsed gives a UsageError naming it."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return [json.loads(line) for line in text.splitlines()] if lines else json.loads(text)
    except OSError as e:
        raise UsageError(f"{path} cannot be read: {e.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path} is not valid JSON ({e})") from None


def write_csv(path, header, rows):
    """Writes a CSV table (header, then rows) atomically."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    # Tensor and NumPy scalars would otherwise be written as "tensor(0.5)".
    writer.writerows([[c.item() if hasattr(c, "item") else c for c in row] for row in rows])
    write_atomic(path, buf.getvalue())
