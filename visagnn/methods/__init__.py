"""Training methods. Importing this package imports every module in it, and each module
registers its methods in :data:`METHODS` with :func:`register_method`."""

import importlib
import pkgutil

from visagnn.methods.base import Method
from visagnn.methods.registry import (
    METHODS,
    applicable_settings,
    canonical_dataset,
    check_settings,
    create_method,
    make_options,
    method_class,
    register_method,
    resolve_config,
)

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["METHODS", "Method", "applicable_settings", "canonical_dataset", "check_settings",
           "create_method", "make_options", "method_class", "register_method", "resolve_config"]
