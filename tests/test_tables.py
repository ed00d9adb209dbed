"""Reading a user's own table (CSV or .npz) into tensors, and the one-line errors for bad files; labels
written 1.0/2.0 are classes as 1/2 are, and an ambiguous choice is said in one line; ';' and tab delimited
files; a wide table read in linear time."""
import csv
import os
import re
import warnings

import numpy as np
import pytest
import torch

from baremlp.runs.files import write_csv
from baremlp.data.tables import Table, from_csv, from_npz, read_inputs
from baremlp.errors import UsageError
from conftest import EXAMPLES, write

EXAMPLE = EXAMPLES / "iris_tiny.csv"


def test_regression_with_two_targets(tmp_path):
    p = write(tmp_path / "r.csv", "a,t1,b,t2\n1,10,2,0.5\n3,20,4,1.5\n5,30,6,-2\n")
    t = from_csv(p, "t1, t2")
    assert isinstance(t, Table) and t.task == "regression" and t.classes is None
    assert t.inputs == ["a", "b"] and t.targets == ["t1", "t2"]
    assert t.x.dtype == torch.float32 and t.x.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert t.y.tolist() == [[10, 0.5], [20, 1.5], [30, -2]]
    assert from_csv(p, ["t1", "t2"], dtype=torch.float64).x.dtype == torch.float64


def test_single_float_target_is_regression_of_shape_n_by_1(tmp_path):
    t = from_csv(write(tmp_path / "r.csv", "x,y\n1,0.5\n2,1.0\n3,2\n"), "y")
    assert t.task == "regression" and t.y.shape == (3, 1)


def test_string_labels_sorted_into_indices(tmp_path):
    p = write(tmp_path / "c.csv", "x1,x2,species\n1,2,virginica\n3,4, setosa\n5,6,versicolor\n7,8,setosa\n")
    t = from_csv(p, "species")
    assert t.task == "classification"
    assert t.classes == ["setosa", "versicolor", "virginica"]
    assert t.y.dtype == torch.int64 and t.y.tolist() == [2, 0, 1, 0]
    assert t.x.shape == (4, 2) and t.inputs == ["x1", "x2"]


def test_few_integers_are_classes_sorted_numerically(tmp_path):
    t = from_csv(write(tmp_path / "c.csv", "x,label\n1,10\n2,2\n3,1\n4,02\n"), "label")
    assert t.task == "classification" and t.classes == ["1", "2", "10"]
    assert t.y.tolist() == [2, 1, 0, 1]


def test_many_integers_or_decimals_are_regression(tmp_path):
    many = "x,count\n" + "".join(f"{i},{i}\n" for i in range(21))
    with pytest.warns(UserWarning, match="21 distinct whole numbers, more than 20: read as measurements"):
        assert from_csv(write(tmp_path / "m.csv", many), "count").task == "regression"
    assert from_csv(write(tmp_path / "d.csv", "x,y\n1,1.5\n2,2.0\n"), "y").task == "regression"  # 1.0, 2.0: classes


def test_forced_task(tmp_path):
    p = write(tmp_path / "c.csv", "x,y\n1,0\n2,1\n3,1\n")
    t = from_csv(p, "y", task="regression")
    assert t.task == "regression" and t.y.tolist() == [[0], [1], [1]]
    q = write(tmp_path / "f.csv", "x,y\n1,0.5\n2,1.5\n3,0.5\n")
    t = from_csv(q, "y", task="classification")
    assert t.task == "classification" and t.classes == ["0.5", "1.5"] and t.y.tolist() == [0, 1, 0]


def test_test_data_uses_training_inputs_and_classes(tmp_path):
    train = from_csv(write(tmp_path / "train.csv", "a,b,s\n1,2,x\n3,4,y\n5,6,z\n"), "s")
    # Columns in another order and a class subset: the training order and mapping still hold.
    test = from_csv(write(tmp_path / "test.csv", "s,b,a\nz,20,10\nz,40,30\n"), "s",
                    inputs=train.inputs, classes=train.classes)
    assert test.inputs == ["a", "b"] and test.x.tolist() == [[10, 20], [30, 40]]
    assert test.classes == ["x", "y", "z"] and test.y.tolist() == [2, 2] and test.task == "classification"


def test_read_inputs_from_csv_npy_npz(tmp_path):
    p = write(tmp_path / "in.csv", "id,b,a,extra\n7,2,1,x\n8,4,3,y\n")
    assert read_inputs(p, ["a", "b"]).tolist() == [[1, 2], [3, 4]]
    arr = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert read_inputs(write(tmp_path / "in.npy", arr), ["a", "b"]).tolist() == arr.tolist()
    x = read_inputs(write(tmp_path / "in.npz", {"x": arr}), ["a", "b"], dtype=torch.float64)
    assert x.dtype == torch.float64 and x.tolist() == arr.tolist()


def test_npz_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    t = from_npz(write(tmp_path / "r.npz", {"x": x, "y": y}))
    assert t.task == "regression" and t.inputs == ["x0", "x1", "x2"] and t.targets == ["y"]
    torch.testing.assert_close(t.x, torch.tensor(x, dtype=torch.float32))
    torch.testing.assert_close(t.y, torch.tensor(y, dtype=torch.float32)[:, None])
    t = from_npz(write(tmp_path / "r2.npz", {"x": x, "y": np.stack([y, -y], 1)}))
    assert t.targets == ["y0", "y1"] and t.y.shape == (6, 2)
    c = from_npz(write(tmp_path / "c.npz", {"x": x, "y": np.array([3, 1, 1, 3, 10, 1])}))
    assert c.task == "classification" and c.classes == ["1", "3", "10"] and c.y.tolist() == [1, 0, 0, 1, 2, 0]
    test = from_npz(write(tmp_path / "t.npz", {"x": x[:2], "y": np.array([10, 10])}), classes=c.classes)
    assert test.y.tolist() == [2, 2]
    forced = from_npz(write(tmp_path / "f.npz", {"x": x[:2], "y": np.array([0.0, 1.0])}), task="classification")
    assert forced.classes == ["0", "1"] and forced.y.tolist() == [0, 1]


def test_write_csv(tmp_path):
    out = tmp_path / "pred.csv"
    out.write_text("old contents\n")
    write_csv(out, ["class", "p"], [["a", 0.25], ["b, c", torch.tensor(0.5)], ["d", np.float32(1)]])
    with open(out, newline="") as f:
        assert list(csv.reader(f)) == [["class", "p"], ["a", "0.25"], ["b, c", "0.5"], ["d", "1.0"]]
    assert os.listdir(tmp_path) == ["pred.csv"]


def test_example_file_is_a_three_class_table():
    t = from_csv(EXAMPLE, "species")
    assert t.classes == ["setosa", "versicolor", "virginica"] and t.x.shape[1] == 4
    assert torch.bincount(t.y).tolist() == [10, 10, 10]


# (id, file name, contents, reader call, pattern the one-line message must match).
# Every message must also name the file; patterns name the row and column where one applies.
CSV_X = "x1,x2,y\n1,2,3.5\n"
ERRORS = [
    ("not found", "none.csv", None, lambda p: from_csv(p, "y"), "file not found"),
    ("unreadable", "folder.csv", "dir", lambda p: from_csv(p, "y"), "cannot read"),
    ("not utf-8", "latin.csv", b"x,y\n1,\xe9\n", lambda p: from_csv(p, "y"), "cannot read: not UTF-8"),
    ("empty", "empty.csv", "", lambda p: from_csv(p, "y"), "empty file"),
    ("blank lines only", "blank.csv", "\n , \n", lambda p: from_csv(p, "y"), "empty file"),
    ("header only", "head.csv", "x,y\n", lambda p: from_csv(p, "y"), "header only, no data rows"),
    ("missing target", "t.csv", "a,b\n1,2\n", lambda p: from_csv(p, "c"),
     "no target column 'c'; the columns are 'a', 'b'"),
    ("duplicate columns", "d.csv", "a,a,y\n1,2,3\n", lambda p: from_csv(p, "y"), "duplicate column names.*'a'"),
    ("ragged row", "g.csv", "a,b,y\n1,2,3\n\n1,2\n", lambda p: from_csv(p, "y"), "row 4 has 2 cells, the header has 3"),
    ("non-numeric input", "n.csv", CSV_X + "1,abc,3\n", lambda p: from_csv(p, "y"),
     "row 3, column 'x2': 'abc' is not a number"),
    ("blank regression target", "bt.csv", "x,y\n1,0.5\n2,\n", lambda p: from_csv(p, "y"),
     "row 3, column 'y': '' is not a number"),
    ("empty input cell", "e.csv", CSV_X + ",1,3\n", lambda p: from_csv(p, "y"),
     "row 3, column 'x1': '' is not a number"),
    ("nan input", "nan.csv", CSV_X + "1,nan,3\n", lambda p: from_csv(p, "y"),
     "row 3, column 'x2': 'nan' is NaN or infinite"),
    ("inf target", "inf.csv", CSV_X + "1,2,-inf\n", lambda p: from_csv(p, "y"),
     "row 3, column 'y': '-inf' is NaN or infinite"),
    ("too large for float32", "big.csv", CSV_X + "1e300,2,3\n", lambda p: from_csv(p, "y"),
     "row 3, column 'x1': '1e300' is too large"),
    ("no inputs", "only.csv", "y\n1\n2\n", lambda p: from_csv(p, "y"), "no input columns left"),
    ("one class", "one.csv", "x,species\n1,a\n2,a\n", lambda p: from_csv(p, "species"),
     "only one class 'a' in column 'species' of .*one.csv: expected at least two"),
    ("empty label", "el.csv", "x,s\n1,a\n2,\n3,b\n", lambda p: from_csv(p, "s"),
     "row 3, column 's': empty class label"),
    ("unknown label", "u.csv", "x,s\n1,a\n2,c\n", lambda p: from_csv(p, "s", classes=["a", "b"]),
     "row 3, column 's': label 'c' is not one of the classes \\(a, b\\)"),
    ("bad task", "k.csv", CSV_X, lambda p: from_csv(p, "y", task="clustering"), "task must be"),
    ("classify two targets", "two.csv", "x,a,b\n1,0,1\n2,1,0\n", lambda p: from_csv(p, "a,b", task="classification"),
     "classification needs exactly one target column, got 2"),
    ("test columns differ", "test.csv", "x1,x3,y\n1,2,3\n", lambda p: from_csv(p, "y", inputs=["x1", "x2"]),
     "test data columns differ from training: missing 'x2', unexpected 'x3'"),
    ("npz empty", "e.npz", b"", from_npz, "empty file"),
    ("npz not numpy", "text.npz", "x,y\n1,2\n", from_npz, "not a NumPy .npy or .npz file"),
    ("npz missing y", "noy.npz", {"x": np.zeros((2, 2))}, from_npz, "no array 'y' \\(the file holds: 'x'\\)"),
    ("npz missing x", "nox.npz", {"y": np.zeros(2)}, from_npz, "no array 'x'"),
    ("npz x not 2-D", "x1d.npz", {"x": np.zeros(3), "y": np.zeros(3)}, from_npz, "expected x 2-D"),
    ("npz lengths", "len.npz", {"x": np.zeros((3, 2)), "y": np.zeros(2)}, from_npz, "x has 3 rows but y has 2"),
    ("npz nan in x", "nanx.npz", {"x": np.array([[0.0, 1], [np.nan, 2]]), "y": np.zeros(2)}, from_npz,
     "array 'x' holds a non-finite value .* at x\\[1, 0\\]"),
    ("npz inf in y", "infy.npz", {"x": np.zeros((2, 1)), "y": np.array([0.5, np.inf])}, from_npz,
     "array 'y' holds a non-finite value .* at y\\[1\\]"),
    ("npz text x", "tx.npz", {"x": np.array([["a"]]), "y": np.zeros(1)}, from_npz, "array 'x' holds <U1 values"),
    ("npz pickled objects refused", "obj.npz", {"x": np.array([[{}]], dtype=object), "y": np.zeros(1)}, from_npz,
     "cannot read: .*pickle"),
    ("npz one class", "one.npz", {"x": np.zeros((2, 1)), "y": np.array([4, 4])}, from_npz,
     "only one class '4' in column 'y' of .*one.npz"),
    ("npz unknown label", "u.npz", {"x": np.zeros((2, 1)), "y": np.array([0, 5])},
     lambda p: from_npz(p, classes=["0", "1"]), "y\\[1\\]: label '5' is not one of the classes"),
    ("inputs csv missing column", "in.csv", "a,c\n1,2\n", lambda p: read_inputs(p, ["a", "b"]),
     "the network's input columns are missing: 'b'"),
    ("inputs csv not a number", "in2.csv", "a,b\n1,2\n1,x\n", lambda p: read_inputs(p, ["a", "b"]),
     "row 3, column 'b': 'x' is not a number"),
    ("inputs npy width", "in.npy", np.zeros((2, 3)), lambda p: read_inputs(p, ["a", "b"]),
     "shape \\(2, 3\\), expected \\(rows, 2\\)"),
    ("inputs npz without x", "in.npz", {"z": np.zeros((2, 2))}, lambda p: read_inputs(p, ["a", "b"]), "no array 'x'"),
]


@pytest.mark.parametrize("name, contents, call, pattern", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_errors_are_one_line_and_name_the_file(tmp_path, name, contents, call, pattern):
    path = tmp_path / name
    if isinstance(contents, str) and contents == "dir":
        path.mkdir()
    elif contents is not None:
        write(path, contents)
    with pytest.raises(ValueError, match=pattern) as caught:
        call(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message, message
    assert not re.search(r"Traceback|tensor\(", message)


# issue 22 on own tables: integral-float labels and ambiguous columns (item 6), the reader linear in the
# columns (item 10), ';' and tab delimited files (item 16)

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
