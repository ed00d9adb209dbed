"""Issue 22 on own tables: labels written 1.0/2.0 are classes as 1/2 are, and an ambiguous choice
is said in one line (item 6); the reader is linear in the columns (item 10); ';' and tab
delimited files are read (item 16)."""
import warnings

import numpy as np
import pytest
import torch

from baremlp.data.tables import from_csv, read_inputs
from baremlp.errors import UsageError
from conftest import write


def test_labels_written_as_integral_floats_are_classes_as_integers_are(tmp_path):
    ints = from_csv(write(tmp_path / "i.csv", "x,label\n1,1\n2,2\n3,1\n4,2\n"), "label")
    with pytest.warns(UserWarning, match=r"^column 'label' holds 2 distinct whole numbers written with a decimal "
                                         r"point \(1\.0, 2\.0\): read as class labels; pass task='regression' "
                                         r"\(--task regression\) if they are measurements$"):
        floats = from_csv(write(tmp_path / "f.csv", "x,label\n1,1.0\n2,2.0\n3,1.0\n4,2.0\n"), "label")
    assert floats.task == ints.task == "classification"
    assert floats.classes == ints.classes == ["1", "2"] and floats.y.tolist() == ints.y.tolist() == [0, 1, 0, 1]
    # a test table written either way is labelled with the training classes
    test = from_csv(write(tmp_path / "t.csv", "x,label\n1,2\n2,1.0\n"), "label", classes=floats.classes)
    assert test.y.tolist() == [1, 0]


def test_plain_integer_labels_and_real_targets_say_nothing(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert from_csv(write(tmp_path / "i.csv", "x,label\n1,0\n2,1\n"), "label").task == "classification"
        assert from_csv(write(tmp_path / "r.csv", "x,y\n1,0.5\n2,1.5\n"), "y").task == "regression"
        assert from_csv(write(tmp_path / "s.csv", "x,y\n1,cat\n2,dog\n"), "y").task == "classification"


def test_many_whole_numbers_are_measurements_and_it_says_so(tmp_path):
    many = "x,count\n" + "".join(f"{i},{i}.0\n" for i in range(21))
    with pytest.warns(UserWarning, match=r"^column 'count' holds 21 distinct whole numbers, more than 20: read as "
                                         r"measurements; pass task='classification' \(--task classification\) if "
                                         r"they are class labels$"):
        assert from_csv(write(tmp_path / "m.csv", many), "count").task == "regression"


def test_forced_task_says_nothing_and_keeps_the_values(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = from_csv(write(tmp_path / "f.csv", "x,y\n1,1.0\n2,2.0\n"), "y", task="regression")
    assert t.task == "regression" and t.y.tolist() == [[1.0], [2.0]]


@pytest.mark.parametrize("sep", [";", "\t"], ids=["semicolon", "tab"])
def test_semicolon_and_tab_delimited_files_are_read(tmp_path, sep):
    text = "\n".join(sep.join(r) for r in [["a", "b", "label"], ["1", "2.5", "x"], ["3", "-4", "y"]]) + "\n"
    t = from_csv(write(tmp_path / "d.csv", text), "label")
    assert t.inputs == ["a", "b"] and t.x.tolist() == [[1, 2.5], [3, -4]] and t.classes == ["x", "y"]
    assert read_inputs(tmp_path / "d.csv", ["b", "a"]).tolist() == [[2.5, 1], [-4, 3]]


def test_a_comma_inside_quotes_or_a_one_column_header_keeps_the_comma(tmp_path):
    t = from_csv(write(tmp_path / "q.csv", '"a;1",label\n1,x\n2,y\n'), "label")
    assert t.inputs == ["a;1"]
    with pytest.raises(UsageError, match=r"no target column 'label'; the columns are 'a\|b\|label' \(the header is one "
                                         r"column: baremlp reads tables delimited by ',', ';' or tab\)$"):
        from_csv(write(tmp_path / "p.csv", "a|b|label\n1|2|3\n"), "label")


def test_a_wide_table_is_read_right_and_in_linear_time(tmp_path):
    """20,000 columns × 30 rows, read right (the old reader's duplicate check, header.count per column,
    took about 10 s of it; bench/wide_table.py times the read against the old algorithm's)."""
    width, rows = 20_000, 30
    values = np.arange(rows * width, dtype=np.float64).reshape(rows, width) % 97
    header = [f"c{j}" for j in range(width)] + ["label"]
    text = ",".join(header) + "\n" + "".join(",".join(map(str, r.astype(int))) + f",{i % 2}\n"
                                             for i, r in enumerate(values))
    t = from_csv(write(tmp_path / "wide.csv", text), "label", dtype=torch.float64)
    assert t.x.shape == (rows, width) and t.inputs == header[:-1]
    assert torch.equal(t.x, torch.from_numpy(values)) and t.y.tolist() == [i % 2 for i in range(rows)]


def test_duplicate_names_in_a_wide_header_are_named(tmp_path):
    header = [f"c{j}" for j in range(5000)] + ["c17", "label", "c4000"]
    text = ",".join(header) + "\n" + ",".join("1" for _ in header) + "\n"
    with pytest.raises(UsageError, match=r"duplicate column names in the header: 'c17', 'c4000'$"):
        from_csv(write(tmp_path / "dup.csv", text), "label")
