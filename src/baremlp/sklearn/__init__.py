"""baremlp's network and SGD loop as scikit-learn estimators (pip install 'baremlp[sklearn]').

    from baremlp.sklearn import MLPClassifier
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), random_state=0))

`import baremlp` never imports this package or scikit-learn; the core keeps no dependency on it.
_base.py holds what both estimators share, _estimators.py the two of them.
"""
from ._estimators import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor"]
