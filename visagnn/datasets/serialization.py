"""Reading PyG objects and numpy arrays with ``torch.load(weights_only=True)``, the default since
torch 2.6."""

from __future__ import annotations

from contextlib import AbstractContextManager

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
from torch_geometric.data.storage import GlobalStorage

# numpy 2 renamed numpy.core to numpy._core.
_numpy_core = getattr(np, "_core", None) or np.core
_NUMPY_SCALAR_TYPES = (
    np.bool_,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.float16,
    np.float32,
    np.float64,
)


def pyg_safe_globals() -> AbstractContextManager[None]:
    """Context in which ``torch.load(weights_only=True)`` also accepts a pickled ``Data`` and
    numeric numpy arrays.

    Allowed beyond torch's own list: ``Data`` and its storage classes, numeric numpy scalars
    (ogb stores ``num_nodes`` as a numpy integer in its processed files) and numeric numpy
    arrays (MAG240M's ``split_dict.pt`` holds one per split), rebuilt by numpy's
    ``_reconstruct``, which creates an empty array of a given dtype and nothing else.
    """
    wanted = [
        Data,
        DataEdgeAttr,
        DataTensorAttr,
        GlobalStorage,
        _numpy_core.multiarray.scalar,
        _numpy_core.multiarray._reconstruct,
        np.ndarray,
        np.dtype,
        *(type(np.dtype(scalar_type)) for scalar_type in _NUMPY_SCALAR_TYPES),
    ]
    # On exit the context removes every global it was given, even one registered before
    # (PyG registers Data at import), so it is given only the missing ones.
    registered = set(torch.serialization.get_safe_globals())
    return torch.serialization.safe_globals([item for item in wanted if item not in registered])
