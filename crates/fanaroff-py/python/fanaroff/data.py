"""Images: the MiraBest reader, the FITS-to-MiraBest pipeline and the
synthetic generator (the `fanaroff-data` crate).

Every reader returns a dict:

- ``images``: ``[N, H, W]`` uint8 (150 x 150 for MiraBest);
- ``labels``: ``[N]`` int64 class indices;
- ``codes``: ``[N]`` int64 MiraBest label codes (100 ... 310; -1 when
  unknown);
- ``filenames`` and ``class_names``: lists of str.

Example:
    >>> from fanaroff import data
    >>> d = data.synthetic(8, seed=1)
    >>> d["images"].shape, d["images"].dtype.name, d["class_names"]
    ((8, 150, 150), 'uint8', ['FRI', 'FRII'])
"""

from __future__ import annotations

import os

from ._native import data as _d

__all__ = ["read_mirabest", "synthetic", "fits_to_image", "convert_fits_dir", "SUBSETS"]

#: The standard subsets of MiraBest (Porter & Scaife 2023).
SUBSETS = ("MBFRFull", "MBFRConfident", "MBFRUncertain", "MBHybrid")


def read_mirabest(path, split: str = "train", subset: str | None = None) -> dict:
    """Reads a MiraBest release: the folder of pickled batches or the
    ``.tar.gz`` as published (md5 checked where the release lists one).

    `split` is ``"train"``, ``"test"`` or ``"all"``; `subset` one of
    :data:`SUBSETS` (relabelled FRI = 0, FRII = 1) or None for the ten
    label codes as classes. A missing path raises FileNotFoundError, a
    corrupt archive OSError.

    Example (needs the release)::

        mb = read_mirabest("MiraBest_full_batches.tar.gz", "test", "MBFRConfident")
        mb["images"].shape   # (104, 150, 150)
    """
    return _d.read_mirabest(os.fspath(path), split, subset)


def synthetic(n: int, seed: int = 0, image_size: int = 150) -> dict:
    """`n` synthetic FRI / FRII galaxies (half each, seeded): core, jets
    and lobes convolved with a beam, with noise, shaped like MiraBest. The
    same seed gives the same images.

    >>> synthetic(4, seed=3)["labels"].tolist()  # doctest: +SKIP
    [1, 0, 0, 1]
    """
    if n < 0:
        raise ValueError(f"n: expected a count >= 0, got {n}")
    return _d.synthetic(int(n), int(seed), int(image_size))


def fits_to_image(path, clip_sigma: float = 3.0, max_iters: int = 5,
                  threshold_sigma: float = 3.0, crop: int = 150):
    """One FITS cut-out (e.g. a FIRST image) as a MiraBest-style image
    ``[crop, crop]`` uint8: sigma-clipped background, pixels below
    `threshold_sigma` noise levels set to zero, centre crop, scaled to
    0..255 (Porter & Scaife 2023).

    Example (needs a FITS file)::

        img = fits_to_image("cutouts/J1234+5678.fits")
    """
    return _d.fits_to_image(os.fspath(path), float(clip_sigma), int(max_iters),
                            float(threshold_sigma), int(crop))


def convert_fits_dir(folder, clip_sigma: float = 3.0, max_iters: int = 5,
                     threshold_sigma: float = 3.0, crop: int = 150) -> dict:
    """Every ``.fits`` file of `folder` through :func:`fits_to_image`: a
    dict with ``images`` ``[N, crop, crop]``, ``stems`` (sorted file names
    without ``.fits``) and ``failures`` (``(path, message)`` of files that
    could not be converted).

    Example (needs FITS files)::

        out = convert_fits_dir("cutouts/")
        len(out["stems"]), out["failures"]
    """
    return _d.convert_fits_dir(os.fspath(folder), float(clip_sigma), int(max_iters),
                               float(threshold_sigma), int(crop))
