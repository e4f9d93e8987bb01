//! Seeded, stratified train/validation splits.

use rand::Rng;
use rand::seq::SliceRandom;

use crate::dataset::Dataset;
use crate::error::{Error, Result};

impl Dataset {
    /// Splits into `(train, validation)` with the same class proportions.
    ///
    /// ```text
    /// n_val   = floor(N * val_fraction)
    /// n_val_c = class c's share of n_val (largest remainder, ties to lower class index)
    /// ```
    /// Within each class the images are shuffled with `rng` and the first
    /// `n_val_c` go to validation. Both parts keep the original image order.
    /// With `val_fraction = 0.2`, the 729 confident training images of the
    /// official full release give 584 / 145 (our copy has 728: 583 / 145).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] unless `0 <= val_fraction < 1`.
    ///
    /// # Example
    /// ```
    /// use fanaroff_data::SyntheticConfig;
    /// use rand::SeedableRng;
    /// let ds = SyntheticConfig::default().with_seed(1).generate(50)?;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let (train, val) = ds.stratified_split(0.2, &mut rng)?;
    /// assert_eq!((train.len(), val.len()), (40, 10));
    /// # Ok::<(), fanaroff_data::Error>(())
    /// ```
    pub fn stratified_split(
        &self,
        val_fraction: f64,
        rng: &mut impl Rng,
    ) -> Result<(Dataset, Dataset)> {
        if !(0.0..1.0).contains(&val_fraction) {
            return Err(Error::param(
                "val_fraction",
                format!("{val_fraction}; must be in [0, 1)"),
            ));
        }
        let n = self.len();
        let n_val = (n as f64 * val_fraction).floor() as usize;
        let counts = self.class_counts();
        // Largest-remainder allocation of n_val over the classes.
        let quotas: Vec<f64> = counts
            .iter()
            .map(|&c| c as f64 * n_val as f64 / n.max(1) as f64)
            .collect();
        let mut alloc: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|&a, &b| {
            let ra = quotas[a] - quotas[a].floor();
            let rb = quotas[b] - quotas[b].floor();
            rb.total_cmp(&ra).then(a.cmp(&b))
        });
        let mut left = n_val - alloc.iter().sum::<usize>();
        for &c in order.iter().cycle().take(order.len() * 2) {
            if left == 0 {
                break;
            }
            if alloc[c] < counts[c] {
                alloc[c] += 1;
                left -= 1;
            }
        }
        let mut is_val = vec![false; n];
        for (c, &k) in alloc.iter().enumerate() {
            let mut members: Vec<usize> = (0..n).filter(|&i| self.labels()[i] == c).collect();
            members.shuffle(rng);
            for &i in members.iter().take(k) {
                is_val[i] = true;
            }
        }
        let train: Vec<usize> = (0..n).filter(|&i| !is_val[i]).collect();
        let val: Vec<usize> = (0..n).filter(|&i| is_val[i]).collect();
        Ok((self.select_unchecked(&train), self.select_unchecked(&val)))
    }
}
