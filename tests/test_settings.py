"""The settings dataclass: defaults, unknown keys and wrong types refused, recipes."""
import pytest

from baremlp.runs.settings import Settings, load_recipe, recipe_names


def test_from_dict_overrides_and_round_trips():
    s = Settings.from_dict({"lr": 1, "hidden": [16, 8], "dataset": "square"})
    assert s.lr == 1.0 and isinstance(s.lr, float) and s.hidden == (16, 8)
    assert Settings.from_dict(s.to_dict()) == s


@pytest.mark.parametrize("values, error, message", [
    ({"learning_rate": 0.1}, ValueError, "setting 'learning_rate' unknown"),
    ({"lr": "0.1"}, TypeError, "lr '0.1' invalid: expected a number"),
    ({"epochs": 2.5}, TypeError, "epochs 2.5 invalid: expected a whole number"),
    ({"epochs": True}, TypeError, "epochs True invalid"),
    ({"hidden": "3"}, TypeError, "hidden '3' invalid"),
    ({"hidden": [3, 0]}, ValueError, "hidden '3,0' invalid"),
    ({"check_steps": 1}, TypeError, "check_steps 1 invalid: expected true or false"),
    ({"schedule": "linear"}, ValueError, "schedule 'linear' unknown"),
    ({"val_fraction": 1.0}, ValueError, "val_fraction 1.0 invalid"),
    ({"target": "y"}, ValueError, "target, test_data, features and drop go with data"),
])
def test_bad_settings_refused(values, error, message):
    with pytest.raises(error, match=message):
        Settings.from_dict(values)


def test_direct_construction_is_checked_too():
    with pytest.raises(TypeError, match="lr 'fast' invalid"):
        Settings(lr="fast")


def test_every_shipped_recipe_is_valid():
    assert "linear" in recipe_names()
    for name in recipe_names():
        Settings.from_dict(load_recipe(name))
