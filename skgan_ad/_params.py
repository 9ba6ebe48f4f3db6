"""Declaring an estimator's parameters: a default and its scikit-learn constraints side by side.

:func:`param` declares one parameter, :func:`estimator_params` turns the declarations into the
keyword-only ``__init__`` and the ``_parameter_constraints`` scikit-learn validates at ``fit``.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields


def param(default=MISSING, *constraints, positional: bool = False):
    """Declare an estimator parameter: its default and its scikit-learn constraints, in one place.

    Used as ``w_con: float = param(40.0, NON_NEGATIVE)`` in a class decorated
    with :func:`estimator_params`. ``positional=True`` makes it positional
    (meta-estimators' ``estimator``); without a default it is then required.
    """
    return field(default=default, kw_only=not positional, metadata={"constraints": list(constraints)})


def estimator_params(cls):
    """Class decorator: ``__init__`` and ``_parameter_constraints`` from the declared parameters.

    A keyword-only dataclass ``__init__`` is exactly scikit-learn's contract
    (no logic, every parameter stored under its own name, the defaults in the
    signature for ``get_params`` and ``clone``); ``eq`` and ``repr`` stay
    scikit-learn's. A parameter declared with :func:`param` brings its
    constraints; one redeclared with a plain default (a subclass changing a
    default) keeps the constraints it inherited.
    """
    cls = dataclass(eq=False, repr=False, kw_only=True)(cls)
    inherited = getattr(cls, "_parameter_constraints", {})
    cls._parameter_constraints = {
        f.name: f.metadata["constraints"] if "constraints" in f.metadata else inherited[f.name] for f in fields(cls)
    }
    return cls
