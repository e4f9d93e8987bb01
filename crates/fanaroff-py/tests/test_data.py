"""fanaroff.data: synthetic images, MiraBest, FITS, and missing or corrupt
files."""

import gzip
import io
import tarfile

import numpy as np
import pytest

from conftest import FITS_SAMPLE, MIRABEST
from fanaroff import data


def test_synthetic_is_seeded_and_shaped_like_mirabest():
    a = data.synthetic(10, seed=2)
    b = data.synthetic(10, seed=2)
    c = data.synthetic(10, seed=3)
    assert a["images"].shape == (10, 150, 150) and a["images"].dtype == np.uint8
    assert np.array_equal(a["images"], b["images"])
    assert not np.array_equal(a["images"], c["images"])
    assert sorted(a["labels"].tolist()) == [0] * 5 + [1] * 5
    # FRI codes are 1xx, FRII 2xx
    assert np.all((a["codes"] // 100) == a["labels"] + 1)
    assert data.synthetic(3, seed=0, image_size=100)["images"].shape == (3, 100, 100)
    with pytest.raises(ValueError):
        data.synthetic(-1)
    with pytest.raises(ValueError):
        data.synthetic(2, image_size=0)


@pytest.mark.skipif(not MIRABEST.exists(), reason="no MiraBest release beside the repository")
def test_mirabest_release():
    test = data.read_mirabest(MIRABEST, "test")
    assert test["images"].shape == (157, 150, 150)
    assert len(test["class_names"]) == 10
    conf = data.read_mirabest(MIRABEST, "test", "MBFRConfident")
    assert conf["images"].shape == (104, 150, 150)
    assert conf["class_names"] == ["FRI", "FRII"]
    assert set(np.unique(conf["codes"]) // 100) == {1, 2}
    with pytest.raises(ValueError, match="split"):
        data.read_mirabest(MIRABEST, "validation")
    with pytest.raises(ValueError):
        data.read_mirabest(MIRABEST, "test", "MBFRSure")


def test_missing_and_corrupt_releases(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        data.read_mirabest(tmp_path / "nothing.tar.gz")
    bad = tmp_path / "MiraBest_full_batches.tar.gz"
    bad.write_bytes(gzip.compress(b"this is not a tar archive" * 100))
    with pytest.raises(OSError):
        data.read_mirabest(bad)
    # a valid archive whose batch is not a pickle
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in ["batches.meta", "data_batch_1", "test_batch"]:
            payload = b"\x00garbage"
            info = tarfile.TarInfo(f"batches/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    bad.write_bytes(buf.getvalue())
    with pytest.raises(OSError):
        data.read_mirabest(bad)


@pytest.mark.skipif(not FITS_SAMPLE.exists(), reason="no FITS sample beside the repository")
def test_fits_pipeline():
    files = sorted(FITS_SAMPLE.glob("*.fits"))
    img = data.fits_to_image(files[0])
    assert img.shape == (150, 150) and img.dtype == np.uint8
    assert img.max() == 255 and img.min() == 0
    out = data.convert_fits_dir(FITS_SAMPLE)
    assert out["images"].shape[0] == len(out["stems"]) == len(files) - len(out["failures"])
    assert np.array_equal(out["images"][out["stems"].index(files[0].stem)], img)
    assert data.fits_to_image(files[0], crop=100).shape == (100, 100)


def test_bad_fits(tmp_path):
    with pytest.raises(FileNotFoundError):
        data.fits_to_image(tmp_path / "missing.fits")
    bad = tmp_path / "bad.fits"
    bad.write_bytes(b"SIMPLE  = nonsense" + b" " * 3000)
    with pytest.raises(OSError, match="FITS"):
        data.fits_to_image(bad)
    with pytest.raises(ValueError):
        data.fits_to_image(bad, crop=0)
