"""Input conversion shared by the modules: dtypes are converted where no
value changes (float32 -> float64, integer labels -> int64, integral
float labels -> int64); anything else is a ValueError naming the argument."""

from __future__ import annotations

import numpy as np


def floats(x, name: str, ndim: int) -> np.ndarray:
    """`x` as a float64 array with `ndim` dimensions."""
    a = np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected a real-valued array, got dtype {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim} dimensions, got shape {a.shape}")
    if a.dtype.kind in "iu" and a.dtype.itemsize > 4:
        big = np.abs(a).max(initial=0)
        if big > 2**53:
            raise ValueError(f"{name}: integers above 2**53 do not fit a float64 exactly")
    return a.astype(np.float64, copy=False)


def labels(y, name: str = "labels") -> np.ndarray:
    """`y` as a 1-D int64 array of class indices."""
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {a.shape}")
    if a.dtype.kind in "iu":
        return a.astype(np.int64, copy=False)
    if a.dtype.kind == "b":
        return a.astype(np.int64)
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{name}: float labels must be whole numbers")
        return a.astype(np.int64)
    raise ValueError(f"{name}: expected integer class indices, got dtype {a.dtype}")


def flags(x, name: str) -> np.ndarray:
    """`x` as a 1-D bool array (0/1 integers are accepted)."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array, got shape {a.shape}")
    if a.dtype.kind == "b":
        return a
    if a.dtype.kind in "iuf" and np.all((a == 0) | (a == 1)):
        return a.astype(bool)
    raise ValueError(f"{name}: expected booleans (or 0/1)")


def images(x, name: str = "images") -> np.ndarray:
    """`x` as uint8 images `[N, H, W]` or `[N, 1, H, W]`."""
    a = np.asarray(x)
    if a.ndim not in (3, 4):
        raise ValueError(f"{name}: expected [N, H, W] or [N, 1, H, W], got shape {a.shape}")
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind in "iuf":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)) or a.min(initial=0) < 0 or a.max(initial=0) > 255:
            raise ValueError(f"{name}: expected uint8 pixel values (whole numbers in 0..255)")
        return a.astype(np.uint8)
    raise ValueError(f"{name}: expected uint8 images, got dtype {a.dtype}")
