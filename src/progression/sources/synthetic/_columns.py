"""Fast construction of string columns from integer codes (pandas ``str`` dtype, Arrow-backed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

_STR = pd.StringDtype("pyarrow", na_value=np.nan)


def strings(codes: np.ndarray, categories) -> pd.api.extensions.ExtensionArray:
    """A ``str`` array whose i-th value is ``categories[codes[i]]`` (built in Arrow, no Python objects)."""
    dictionary = pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32)),
                                                pa.array(list(categories), type=pa.string()))
    return pd.array(dictionary.cast(pa.string()).to_pandas(types_mapper=lambda _: _STR))
