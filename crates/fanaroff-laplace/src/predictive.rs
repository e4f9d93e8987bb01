//! Predictions of a last-layer Laplace posterior. The logits are linear
//! in the last layer's parameters, so they are Gaussian under the
//! posterior: mean f(x) at the trained weights and covariance J Sigma J^T.
//! Sampling weights and pushing them through the layer gives the same
//! distribution as sampling these logits (laplace-torch's `nn` and `glm`
//! predictives coincide for a last layer).

use crate::error::Result;
use crate::posterior::{LastLayerLaplace, check_features};
use ndarray::{Array2, Array3, ArrayView2, Axis, s};
use rand::RngCore;
use rand_distr::{Distribution, StandardNormal};

impl LastLayerLaplace {
    /// Mean `[N, M]` and covariance `[N, M, M]` of the logits of each
    /// example under the posterior.
    ///
    /// # Errors
    /// Empty or non-finite features, or a column count that differs from
    /// the last layer's inputs.
    pub fn logit_moments(
        &self,
        features: ArrayView2<'_, f64>,
    ) -> Result<(Array2<f64>, Array3<f64>)> {
        check_features(features, &self.layout)?;
        let mean = self.head.logits(features);
        let phi = self.layout.augment_all(features);
        let (n, m, da) = (phi.nrows(), self.layout.outputs, self.layout.augmented());
        let mut var = Array3::zeros((n, m, m));
        for k in 0..m {
            for l in 0..m {
                let block = Array2::from_shape_fn((da, da), |(d, e)| {
                    self.covariance[[self.layout.index(k, d), self.layout.index(l, e)]]
                });
                let v = (phi.dot(&block) * &phi).sum_axis(Axis(1));
                var.slice_mut(s![.., k, l]).assign(&v);
            }
        }
        Ok((mean, var))
    }

    /// Class probabilities `[N, K]` by the probit approximation.
    ///
    /// # Errors
    /// As [`logit_moments`](Self::logit_moments).
    pub fn predict_probit(&self, features: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let (mean, var) = self.logit_moments(features)?;
        let k = self.cfg.head.classes(self.layout.outputs);
        let mut p = Array2::zeros((mean.nrows(), k));
        for (i, mut row) in p.axis_iter_mut(Axis(0)).enumerate() {
            let diag: Vec<f64> = var.index_axis(Axis(0), i).diag().to_vec();
            let q = self.cfg.head.probit(&mean.row(i).to_vec(), &diag);
            row.assign(&ndarray::Array1::from(q));
        }
        Ok(p)
    }

    /// `samples` draws of the class probabilities `[S, N, K]`: logits drawn
    /// from their Gaussian, then the link. Their mean over draws is the
    /// Monte Carlo predictive.
    ///
    /// # Errors
    /// As [`logit_moments`](Self::logit_moments); zero samples.
    pub fn sample_probabilities(
        &self,
        features: ArrayView2<'_, f64>,
        samples: usize,
        rng: &mut dyn RngCore,
    ) -> Result<Array3<f64>> {
        if samples == 0 {
            return Err(crate::error::config("samples", "0; must be >= 1"));
        }
        let (mean, var) = self.logit_moments(features)?;
        let (n, m) = mean.dim();
        let roots: Vec<Array2<f64>> = (0..n)
            .map(|i| psd_root(&var.index_axis(Axis(0), i).to_owned()))
            .collect();
        let k = self.cfg.head.classes(m);
        let mut out = Array3::zeros((samples, n, k));
        for si in 0..samples {
            for i in 0..n {
                let z: Vec<f64> = (0..m).map(|_| StandardNormal.sample(&mut *rng)).collect();
                let f: Vec<f64> = (0..m)
                    .map(|a| mean[[i, a]] + (0..=a).map(|b| roots[i][[a, b]] * z[b]).sum::<f64>())
                    .collect();
                let p = self.cfg.head.probabilities(&f);
                out.slice_mut(s![si, i, ..])
                    .assign(&ndarray::Array1::from(p));
            }
        }
        Ok(out)
    }
}

/// Lower-triangular L with L L^T = a for a positive semi-definite `a`
/// (a zero pivot leaves its column zero).
fn psd_root(a: &Array2<f64>) -> Array2<f64> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let d = a[[j, j]] - (0..j).map(|k| l[[j, k]] * l[[j, k]]).sum::<f64>();
        if d <= 1e-300 {
            continue;
        }
        let d = d.sqrt();
        l[[j, j]] = d;
        for i in j + 1..n {
            let s: f64 = a[[i, j]] - (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum::<f64>();
            l[[i, j]] = s / d;
        }
    }
    l
}
