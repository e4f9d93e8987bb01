//! Drawing elliptical Gaussians and beam-correlated noise on a canvas.

use ndarray::Array2;
use rand::Rng;
use rand_distr::StandardNormal;

/// Adds `amp * exp(-(u²/σu² + v²/σv²)/2)` centred at `(x, y)`, with `u`
/// along `angle` (radians, counter-clockwise from +x = column axis).
/// Only a ±3.2σ box is touched.
pub(crate) fn add_gaussian(
    img: &mut Array2<f32>,
    (x, y): (f32, f32),
    amp: f32,
    sigma_u: f32,
    sigma_v: f32,
    angle: f32,
) {
    let (h, w) = img.dim();
    let reach = 3.2 * sigma_u.max(sigma_v);
    let r0 = ((y - reach).floor().max(0.0)) as usize;
    let r1 = ((y + reach).ceil().min(h as f32 - 1.0)).max(-1.0);
    let c0 = ((x - reach).floor().max(0.0)) as usize;
    let c1 = ((x + reach).ceil().min(w as f32 - 1.0)).max(-1.0);
    if r1 < 0.0 || c1 < 0.0 {
        return;
    }
    let (r1, c1) = (r1 as usize, c1 as usize);
    let (ca, sa) = (angle.cos(), angle.sin());
    let (iu, iv) = (0.5 / (sigma_u * sigma_u), 0.5 / (sigma_v * sigma_v));
    for r in r0..=r1 {
        let dy = r as f32 - y;
        for c in c0..=c1 {
            let dx = c as f32 - x;
            let u = dx * ca + dy * sa;
            let v = -dx * sa + dy * ca;
            let q = u * u * iu + v * v * iv;
            if q < 10.0 {
                img[[r, c]] += amp * (-q).exp();
            }
        }
    }
}

/// Unit-variance Gaussian noise correlated over a Gaussian beam of
/// standard deviation `sigma` pixels (white noise blurred separably).
pub(crate) fn correlated_noise(h: usize, w: usize, sigma: f32, rng: &mut impl Rng) -> Array2<f32> {
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f32> = (-radius..=radius)
        .map(|i| (-0.5 * (i as f32 / sigma).powi(2)).exp())
        .collect();
    let norm: f32 = kernel.iter().map(|k| k * k).sum::<f32>().sqrt();
    let kernel: Vec<f32> = kernel.iter().map(|k| k / norm).collect();
    let pad = radius as usize;
    let (hp, wp) = (h + 2 * pad, w + 2 * pad);
    let white: Vec<f32> = (0..hp * wp)
        .map(|_| rng.sample::<f32, _>(StandardNormal))
        .collect();
    // Blur along rows (keeping padded rows), then along columns.
    let mut tmp = vec![0f32; hp * w];
    for r in 0..hp {
        let row = &white[r * wp..(r + 1) * wp];
        for c in 0..w {
            tmp[r * w + c] = kernel
                .iter()
                .zip(&row[c..c + kernel.len()])
                .map(|(k, v)| k * v)
                .sum();
        }
    }
    let mut out = Array2::<f32>::zeros((h, w));
    for r in 0..h {
        for c in 0..w {
            let mut acc = 0.0;
            for (k, kv) in kernel.iter().enumerate() {
                acc += kv * tmp[(r + k) * w + c];
            }
            out[[r, c]] = acc;
        }
    }
    out
}
