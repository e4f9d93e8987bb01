"""fanaroff.models and fanaroff.run: runs trained by the Rust runner,
loaded and predicted from Python, equal the Rust predictions bit for bit."""

import numpy as np
import pytest

import fanaroff
from fanaroff import calibrate, models


def test_predictions_equal_the_rust_ones_bit_for_bit(bbb_run):
    run = models.load_run(bbb_run)
    assert run.kind == "bbb_lenet" and run.stochastic
    test = run.data()["test"]
    rec = run.record
    assert rec["counts"][2] == len(test["labels"])
    # the uncertainty study saved the Rust predictive mean of the test
    # images: 4 draws seeded seed ^ 0x0cc5, batches of 50
    saved = np.load(bbb_run / "uncertainty" / "bbb_lenet_test.npy")
    labels = np.load(bbb_run / "uncertainty" / "labels_test.npy")
    assert np.array_equal(labels, test["labels"])
    pred = run.predict(test["images"], draws=4, seed=4 ^ 0x0CC5, batch_size=50)
    assert pred.samples.shape == (4, len(labels), 2) and pred.samples.dtype == np.float32
    assert np.array_equal(pred.mean, saved)
    # the runner's test error: 3 draws seeded seed ^ 0x5eed, the eval batch
    pred = run.predict(test["images"], draws=3, seed=4 ^ 0x5EED)
    mean, std = calibrate.error_over_draws(pred.samples, test["labels"])
    assert mean == rec["metrics"]["test_error_mean"]
    assert std == rec["metrics"]["test_error_std"]


def test_predict_is_seeded_and_checks_its_input(bbb_run):
    run = models.load_run(bbb_run)
    x = run.data()["test"]["images"]
    a = run.predict(x, draws=3, seed=1)
    b = run.predict(x[:, None], draws=3, seed=1)  # [N, 1, H, W] works too
    assert np.array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, run.predict(x, draws=3, seed=2).samples)
    assert np.allclose(a.samples.sum(axis=2), 1, atol=1e-5)
    assert np.all(a.mutual_information >= 0) and a.classes.shape == (len(x),)
    assert np.array_equal(run.predict(x.astype(np.int64), 3, 1).samples, a.samples)
    with pytest.raises(ValueError, match="uint8"):
        run.predict(x.astype(float) + 0.5)
    with pytest.raises(ValueError):
        run.predict(x[:, :20, :20])
    with pytest.raises(ValueError, match="draws"):
        run.predict(x, draws=0)
    with pytest.raises(ValueError, match="no images"):
        run.predict(x[:0])
    with pytest.raises(ValueError, match=r"\[N, H, W\]"):
        run.predict(x[0])


def test_prune_a_run(bbb_run):
    run = models.load_run(bbb_run)
    x = run.data()["test"]["images"]
    before = run.predict(x, draws=2, seed=0).samples
    report = run.prune("snr", 0.8)
    assert report["criterion"] == "snr" and abs(report["sparsity"] - 0.8) < 0.01
    assert all(total > kept for _, total, kept in report["layers"])
    assert not np.array_equal(before, run.predict(x, draws=2, seed=0).samples)
    with pytest.raises(ValueError, match="valid"):
        run.prune("snrr", 0.5)
    with pytest.raises(ValueError):
        run.prune("magnitude", 1.5)


def test_attention_maps(attention_run, bbb_run):
    run = models.load_run(attention_run)
    assert not run.stochastic
    x = run.data()["test"]["images"][:3]
    maps = run.attention_maps(x)
    assert len(maps) == 3
    for m in maps:
        assert m.shape == (3, 150, 150) and np.all(np.isfinite(m)) and m.min() >= 0
    assert run.predict(x, draws=5).samples.shape[0] == 1  # deterministic: one draw
    with pytest.raises(ValueError, match="not an attention net"):
        models.load_run(bbb_run).attention_maps(x)


def test_bad_runs_and_experiments(tmp_path, bbb_run):
    with pytest.raises(FileNotFoundError, match="no run record"):
        models.load_run(tmp_path / "nowhere")
    (tmp_path / "record.json").write_text("{ not json")
    with pytest.raises(ValueError):
        models.load_run(tmp_path)
    with pytest.raises(FileNotFoundError):
        fanaroff.run(tmp_path / "missing.toml", out=tmp_path / "r")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\n[model]\nkind = "lenet"\nwidth = 3\n')
    with pytest.raises(ValueError, match="width"):
        fanaroff.run(bad, out=tmp_path / "r")
    missing_data = tmp_path / "nodata.toml"
    missing_data.write_text('name = "x"\ndata = { mirabest = "/no/such/release.tar.gz" }\n')
    with pytest.raises((FileNotFoundError, ValueError), match="not found"):
        fanaroff.run(missing_data, out=tmp_path / "r2")
    # the process's thread pool is sized once (the fixture's run used it)
    good = tmp_path / "good.toml"
    good.write_text((bbb_run.parent / "bbb_lenet.toml").read_text())
    with pytest.raises(ValueError, match="thread pool"):
        fanaroff.run(good, out=tmp_path / "r3", threads=997)
