//! SpRAy (spectral relevance analysis): the eigen solver, Laplacian and
//! kNN graph against numpy / scipy / scikit-learn
//! (`fixtures/spray/spray_reference.json`), clustering of planted groups,
//! t-SNE, cluster summaries and bad input.

use approx::assert_abs_diff_eq;
use fanaroff_attention::{
    AffinityWeights, KMeansConfig, MapNorm, SprayConfig, TsneConfig, cluster_mask_fractions,
    cluster_summaries, eigengap, kmeans, knn_affinity, laplacian_spectrum, maps_view,
    mask_fraction, normalized_laplacian, pool_maps, spectral_clustering, spray, symmetric_eigen,
    tsne,
};
use ndarray::{Array2, Array3, ArrayD, IxDyn, array, s};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

fn fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/spray/spray_reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone()).unwrap();
    let (n, m) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((n, m), rows.concat()).unwrap()
}

fn vector(v: &Value) -> Vec<f64> {
    serde_json::from_value(v.clone()).unwrap()
}

/// Element-wise `|a - b| <= tol` over two equally long sequences.
#[track_caller]
fn assert_close<'a, 'b>(
    a: impl IntoIterator<Item = &'a f64>,
    b: impl IntoIterator<Item = &'b f64>,
    tol: f64,
) {
    let (a, b): (Vec<f64>, Vec<f64>) = (
        a.into_iter().copied().collect(),
        b.into_iter().copied().collect(),
    );
    assert_eq!(a.len(), b.len(), "lengths differ");
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!((x - y).abs() <= tol, "element {i}: {x} vs {y} (tol {tol})");
    }
}

/// `a` and `b` are the same partition (labels equal up to a permutation).
fn same_partition(a: &[usize], b: &[usize]) -> bool {
    let mut ab = std::collections::HashMap::new();
    let mut ba = std::collections::HashMap::new();
    a.iter()
        .zip(b)
        .all(|(x, y)| *ab.entry(x).or_insert(y) == y && *ba.entry(y).or_insert(x) == x)
}

fn check_decomposition(a: &Array2<f64>, tol: f64) {
    let e = symmetric_eigen(a.view()).unwrap();
    let n = a.nrows();
    let vtv = e.vectors.t().dot(&e.vectors);
    assert_close(&vtv, &Array2::eye(n), tol);
    let av = a.dot(&e.vectors);
    let vl = &e.vectors * &e.values;
    assert_close(&av, &vl, tol * 10.0);
    assert!(e.values.windows(2).into_iter().all(|w| w[0] <= w[1]));
}

// ---------------------------------------------------------------- eigen

#[test]
fn eigen_of_diagonal_matrix() {
    let a = Array2::from_diag(&array![3.0, -1.0, 2.0, 0.5]);
    let e = symmetric_eigen(a.view()).unwrap();
    assert_close(&e.values, &array![-1.0, 0.5, 2.0, 3.0], 1e-15);
    // Eigenvectors are the unit vectors e_1, e_3, e_2, e_0 up to sign.
    for (col, unit) in [1, 3, 2, 0].into_iter().enumerate() {
        assert_abs_diff_eq!(e.vectors[[unit, col]].abs(), 1.0, epsilon = 1e-15);
    }
}

#[test]
fn eigen_of_2x2_known_answer() {
    // [[2, 1], [1, 2]]: eigenvalues 1 and 3, vectors (1, -1)/sqrt 2 and (1, 1)/sqrt 2.
    let a = array![[2.0, 1.0], [1.0, 2.0]];
    let e = symmetric_eigen(a.view()).unwrap();
    assert_close(&e.values, &array![1.0, 3.0], 1e-14);
    let h = std::f64::consts::FRAC_1_SQRT_2;
    let v0 = e.vectors.column(0).to_owned() * e.vectors[[0, 0]].signum();
    let v1 = e.vectors.column(1).to_owned() * e.vectors[[0, 1]].signum();
    assert_close(&v0, &array![h, -h], 1e-14);
    assert_close(&v1, &array![h, h], 1e-14);
}

#[test]
fn eigen_of_small_and_degenerate_matrices() {
    let one = array![[4.5]];
    let e = symmetric_eigen(one.view()).unwrap();
    assert_eq!(e.values[0], 4.5);
    assert_eq!(e.vectors[[0, 0]].abs(), 1.0);
    check_decomposition(&Array2::eye(7), 1e-14);
    check_decomposition(&Array2::ones((9, 9)), 1e-13);
    check_decomposition(&Array2::zeros((5, 5)), 1e-14);
    // Already tridiagonal, and a matrix with a zero column in the middle.
    let mut t = Array2::from_diag(&array![1.0, 2.0, 3.0, 4.0, 5.0]);
    for i in 0..4 {
        t[[i, i + 1]] = 0.5;
        t[[i + 1, i]] = 0.5;
    }
    check_decomposition(&t, 1e-13);
    t.row_mut(2).fill(0.0);
    t.column_mut(2).fill(0.0);
    check_decomposition(&t, 1e-13);
}

#[test]
fn eigen_of_hard_matrices() {
    // Wilkinson's W21+: pairs of eigenvalues agreeing to ~1e-14 at the top.
    let mut w = Array2::<f64>::zeros((21, 21));
    for i in 0..21 {
        w[[i, i]] = (10.0 - i as f64).abs();
        if i < 20 {
            w[[i, i + 1]] = 1.0;
            w[[i + 1, i]] = 1.0;
        }
    }
    check_decomposition(&w, 1e-12);
    let e = symmetric_eigen(w.view()).unwrap();
    // Its largest eigenvalue is 10.746194182903393 (Wilkinson 1965).
    assert_abs_diff_eq!(e.values[20], 10.746_194_182_903_393, epsilon = 1e-12);
    // Entries over twenty orders of magnitude.
    let g = Array2::from_shape_fn((8, 8), |(i, j)| {
        10f64.powi(-((i + j) as i32)) * if i == j { 2.0 } else { 1.0 }
    });
    check_decomposition(&g, 1e-14);
    // Only one off-diagonal pair.
    let mut o = Array2::<f64>::zeros((6, 6));
    o[[1, 4]] = 2.0;
    o[[4, 1]] = 2.0;
    let e = symmetric_eigen(o.view()).unwrap();
    assert_close(&e.values, &[-2.0, 0.0, 0.0, 0.0, 0.0, 2.0], 1e-14);
    check_decomposition(&o, 1e-14);
}

#[test]
fn eigen_matches_numpy_eigh() {
    let f = fixture();
    for case in f["eigh"].as_array().unwrap() {
        let a = matrix(&case["a"]);
        let e = symmetric_eigen(a.view()).unwrap();
        let values = vector(&case["values"]);
        assert_close(&e.values, &values, 1e-9);
        let v = matrix(&case["vectors"]);
        for j in 0..a.nrows() {
            let ours = e.vectors.column(j);
            let sign = ours.dot(&v.column(j)).signum();
            assert_close(&(ours.to_owned() * sign), v.column(j), 1e-8);
        }
        check_decomposition(&a, 1e-12);
    }
}

#[test]
fn eigen_of_random_symmetric_matrices() {
    let mut rng = StdRng::seed_from_u64(3);
    for n in [2, 3, 10, 60] {
        let b = Array2::from_shape_fn((n, n), |_| rng.random::<f64>() - 0.5);
        check_decomposition(&(&b + &b.t()), 1e-12);
    }
}

/// `cargo test --release -p fanaroff-attention --test spray -- --ignored`
#[test]
#[ignore = "timing; run in release"]
fn eigen_500_is_fast() {
    let mut rng = StdRng::seed_from_u64(0);
    let b = Array2::from_shape_fn((500, 500), |_| rng.random::<f64>() - 0.5);
    let a = &b + &b.t();
    let start = std::time::Instant::now();
    let e = symmetric_eigen(a.view()).unwrap();
    let took = start.elapsed();
    eprintln!("500 x 500: {took:?}");
    assert!(took.as_secs_f64() < 1.0);
    assert_close(&a.dot(&e.vectors), &(&e.vectors * &e.values), 1e-9);
}

// ---------------------------------------------------------------- graph

/// Binary affinity of disconnected cliques of the given sizes.
fn cliques(sizes: &[usize]) -> Array2<f64> {
    let n = sizes.iter().sum();
    let mut w = Array2::zeros((n, n));
    let mut start = 0;
    for &s in sizes {
        w.slice_mut(s![start..start + s, start..start + s])
            .fill(1.0);
        start += s;
    }
    w.diag_mut().fill(0.0);
    w
}

#[test]
fn three_cliques_give_three_zero_eigenvalues() {
    let w = cliques(&[4, 5, 6]);
    let spectrum = laplacian_spectrum(w.view()).unwrap();
    let v = &spectrum.values;
    assert!(v.iter().take(3).all(|x| x.abs() < 1e-12), "{v}");
    // A clique of m nodes has the non-zero eigenvalue m / (m - 1) > 1.
    assert!(v[3] > 1.0 - 1e-12);
    let gap = eigengap(v.view(), 6).unwrap();
    assert_eq!(gap.suggested_k, 3);
    assert_eq!(gap.values.len(), 7);
    assert_eq!(gap.gaps.len(), 6);
    assert_abs_diff_eq!(gap.gaps[2], v[3] - v[2], epsilon = 1e-15);
}

#[test]
fn isolated_node_gives_no_nan() {
    let mut w = cliques(&[3, 3, 1]);
    w[[0, 0]] = 5.0; // a self-loop is ignored
    let l = normalized_laplacian(w.view()).unwrap();
    assert!(l.iter().all(|x| x.is_finite()));
    assert_eq!(l[[6, 6]], 0.0);
    assert_eq!(l[[0, 0]], 1.0);
    let km = KMeansConfig {
        k: 3,
        ..KMeansConfig::default()
    };
    let sc = spectral_clustering(w.view(), &km, &mut StdRng::seed_from_u64(0)).unwrap();
    assert!(sc.embedding.iter().all(|x| x.is_finite()));
    assert!(same_partition(&sc.kmeans.labels, &[0, 0, 0, 1, 1, 1, 2]));
    // With k = 2 the isolated node's own eigenvector may be left out: its
    // row is zero, not NaN.
    let km = KMeansConfig { k: 2, ..km };
    let sc = spectral_clustering(w.view(), &km, &mut StdRng::seed_from_u64(0)).unwrap();
    assert!(sc.embedding.iter().all(|x| x.is_finite()));
}

#[test]
fn laplacian_matches_scipy_and_sklearn() {
    let f = fixture();
    let case = &f["laplacian"];
    let w = matrix(&case["w"]);
    let l = normalized_laplacian(w.view()).unwrap();
    assert_close(&l, &matrix(&case["l"]), 1e-12);
    let spectrum = laplacian_spectrum(w.view()).unwrap();
    let values = vector(&case["values"]);
    assert_close(&spectrum.values, &values, 1e-9);
    let sub = w.slice(s![..11, ..11]);
    let km = KMeansConfig {
        k: 3,
        ..KMeansConfig::default()
    };
    let ours = spectral_clustering(sub, &km, &mut StdRng::seed_from_u64(1)).unwrap();
    let theirs: Vec<usize> = serde_json::from_value(case["sklearn_labels"].clone()).unwrap();
    assert!(same_partition(&ours.kmeans.labels, &theirs));
}

#[test]
fn knn_affinity_matches_sklearn() {
    let f = fixture();
    let case = &f["knn"];
    let x = matrix(&case["x"]);
    let k = case["k"].as_u64().unwrap() as usize;
    let w = knn_affinity(x.view(), k, AffinityWeights::Binary).unwrap();
    assert_eq!(w, matrix(&case["w"]));
    // Gaussian weights sit on the same edges, in (0, 1], symmetric.
    let g = knn_affinity(x.view(), k, AffinityWeights::Gaussian).unwrap();
    assert_eq!(g.mapv(|v| f64::from(u8::from(v > 0.0))), w);
    assert!(g.iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert_eq!(g, g.t());
}

// ---------------------------------------------------------------- pooling

#[test]
fn pooling_with_uneven_bins() {
    // 5 x 4 map, grid 2: rows {0,1,2} / {3,4}, columns {0,1} / {2,3}.
    let map = Array3::from_shape_fn((1, 5, 4), |(_, i, j)| (i * 4 + j) as f32);
    let f = pool_maps(map.view(), 2, MapNorm::None).unwrap();
    let mean = |rows: &[usize], cols: &[usize]| {
        let s: usize = rows
            .iter()
            .flat_map(|i| cols.iter().map(move |j| i * 4 + j))
            .sum();
        s as f64 / (rows.len() * cols.len()) as f64
    };
    let expect = [
        mean(&[0, 1, 2], &[0, 1]),
        mean(&[0, 1, 2], &[2, 3]),
        mean(&[3, 4], &[0, 1]),
        mean(&[3, 4], &[2, 3]),
    ];
    assert_close(&f, &expect, 1e-12);
    // L1: divided by sum |R| = 0 + 1 + ... + 19 = 190.
    let g = pool_maps(map.view(), 2, MapNorm::L1).unwrap();
    assert_close(&g, &(f / 190.0), 1e-12);
    // An all-zero map stays zero; [N, 1, H, W] is accepted.
    let zero = ArrayD::<f32>::zeros(IxDyn(&[2, 1, 4, 4]));
    let z = pool_maps(maps_view(&zero).unwrap(), 4, MapNorm::L1).unwrap();
    assert!(z.iter().all(|&v| v == 0.0));
    assert_eq!(z.dim(), (2, 16));
}

// ---------------------------------------------------------------- clustering

/// Maps with a relevance blob at the left, right or centre (20 each, in
/// that order), jittered by a pixel, plus uniform noise.
fn planted_maps(seed: u64) -> (Array3<f32>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (per, size) = (20, 16);
    let centres = [3.0, 12.0, 7.5];
    let mut maps = Array3::zeros((3 * per, size, size));
    let mut truth = Vec::new();
    for (g, &cx) in centres.iter().enumerate() {
        for k in 0..per {
            let dx: f32 = rng.random_range(-1.0..1.0);
            let dy: f32 = rng.random_range(-1.0..1.0);
            let mut m = maps.index_axis_mut(ndarray::Axis(0), g * per + k);
            for ((i, j), v) in m.indexed_iter_mut() {
                let r2 = (i as f32 - 7.5 - dy).powi(2) + (j as f32 - cx - dx).powi(2);
                *v = (-r2 / 4.0).exp() + rng.random_range(-0.05..0.05);
            }
            truth.push(g);
        }
    }
    (maps, truth)
}

fn small_config() -> SprayConfig {
    SprayConfig {
        knn: 10,
        k_max: 8,
        tsne: Some(TsneConfig {
            perplexity: 10.0,
            iterations: 300,
            exaggeration_iters: 100,
            ..TsneConfig::default()
        }),
        ..SprayConfig::default()
    }
}

#[test]
fn spray_recovers_planted_groups() {
    let (maps, truth) = planted_maps(7);
    let cfg = small_config();
    let r = spray(maps.view(), &cfg, &mut StdRng::seed_from_u64(11)).unwrap();
    assert_eq!(r.eigengap.suggested_k, 3, "{:?}", r.eigengap);
    assert_eq!(r.k, 3);
    assert!(same_partition(&r.labels, &truth), "{:?}", r.labels);
    assert_eq!(r.features.dim(), (60, 64));
    assert_eq!(r.embedding.dim(), (60, 3));
    assert_eq!(r.tsne.as_ref().unwrap().embedding.dim(), (60, 2));
    // Deterministic for a seed, including the t-SNE.
    let again = spray(maps.view(), &cfg, &mut StdRng::seed_from_u64(11)).unwrap();
    assert_eq!(r, again);
    // With 25 neighbours of 20 same-group maps the graph is connected
    // (the centre group bridges the others, and the eigengap then prefers
    // 2); with k = 3 given, the groups are still found.
    let dense = SprayConfig {
        knn: 25,
        clusters: Some(3),
        tsne: None,
        ..cfg.clone()
    };
    let r = spray(maps.view(), &dense, &mut StdRng::seed_from_u64(11)).unwrap();
    assert!(r.eigenvalues[1] > 1e-3, "{}", r.eigenvalues);
    assert!(same_partition(&r.labels, &truth), "{:?}", r.labels);
    // A fixed number of clusters overrides the eigengap.
    let cfg2 = SprayConfig {
        clusters: Some(2),
        tsne: None,
        ..cfg
    };
    let r2 = spray(maps.view(), &cfg2, &mut StdRng::seed_from_u64(11)).unwrap();
    assert_eq!(r2.k, 2);
    assert!(r2.tsne.is_none());
}

#[test]
fn kmeans_finds_separated_groups_and_is_seeded() {
    let x = array![
        [0.0, 0.0],
        [0.1, 0.0],
        [10.0, 10.0],
        [10.0, 10.2],
        [0.0, 0.2],
        [10.1, 10.0]
    ];
    let cfg = KMeansConfig {
        k: 2,
        restarts: 3,
        max_iter: 50,
    };
    let a = kmeans(x.view(), &cfg, &mut StdRng::seed_from_u64(5)).unwrap();
    assert_eq!(a.labels, vec![0, 0, 1, 1, 0, 1]);
    assert_abs_diff_eq!(a.centroids[[0, 1]], 0.2 / 3.0, epsilon = 1e-12);
    let b = kmeans(x.view(), &cfg, &mut StdRng::seed_from_u64(5)).unwrap();
    assert_eq!(a, b);
    // k = N: every point its own cluster, inertia 0.
    let all = KMeansConfig { k: 6, ..cfg };
    let c = kmeans(x.view(), &all, &mut StdRng::seed_from_u64(5)).unwrap();
    assert_eq!(c.labels, vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(c.inertia, 0.0);
    // Duplicate points and k larger than the number of distinct points.
    let dup = Array2::<f64>::zeros((4, 2));
    let d = kmeans(
        dup.view(),
        &KMeansConfig { k: 3, ..cfg },
        &mut StdRng::seed_from_u64(5),
    )
    .unwrap();
    assert_eq!(d.inertia, 0.0);
}

// ---------------------------------------------------------------- t-SNE

fn blobs(seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Array2::zeros((60, 10));
    let mut truth = Vec::new();
    for i in 0..60 {
        let g = i / 20;
        for d in 0..10 {
            let centre = if d == g { 10.0 } else { 0.0 };
            x[[i, d]] = centre + rng.random_range(-1.0..1.0);
        }
        truth.push(g);
    }
    (x, truth)
}

#[test]
fn tsne_keeps_blobs_apart_and_is_seeded() {
    let (x, truth) = blobs(2);
    let cfg = TsneConfig {
        perplexity: 10.0,
        iterations: 400,
        exaggeration_iters: 100,
        ..TsneConfig::default()
    };
    let t = tsne(x.view(), &cfg, &mut StdRng::seed_from_u64(4)).unwrap();
    let y = &t.embedding;
    for i in 0..60 {
        let nearest = (0..60)
            .filter(|&j| j != i)
            .min_by(|&a, &b| {
                let da = (&y.row(i) - &y.row(a)).mapv(|v| v * v).sum();
                let db = (&y.row(i) - &y.row(b)).mapv(|v| v * v).sum();
                da.total_cmp(&db)
            })
            .unwrap();
        assert_eq!(truth[nearest], truth[i], "point {i}");
    }
    assert!(t.kl.is_finite() && t.kl >= 0.0);
    let again = tsne(x.view(), &cfg, &mut StdRng::seed_from_u64(4)).unwrap();
    assert_eq!(t, again);
    let other = tsne(x.view(), &cfg, &mut StdRng::seed_from_u64(5)).unwrap();
    assert_ne!(t.embedding, other.embedding);
}

// ---------------------------------------------------------------- summaries

#[test]
fn cluster_summary_by_hand() {
    // Four 2 x 2 maps; clusters {0, 2} and {1, 3}.
    let maps = array![
        [[1.0f32, 0.0], [0.0, 1.0]],
        [[-1.0, 2.0], [0.0, 0.0]],
        [[3.0, 0.0], [2.0, -1.0]],
        [[0.0, 0.0], [0.0, 0.0]],
    ];
    let labels = [0, 1, 0, 1];
    let correct = [true, false, true, true];
    let embedding = array![[0.0], [5.0], [1.0], [8.0]];
    let s = cluster_summaries(&labels, &correct, maps.view(), embedding.view(), 1).unwrap();
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].cluster, s[0].size), (0, 2));
    assert_eq!((s[1].cluster, s[1].size), (1, 2));
    assert_eq!(s[0].accuracy, 1.0);
    assert_eq!(s[1].accuracy, 0.5);
    assert_eq!(s[0].mean_map, array![[2.0f32, 0.0], [1.0, 0.0]]);
    assert_eq!(s[1].mean_map, array![[-0.5f32, 1.0], [0.0, 0.0]]);
    // Centroids 0.5 and 6.5: ties go to the lower index; 5 is nearer 6.5 than 8.
    assert_eq!(s[0].examples, vec![0]);
    assert_eq!(s[1].examples, vec![1]);
    let all = cluster_summaries(&labels, &correct, maps.view(), embedding.view(), 5).unwrap();
    assert_eq!(all[1].examples, vec![1, 3]);

    // Masks: the top row. Positive relevance inside / total:
    // map 0: 1 / 2, map 1: 2 / 2, map 2: 3 / 5, map 3: none.
    let mut masks = Array3::from_elem((4, 2, 2), false);
    masks.slice_mut(s![.., 0, ..]).fill(true);
    let f = mask_fraction(maps.view(), masks.view()).unwrap();
    assert_eq!(f, vec![Some(0.5), Some(1.0), Some(0.6), None]);
    let c = cluster_mask_fractions(&labels, maps.view(), masks.view()).unwrap();
    assert_abs_diff_eq!(c[0].mean.unwrap(), 0.55, epsilon = 1e-12);
    assert_eq!((c[0].size, c[0].counted), (2, 2));
    assert_eq!(c[1].mean, Some(1.0));
    assert_eq!((c[1].size, c[1].counted), (2, 1));
    // Labels with a gap: no summary for the empty cluster 1.
    let gap = cluster_summaries(&[0, 2, 0, 2], &correct, maps.view(), embedding.view(), 1).unwrap();
    assert_eq!(
        gap.iter().map(|c| c.cluster).collect::<Vec<_>>(),
        vec![0, 2]
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn empty_or_non_finite_input_is_an_error() {
    let (maps, _) = planted_maps(1);
    let cfg = small_config();
    let rng = &mut StdRng::seed_from_u64(0);
    // Empty set.
    let empty = Array3::<f32>::zeros((0, 16, 16));
    assert!(
        spray(empty.view(), &cfg, rng)
            .unwrap_err()
            .is_invalid_input()
    );
    assert!(pool_maps(empty.view(), 4, MapNorm::L1).is_err());
    assert!(
        kmeans(
            Array2::<f64>::zeros((0, 2)).view(),
            &KMeansConfig::default(),
            rng
        )
        .is_err()
    );
    assert!(symmetric_eigen(Array2::<f64>::zeros((0, 0)).view()).is_err());
    // NaN in a map.
    let mut nan = maps.clone();
    nan[[5, 3, 3]] = f32::NAN;
    assert!(spray(nan.view(), &cfg, rng).unwrap_err().is_invalid_input());
    let mut inf = Array2::<f64>::eye(3);
    inf[[1, 1]] = f64::INFINITY;
    assert!(symmetric_eigen(inf.view()).is_err());
}

#[test]
fn bad_sizes_are_errors() {
    let (maps, _) = planted_maps(1);
    let cfg = small_config();
    let rng = &mut StdRng::seed_from_u64(0);
    // k > N.
    let few = maps.slice(s![..5, .., ..]);
    let x = pool_maps(few, 4, MapNorm::L1).unwrap();
    assert!(
        knn_affinity(x.view(), 5, AffinityWeights::Binary)
            .unwrap_err()
            .is_invalid_config()
    );
    let km = KMeansConfig {
        k: 6,
        ..KMeansConfig::default()
    };
    assert!(kmeans(x.view(), &km, rng).unwrap_err().is_invalid_config());
    let w = cliques(&[2, 3]);
    assert!(spectral_clustering(w.view(), &km, rng).is_err());
    assert!(spray(few, &cfg, rng).is_err()); // knn 10 >= 5 maps
    let too_many = SprayConfig {
        clusters: Some(61),
        tsne: None,
        ..cfg.clone()
    };
    assert!(spray(maps.view(), &too_many, rng).is_err());
    assert!(eigengap(ndarray::Array1::zeros(4).view(), 4).is_err());
    let tcfg = TsneConfig {
        perplexity: 5.0,
        ..TsneConfig::default()
    };
    assert!(tsne(x.view(), &tcfg, rng).unwrap_err().is_invalid_config());
    // Grid 0 or finer than the map.
    assert!(
        pool_maps(maps.view(), 0, MapNorm::L1)
            .unwrap_err()
            .is_invalid_config()
    );
    assert!(pool_maps(maps.view(), 17, MapNorm::L1).is_err());
    let zero_grid = SprayConfig {
        grid: 0,
        ..cfg.clone()
    };
    assert!(
        spray(maps.view(), &zero_grid, rng)
            .unwrap_err()
            .is_invalid_config()
    );
}

#[test]
fn bad_shapes_are_errors() {
    let (maps, _) = planted_maps(1);
    // Mismatched lengths and shapes.
    let emb = Array2::<f64>::zeros((60, 2));
    let labels = vec![0usize; 60];
    assert!(cluster_summaries(&labels[..59], &[true; 60], maps.view(), emb.view(), 3).is_err());
    assert!(cluster_summaries(&labels, &[true; 59], maps.view(), emb.view(), 3).is_err());
    assert!(
        cluster_summaries(&labels, &[true; 60], maps.view(), emb.slice(s![..3, ..]), 3).is_err()
    );
    let masks = Array3::from_elem((60, 16, 15), true);
    assert!(mask_fraction(maps.view(), masks.view()).is_err());
    assert!(cluster_mask_fractions(&labels[..3], maps.view(), masks.view()).is_err());
    assert!(maps_view(&ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4, 4]))).is_err());
    // Not square, not symmetric, negative affinity.
    assert!(symmetric_eigen(Array2::<f64>::zeros((2, 3)).view()).is_err());
    assert!(symmetric_eigen(array![[1.0, 2.0], [0.0, 1.0]].view()).is_err());
    assert!(normalized_laplacian(array![[0.0, -1.0], [-1.0, 0.0]].view()).is_err());
    assert!(normalized_laplacian(array![[0.0, 1.0], [0.5, 0.0]].view()).is_err());
    // Bad t-SNE settings.
    let bad = TsneConfig {
        learning_rate: 0.0,
        ..TsneConfig::default()
    };
    assert!(bad.check().is_err());
    let bad = TsneConfig {
        momentum: 1.0,
        ..TsneConfig::default()
    };
    assert!(bad.check().is_err());
}

/// `cargo test --release -p fanaroff-attention --test spray -- --ignored`
#[test]
#[ignore = "timing; run in release"]
fn spray_500_maps_timing() {
    let (maps, _) = planted_maps(3);
    let mut many = Array3::<f32>::zeros((500, 16, 16));
    for i in 0..500 {
        many.index_axis_mut(ndarray::Axis(0), i)
            .assign(&maps.index_axis(ndarray::Axis(0), i % 60));
    }
    let mut rng = StdRng::seed_from_u64(0);
    many.mapv_inplace(|v| v + rng.random_range(-0.01..0.01));
    let start = std::time::Instant::now();
    let r = spray(many.view(), &SprayConfig::default(), &mut rng).unwrap();
    eprintln!(
        "spray on 500 maps of 16 x 16: {:?}, k = {}",
        start.elapsed(),
        r.k
    );
    let start = std::time::Instant::now();
    let cfg = SprayConfig {
        tsne: None,
        ..SprayConfig::default()
    };
    spray(many.view(), &cfg, &mut rng).unwrap();
    eprintln!("without t-SNE: {:?}", start.elapsed());
}
