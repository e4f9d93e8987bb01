//! Physically motivated FRI and FRII surface-brightness models.
//!
//! Both classes share a core, two opposite jets/lobes along a random axis,
//! a side-to-side brightness ratio (Doppler boosting) and optional bending.
//!
//! * **FRI** (edge-darkened): a chain of Gaussian knots whose brightness
//!   falls as `(1 + t/t_c)^-α` from the core outwards while the jet widens
//!   into plumes; a prominent core.
//! * **FRII** (edge-brightened): compact hotspots near the ends, diffuse
//!   lobes behind them, a weak core and, sometimes, a faint jet.
//!
//! `ambiguity` moves some sources towards the other class: FRI with a
//! bright flare far out, FRII with weak hotspots and a brighter jet.

use ndarray::Array2;
use rand::Rng;

use super::config::SyntheticConfig;
use super::render::add_gaussian;

fn log_uniform(rng: &mut impl Rng, lo: f32, hi: f32) -> f32 {
    if hi <= lo {
        return lo;
    }
    (rng.random_range(lo.ln()..hi.ln())).exp()
}

fn uniform(rng: &mut impl Rng, lo: f32, hi: f32) -> f32 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..hi)
    }
}

/// Geometry shared by both classes.
struct Axis {
    centre: (f32, f32),
    theta: f32,
    half_length: f32,
    side_flux: [f32; 2],
    bend: f32,
}

impl Axis {
    fn draw(cfg: &SyntheticConfig, frii: bool, rng: &mut impl Rng) -> Axis {
        let n = cfg.image_size as f32;
        let centre = (
            (n - 1.0) / 2.0 + uniform(rng, -2.0, 2.0),
            (n - 1.0) / 2.0 + uniform(rng, -2.0, 2.0),
        );
        let half_length = log_uniform(rng, cfg.size_range.0, cfg.size_range.1);
        let ratio = uniform(rng, 1.0, cfg.max_flux_ratio);
        let side_flux = if rng.random_bool(0.5) {
            [1.0, 1.0 / ratio]
        } else {
            [1.0 / ratio, 1.0]
        };
        let bend = if rng.random::<f32>() < cfg.bent_fraction {
            let b = if frii {
                uniform(rng, 0.15, 0.6)
            } else {
                uniform(rng, 0.4, 1.3)
            };
            if rng.random_bool(0.5) { b } else { -b }
        } else {
            0.0
        };
        Axis {
            centre,
            theta: uniform(rng, 0.0, std::f32::consts::TAU),
            half_length,
            side_flux,
            bend,
        }
    }

    /// Points along one side: `(x, y, direction)` at fractions `t` of the length.
    /// Both sides bend towards the same side of the axis (wide-angle tail).
    fn path(&self, side: usize, ts: &[f32]) -> Vec<(f32, f32, f32)> {
        const STEPS: usize = 64;
        let base = self.theta + if side == 1 { std::f32::consts::PI } else { 0.0 };
        let sign = if side == 1 { 1.0 } else { -1.0 };
        let dl = self.half_length / STEPS as f32;
        let mut pts = Vec::with_capacity(STEPS + 1);
        let (mut x, mut y) = self.centre;
        for s in 0..=STEPS {
            let t = s as f32 / STEPS as f32;
            let phi = base + sign * self.bend * t * t;
            pts.push((x, y, phi));
            x += dl * phi.cos();
            y += dl * phi.sin();
        }
        ts.iter()
            .map(|&t| {
                let f = t.clamp(0.0, 1.0) * STEPS as f32;
                let k = (f.floor() as usize).min(STEPS - 1);
                let a = f - k as f32;
                let (p, q) = (pts[k], pts[k + 1]);
                (
                    p.0 + a * (q.0 - p.0),
                    p.1 + a * (q.1 - p.1),
                    p.2 + a * (q.2 - p.2),
                )
            })
            .collect()
    }
}

/// Draws a noise-free FRI into `img`; returns whether it is bent.
pub(crate) fn draw_fri(img: &mut Array2<f32>, cfg: &SyntheticConfig, rng: &mut impl Rng) -> bool {
    let beam = cfg.beam_fwhm / 2.3548;
    let ax = Axis::draw(cfg, false, rng);
    let alpha = uniform(rng, 0.8, 2.2);
    let t_c = uniform(rng, 0.05, 0.3);
    let widen = uniform(rng, 0.05, 0.2);
    let core = uniform(rng, 0.3, 1.5);
    add_gaussian(img, ax.centre, core, beam, beam, 0.0);
    let n = ((ax.half_length / (0.9 * beam)).ceil() as usize).clamp(4, 18);
    let ts: Vec<f32> = (1..=n).map(|k| k as f32 / n as f32).collect();
    let flare = rng.random::<f32>() < cfg.ambiguity;
    let flare_at = uniform(rng, 0.6, 0.95);
    let flare_amp = uniform(rng, 0.15, 0.5);
    for side in 0..2 {
        let pts = ax.path(side, &ts);
        for (&t, &(x, y, phi)) in ts.iter().zip(&pts) {
            let r = t * ax.half_length;
            let sigma_v = 0.6 * beam + widen * r;
            let sigma_u = (ax.half_length / n as f32 * 1.2)
                .max(0.7 * sigma_v)
                .max(beam);
            let knot = uniform(rng, 0.7, 1.3);
            let mut amp = ax.side_flux[side] * knot * (1.0 + t / t_c).powf(-alpha);
            if flare && (t - flare_at).abs() < 1.0 / n as f32 + 0.03 {
                amp += ax.side_flux[side] * flare_amp;
            }
            add_gaussian(img, (x, y), amp, sigma_u, sigma_v, phi);
        }
    }
    ax.bend != 0.0
}

/// Draws a noise-free FRII into `img`.
pub(crate) fn draw_frii(img: &mut Array2<f32>, cfg: &SyntheticConfig, rng: &mut impl Rng) {
    let beam = cfg.beam_fwhm / 2.3548;
    let ax = Axis::draw(cfg, true, rng);
    let core = log_uniform(rng, 0.02, 0.6);
    add_gaussian(img, ax.centre, core, beam, beam, 0.0);
    let weak = rng.random::<f32>() < cfg.ambiguity;
    let hot_scale = if weak { uniform(rng, 0.15, 0.5) } else { 1.0 };
    let jet_amp = if weak {
        uniform(rng, 0.1, 0.35)
    } else if rng.random_bool(0.3) {
        uniform(rng, 0.02, 0.1)
    } else {
        0.0
    };
    for side in 0..2 {
        let f = ax.side_flux[side];
        let t_hot = uniform(rng, 0.85, 1.0);
        let t_lobe = t_hot - uniform(rng, 0.1, 0.3);
        let mut ts = vec![t_lobe.max(0.05), t_hot];
        let jet_n = 12;
        ts.extend((1..jet_n).map(|k| k as f32 / jet_n as f32 * t_lobe));
        ts.sort_by(f32::total_cmp);
        let pts = ax.path(side, &ts);
        for (&t, &(x, y, phi)) in ts.iter().zip(&pts) {
            if t == t_hot {
                let s = beam * uniform(rng, 0.8, 1.5);
                add_gaussian(img, (x, y), f * hot_scale, s, s, phi);
            } else if t == t_lobe.max(0.05) {
                let su = ax.half_length * uniform(rng, 0.12, 0.3) + beam;
                let sv = ax.half_length * uniform(rng, 0.06, 0.18) + beam;
                add_gaussian(img, (x, y), f * uniform(rng, 0.1, 0.4), su, sv, phi);
            } else if jet_amp > 0.0 {
                let su = (ax.half_length / jet_n as f32).max(beam);
                add_gaussian(img, (x, y), f * jet_amp, su, beam * 0.8, phi);
            }
        }
    }
}
