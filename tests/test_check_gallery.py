"""The gallery: student files, each wrong in the way its first lines say (or right, in a convention), each
diagnosed by check.all with exactly its codes and conventions.

A file starts with `# expect: code, code` (empty: it must pass) and `# conventions: name, ...`."""
import runpy

import pytest

from baremlp import check
from baremlp.check.catalogue import MISTAKES
from conftest import GALLERY

FILES = sorted(GALLERY.glob("*.py"))


def header(path, key, optional=False):
    for line in path.read_text().splitlines()[:4]:
        if line.startswith(f"# {key}:"):
            return [w.strip() for w in line.split(":", 1)[1].split(",") if w.strip()]
    if optional:
        return None
    raise AssertionError(f"{path.name} has no '# {key}:' line")


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_each_file_is_diagnosed_with_exactly_its_codes(path):
    report = check.all(runpy.run_path(str(path), run_name="gallery"))
    expected = header(path, "expect")
    assert sorted(report.mistakes) == sorted(expected), str(report)
    assert sorted(report.conventions) == sorted(header(path, "conventions")), str(report)
    refused, says = header(path, "refused", True) or header(path, "error", True), header(path, "says", True)
    if says:  # a line the report must hold (the precision it judged at, a hint)
        assert ", ".join(says) in str(report), str(report)
    if refused:  # an output the checker does not take: an error naming it, and no code guessed
        assert not report.passed and not report.mistakes and ", ".join(refused) in str(report), str(report)
        return
    assert report.passed == (not expected), str(report)
    if expected:
        text = str(report)
        assert all(code in text and MISTAKES[code][3] in text for code in expected)  # named, with the right line
    else:
        assert not report.differences and not report.error


def test_every_code_has_a_gallery_file_and_some_files_have_two():
    expected = [header(p, "expect") for p in FILES]
    assert set(MISTAKES) <= {code for codes in expected for code in codes}
    assert sum(len(codes) >= 2 for codes in expected) >= 5
    assert sum(not codes for codes in expected) >= 8  # right ones, in both conventions and with multipliers
    sources = [p.read_text() for p in FILES]
    assert sum("import numpy" in s for s in sources) >= 8 and sum("for " in s for s in sources) >= 8
