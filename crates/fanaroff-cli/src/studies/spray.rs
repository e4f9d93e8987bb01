//! `kind = "spray"`: spectral relevance analysis (Lapuschkin et al. 2019)
//! of the trained model on the test images. LRP maps of the predicted
//! class (at the posterior mean) are clustered; per cluster the study
//! records its size, accuracy and where its relevance falls (the source,
//! other sources, the border; see `fanaroff_attention::region_masks`),
//! tests whether the wrong predictions concentrate in a cluster, names the
//! concepts of the last conv layer (CRP; for the attention net, of its last
//! gated block) with reference images, and for a Bayesian model measures
//! how much the maps move between weight draws.

use crate::error::{Result, invalid};
use crate::studies::spray_maps::{at_mean, concepts, draw_maps, lrp_maps, predicted};
use crate::study::{StudyContext, StudySettings};
use fanaroff_attention::{
    LrpConfig, RegionConfig, RegionMasks, SprayConfig, SprayResult, TsneConfig, mask_fraction,
    region_masks, spray,
};
use fanaroff_calibrate::npy::{write_npy_f32, write_npy_f64, write_npy_i64};
use ndarray::{Array3, Axis, Ix4};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Settings of the SpRAy study.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `grid` | 8 | maps are average-pooled to `grid x grid` before clustering |
/// | `knn` | 10 | neighbours of the kNN affinity graph |
/// | `k_max` | 10 | the eigengap looks at the first `k_max` eigenvalues |
/// | `clusters` | eigengap | a fixed number of clusters instead |
/// | `perplexity` | 30 | of the t-SNE embedding (below the number of images) |
/// | `draws` | 8 | weight draws of a Bayesian model (0: none) |
/// | `concepts` | 4 | channels of the last conv layer reported (CRP) |
/// | `references` | 5 | reference images per concept |
/// | `examples` | 5 | example images per cluster (nearest its centre) |
/// | `regions` | centre radius 0.2, border 5 px | see `RegionConfig` |
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SprayStudy {
    /// Pooling grid.
    pub grid: usize,
    /// Neighbours of the affinity graph.
    pub knn: usize,
    /// Eigenvalues the eigengap looks at.
    pub k_max: usize,
    /// A fixed number of clusters (default: the eigengap's).
    pub clusters: Option<usize>,
    /// Perplexity of the t-SNE embedding.
    pub perplexity: f64,
    /// Weight draws of a Bayesian model.
    pub draws: usize,
    /// Concepts reported.
    pub concepts: usize,
    /// Reference images per concept.
    pub references: usize,
    /// Example images per cluster.
    pub examples: usize,
    /// The regions relevance is counted in.
    pub regions: RegionConfig,
    /// LRP rules.
    pub lrp: LrpConfig,
}

impl Default for SprayStudy {
    fn default() -> Self {
        SprayStudy {
            grid: 8,
            knn: 10,
            k_max: 10,
            clusters: None,
            perplexity: 30.0,
            draws: 8,
            concepts: 4,
            references: 5,
            examples: 5,
            regions: RegionConfig::default(),
            lrp: LrpConfig::default(),
        }
    }
}

impl SprayStudy {
    fn config(&self) -> SprayConfig {
        SprayConfig {
            grid: self.grid,
            knn: self.knn,
            k_max: self.k_max,
            clusters: self.clusters,
            tsne: Some(TsneConfig {
                perplexity: self.perplexity,
                ..TsneConfig::default()
            }),
            ..SprayConfig::default()
        }
    }
}

impl StudySettings for SprayStudy {
    const KIND: &'static str = "spray";

    fn check(&self) -> Result<()> {
        self.config().check()?;
        Ok(())
    }

    fn row_keys(&self) -> Vec<String> {
        vec!["part".into(), "cluster".into()]
    }

    fn run(&self, ctx: &mut StudyContext<'_>) -> Result<()> {
        if ctx.done("all") {
            return Ok(());
        }
        let exp = ctx.experiment;
        let mut model = ctx.fresh()?.model;
        at_mean(&mut *model);
        let test = exp.data.loader(&ctx.data.test)?;
        let x = test.inputs();
        let raw = test
            .examples()
            .mapv(f32::from)
            .into_dimensionality::<Ix4>()
            .map_err(|e| invalid("spray", e.to_string()))?
            .index_axis_move(Axis(1), 0);
        let labels = test.labels().to_vec();
        let classes = predicted(&*model, &x)?;
        let correct: Vec<bool> = classes.iter().zip(&labels).map(|(c, y)| c == y).collect();
        let maps = lrp_maps(&mut *model, &x, &classes, &self.lrp)?;
        let masks = region_masks(raw.view(), &self.regions)?;
        let mut rng = StdRng::seed_from_u64(exp.seed ^ 0x5b7a);
        let result = spray(maps.view(), &self.config(), &mut rng)?;
        let mut rows = self.cluster_rows(&result, &maps, &masks, &correct, &classes)?;
        if let Some(cs) = concepts(
            &mut *model,
            &x,
            &classes,
            self.concepts,
            self.references,
            &self.lrp,
        )? {
            rows.extend(cs.into_iter().map(|c| {
                json!({"part": "concept", "cluster": format!("{}:{}", c.layer, c.channel),
                       "share": c.share,
                       "references": c.references.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ")})
            }));
        }
        if exp.model.stochastic() && self.draws >= 2 {
            let draws = draw_maps(&mut *model, &x, self.draws, exp.seed ^ 0xd4a5, &self.lrp)?;
            rows.push(draw_row(&draws, &masks)?);
        }
        save(ctx.dir, &result, &maps, &correct, &labels)?;
        ctx.push_all("all", &rows)
    }
}

impl SprayStudy {
    /// The `all` row and one row per cluster.
    fn cluster_rows(
        &self,
        r: &SprayResult,
        maps: &Array3<f32>,
        masks: &RegionMasks,
        correct: &[bool],
        classes: &[usize],
    ) -> Result<Vec<Value>> {
        let summaries = r.summaries(maps.view(), correct, self.examples)?;
        let frac = |m: &Array3<bool>| r.mask_fractions(maps.view(), m.view());
        let (src, oth, bor) = (
            frac(&masks.source)?,
            frac(&masks.other)?,
            frac(&masks.border)?,
        );
        let errors: Vec<usize> = summaries
            .iter()
            .map(|s| s.size - (s.accuracy * s.size as f64).round() as usize)
            .collect();
        let sizes: Vec<usize> = summaries.iter().map(|s| s.size).collect();
        let (chi2, p) = error_concentration(&errors, &sizes);
        let all = |m: &Array3<bool>| -> Result<f64> {
            Ok(mean_some(&mask_fraction(maps.view(), m.view())?))
        };
        let n = correct.len();
        let mut rows = vec![json!({
            "part": "all", "cluster": "all", "size": n,
            "accuracy": correct.iter().filter(|&&c| c).count() as f64 / n as f64,
            "errors": errors.iter().sum::<usize>(),
            "source": all(&masks.source)?, "other": all(&masks.other)?, "border": all(&masks.border)?,
            "k": r.k, "eigengap_k": r.eigengap.suggested_k,
            "eigenvalues": r.eigengap.values.iter().map(|v| format!("{v:.4}")).collect::<Vec<_>>().join(" "),
            "error_chi2": chi2, "error_chi2_p": p,
        })];
        for (i, s) in summaries.iter().enumerate() {
            let members: Vec<usize> = (0..n).filter(|&j| r.labels[j] == s.cluster).collect();
            let class1 = members.iter().filter(|&&j| classes[j] == 1).count() as f64;
            rows.push(json!({
                "predicted_class1": class1 / members.len().max(1) as f64,
                "part": "cluster", "cluster": s.cluster.to_string(), "size": s.size,
                "accuracy": s.accuracy, "errors": errors[i],
                "source": src[i].mean, "other": oth[i].mean, "border": bor[i].mean,
                "examples": s.examples.iter().map(|e| e.to_string()).collect::<Vec<_>>().join(" "),
            }));
        }
        Ok(rows)
    }
}

/// Mean of the defined values (NaN when none is).
fn mean_some(v: &[Option<f64>]) -> f64 {
    let d: Vec<f64> = v.iter().flatten().copied().collect();
    if d.is_empty() {
        f64::NAN
    } else {
        d.iter().sum::<f64>() / d.len() as f64
    }
}

/// Pearson's chi-square of the errors per cluster against errors spread in
/// proportion to cluster size, and its p-value (k - 1 degrees of freedom;
/// NaN without errors or with one cluster). Expected counts below 5 make
/// the p-value approximate.
fn error_concentration(errors: &[usize], sizes: &[usize]) -> (f64, f64) {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    let (e, n) = (
        errors.iter().sum::<usize>() as f64,
        sizes.iter().sum::<usize>() as f64,
    );
    if e == 0.0 || sizes.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let chi2: f64 = errors
        .iter()
        .zip(sizes)
        .map(|(&o, &s)| {
            let expected = e * s as f64 / n;
            (o as f64 - expected).powi(2) / expected
        })
        .sum();
    let p = ChiSquared::new((sizes.len() - 1) as f64).map_or(f64::NAN, |d| 1.0 - d.cdf(chi2));
    (chi2, p)
}

/// How much a Bayesian model's maps move between weight draws: the mean
/// over images of `sum |std over draws| / sum |mean over draws|` of the
/// maps, and the mean over images of the standard deviation over draws of
/// the source fraction.
fn draw_row(draws: &[Array3<f32>], masks: &RegionMasks) -> Result<Value> {
    let views: Vec<_> = draws.iter().map(|d| d.view()).collect();
    let stack = ndarray::stack(Axis(0), &views).map_err(|e| invalid("spray", e.to_string()))?;
    let mean = stack.mean_axis(Axis(0)).expect("draws");
    let std = stack.std_axis(Axis(0), 1.0);
    let spread: Vec<f64> = mean
        .outer_iter()
        .zip(std.outer_iter())
        .map(|(m, s)| {
            f64::from(s.mapv(f32::abs).sum()) / f64::from(m.mapv(f32::abs).sum()).max(1e-30)
        })
        .collect();
    let fractions: Vec<Vec<Option<f64>>> = draws
        .iter()
        .map(|d| mask_fraction(d.view(), masks.source.view()))
        .collect::<fanaroff_nn::Result<_>>()?;
    let per_image: Vec<f64> = (0..mean.shape()[0])
        .filter_map(|i| {
            let v: Vec<f64> = fractions.iter().filter_map(|f| f[i]).collect();
            (v.len() >= 2).then(|| fanaroff_core::mean_std(&v).1)
        })
        .collect();
    Ok(json!({
        "part": "draws", "cluster": "all", "size": draws.len(),
        "map_spread": spread.iter().sum::<f64>() / spread.len() as f64,
        "source_std": per_image.iter().sum::<f64>() / per_image.len().max(1) as f64,
    }))
}

/// `spray/` in the run folder: the 2-D embedding, cluster labels, which
/// predictions were right, the labels, the eigenvalues and the mean map of
/// each cluster, for figures.
fn save(
    dir: &std::path::Path,
    r: &SprayResult,
    maps: &Array3<f32>,
    correct: &[bool],
    labels: &[usize],
) -> Result<()> {
    let out = dir.join("spray");
    std::fs::create_dir_all(&out).map_err(fanaroff_core::io(&out))?;
    let i64s = |v: &[usize]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
    let e = &r.embedding;
    write_npy_f64(
        out.join("embedding.npy"),
        &[e.nrows(), e.ncols()],
        &e.iter().copied().collect::<Vec<_>>(),
    )?;
    write_npy_i64(
        out.join("clusters.npy"),
        &[r.labels.len()],
        &i64s(&r.labels),
    )?;
    write_npy_i64(out.join("labels.npy"), &[labels.len()], &i64s(labels))?;
    let right: Vec<i64> = correct.iter().map(|&c| i64::from(c)).collect();
    write_npy_i64(out.join("correct.npy"), &[right.len()], &right)?;
    let ev = r.eigenvalues.to_vec();
    write_npy_f64(out.join("eigenvalues.npy"), &[ev.len()], &ev)?;
    let (_, h, w) = maps.dim();
    let mut mean_maps = Array3::<f32>::zeros((r.k, h, w));
    for k in 0..r.k {
        let idx: Vec<usize> = (0..r.labels.len()).filter(|&i| r.labels[i] == k).collect();
        if !idx.is_empty() {
            let sel = maps.select(Axis(0), &idx);
            mean_maps
                .index_axis_mut(Axis(0), k)
                .assign(&sel.mean_axis(Axis(0)).expect("images"));
        }
    }
    write_npy_f32(
        out.join("mean_maps.npy"),
        &[r.k, h, w],
        &mean_maps.iter().copied().collect::<Vec<_>>(),
    )?;
    Ok(())
}
