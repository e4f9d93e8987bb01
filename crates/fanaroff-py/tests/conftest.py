"""Shared fixtures: small runs trained by the Rust runner on synthetic
images (seconds each in a release build), made once per session."""

import pathlib

import pytest

import fanaroff

REPO = pathlib.Path(__file__).resolve().parents[3]
SHARED = REPO.parent / "shared"
MIRABEST = SHARED / "data" / "mirabest" / "MiraBest_full_batches.tar.gz"
FITS_SAMPLE = SHARED / "data" / "mirabest" / "fits-sample"

BASE = """
name = "{name}"
seed = 4
data = {{ synthetic = 48 }}
model = {{ kind = "{kind}" }}
training = {{ epochs = 1, batch_size = 8, progress = false, log_epochs = false }}
evaluation = {{ samples = 3, entropy_samples = 2 }}
"""


def train(tmp: pathlib.Path, kind: str, extra: str = "") -> pathlib.Path:
    exp = tmp / f"{kind}.toml"
    exp.write_text(BASE.format(name=kind, kind=kind) + extra)
    out = tmp / f"run_{kind}"
    fanaroff.run(exp, out=out)
    return out


@pytest.fixture(scope="session")
def bbb_run(tmp_path_factory):
    """A BBB LeNet whose uncertainty study saved its test predictive."""
    tmp = tmp_path_factory.mktemp("bbb")
    return train(tmp, "bbb_lenet", '[study]\nkind = "uncertainty"\nsamples = 4\n')


@pytest.fixture(scope="session")
def attention_run(tmp_path_factory):
    return train(tmp_path_factory.mktemp("gated"), "attention_net")
