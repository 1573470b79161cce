//! The terms of the OTUS loss.
//!
//! For one batch of M detector events x and, drawn independently, M parton
//! events z (METHOD.md):
//!
//! `loss = MSE(x, D(E(x))) + lambda SW(z, E(x))
//!        + beta_E A(x, E(x)) + beta_D A(z, D(z)) + gamma SW(x, D(z))`
//!
//! with MSE the mean over events and columns of the squared difference
//! (GeV^2, as the reference code's `data_loss`), SW the squared sliced
//! Wasserstein-2 distance (GeV^2) and A the anchor term (dimensionless).

use burn::tensor::{Int, Tensor, TensorData};

/// Squared sliced Wasserstein-2 distance between two equal-size samples.
///
/// - `a`, `b`: `[M, d]` samples (GeV);
/// - `directions`: `[L, d]` unit vectors;
/// - returns a `[1]` tensor: the mean over the L directions of the mean over
///   the M sorted projection pairs of their squared difference (GeV^2).
///
/// Projections are formed as `[L, M]` and sorted along the last dimension.
/// The sort ([`SortMode::Host`]) is differentiable through a gather, so
/// gradients flow to both samples.
pub fn sliced_w2(a: Tensor<2>, b: Tensor<2>, directions: Tensor<2>) -> Tensor<1> {
    sliced_w2_with(a, b, directions, SortMode::Host)
}

/// How projections are sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortMode {
    /// The backend's differentiable `sort`.
    Native,
    /// Sort indices computed on the host by [`argsort_rows`] (a parallel
    /// radix argsort), then a differentiable `gather` on the device. Needed
    /// by backends without a sort kernel (burn 0.22's GPU backends), and
    /// faster than flex's comparison sort on the CPU.
    Host,
}

impl SortMode {
    /// The mode the trainer uses on `device`: [`SortMode::Host`] on every
    /// backend. On flex (2 cores) it cut a training step at batch 20,000,
    /// L = 1000 from about 2.9 s to 2.4 s, and at 4,096 and L = 256 from
    /// 0.21 s to 0.14 s (`OTUS_SORT=native|host` with the `step_dump`
    /// example); GPU backends have no sort kernel at all.
    pub fn for_device(_device: &burn::tensor::Device) -> Self {
        SortMode::Host
    }
}

/// Sort `[L, M]` along the last dimension.
fn sort_rows(t: Tensor<2>, mode: SortMode) -> Tensor<2> {
    match mode {
        SortMode::Native => t.sort(1),
        SortMode::Host => {
            let [l, m] = t.dims();
            let values = t
                .to_data()
                .try_to_vec_as::<f32>()
                .expect("projections are f32");
            let idx = argsort_rows(&values, m);
            let device = t.device();
            let idx = Tensor::<2, Int>::from_data(TensorData::new(idx, [l, m]), &device);
            t.gather(1, idx)
        }
    }
}

/// For each row of the row-major `[rows, m]` array `values`, the indices
/// that sort it in ascending [`f32::total_cmp`] order (ties keep their
/// input order), as `i64` for a tensor `gather`.
///
/// Rows are sorted in parallel (rayon). Rows of at least
/// [`RADIX_MIN_LEN`] values are radix-sorted by `radsort` (a stable LSB
/// radix sort whose float order is `total_cmp`'s), which is linear in `m`;
/// shorter rows use a comparison sort.
///
/// # Panics
/// If `m` is zero or does not divide `values.len()`.
pub fn argsort_rows(values: &[f32], m: usize) -> Vec<i64> {
    use rayon::prelude::*;
    assert!(
        m > 0 && values.len().is_multiple_of(m),
        "rows of length {m}"
    );
    let mut out = vec![0i64; values.len()];
    out.par_chunks_mut(m)
        .zip(values.par_chunks(m))
        .for_each_init(Vec::new, |pairs: &mut Vec<(f32, u32)>, (ix, row)| {
            pairs.clear();
            pairs.extend(row.iter().zip(0u32..).map(|(&v, i)| (v, i)));
            if m < RADIX_MIN_LEN {
                pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
            } else {
                radsort::sort_by_key(pairs, |p| p.0);
            }
            ix.iter_mut()
                .zip(pairs.iter())
                .for_each(|(x, p)| *x = i64::from(p.1));
        });
    out
}

/// Shortest row [`argsort_rows`] radix-sorts; below it the counting passes
/// cost more than a comparison sort.
pub const RADIX_MIN_LEN: usize = 256;

/// [`sliced_w2`] with an explicit [`SortMode`].
pub fn sliced_w2_with(
    a: Tensor<2>,
    b: Tensor<2>,
    directions: Tensor<2>,
    mode: SortMode,
) -> Tensor<1> {
    let [m_a, d_a] = a.dims();
    let [m_b, d_b] = b.dims();
    assert_eq!(m_a, m_b, "sliced_w2 needs samples of equal size");
    assert_eq!(d_a, d_b, "sliced_w2 needs samples of equal dimension");
    let pa = sort_rows(directions.clone().matmul(a.transpose()), mode);
    let pb = sort_rows(directions.matmul(b.transpose()), mode);
    // Two-stage mean: a single f32 reduction over L * M (20 million at the
    // paper's size) loses several per cent to rounding on flex.
    (pa - pb).square().mean_dim(1).mean()
}

/// Mean over events and columns of `(a - b)^2` (`[M, d]` each, GeV);
/// returns `[1]` (GeV^2).
pub fn mse(a: Tensor<2>, b: Tensor<2>) -> Tensor<1> {
    (a - b).square().mean()
}

/// The restricted decoder's data loss (paper, Eq. 16): the mean over
/// events and columns of `1_S(b_m) (a - b)^2 / P_D(S)`.
///
/// - `a`, `b`: `[M, d]` (GeV), the data x and its decoding D(E(x));
/// - `inside`: `M` flags, whether each row of `b` is inside S;
/// - `p_in_s`: P_D(S), the fraction of D(z) inside S on this batch, in
///   (0, 1]; a constant (no gradient flows through it, Eq. 17).
///
/// Returns `[1]` (GeV^2). With every flag set and `p_in_s = 1` it is
/// [`mse`]; rows outside S contribute nothing, whatever their values.
///
/// # Panics
/// If `inside` does not have `M` entries or `p_in_s` is not in (0, 1].
pub fn masked_mse(a: Tensor<2>, b: Tensor<2>, inside: &[bool], p_in_s: f64) -> Tensor<1> {
    let [m, _] = a.dims();
    assert_eq!(inside.len(), m, "one acceptance flag per event");
    assert!(p_in_s > 0.0 && p_in_s <= 1.0, "P_D(S) = {p_in_s}");
    let flags: Vec<f32> = inside.iter().map(|&f| f32::from(u8::from(f))).collect();
    let mask = Tensor::<2>::from_data(TensorData::new(flags, [m, 1]), &a.device());
    ((a - b).square() * mask).mean().div_scalar(p_in_s as f32)
}

/// Anchor term `mean(1 - cos angle(p, q))` over events, where `p` and `q`
/// are the 3-momenta of object `object` in `a` and `b` (`[M, 4K]` each,
/// possibly of different layouts, `a_index`/`b_index` the object's position
/// in each); returns `[1]` (dimensionless, in [0, 2]).
pub fn anchor(a: Tensor<2>, a_index: usize, b: Tensor<2>, b_index: usize) -> Tensor<1> {
    let [m, _] = a.dims();
    let p = a.slice([0..m, 4 * a_index..4 * a_index + 3]);
    let q = b.slice([0..m, 4 * b_index..4 * b_index + 3]);
    let dot = (p.clone() * q.clone()).sum_dim(1);
    let norms = (p.square().sum_dim(1) * q.square().sum_dim(1) + 1e-12).sqrt();
    (dot / norms).neg().add_scalar(1.0).mean()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng;
    use burn::tensor::{Device, TensorData};

    fn tensor(v: Vec<f32>, rows: usize, cols: usize, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v, [rows, cols]), device)
    }

    fn scalar(t: Tensor<1>) -> f64 {
        f64::from(t.try_into_vec_as::<f32>().unwrap()[0])
    }

    /// In one dimension the only directions are +1 and -1, and both give
    /// the exact squared W2 between the empirical distributions: the mean
    /// squared difference of the sorted samples.
    #[test]
    fn one_dimension_is_exact_w2() {
        let device = Device::flex();
        let a = vec![3.0f32, -1.0, 2.0, 0.5, 7.0];
        let b = vec![1.0f32, 1.5, -2.0, 4.0, 0.0];
        let (mut sa, mut sb) = (a.clone(), b.clone());
        sa.sort_by(f32::total_cmp);
        sb.sort_by(f32::total_cmp);
        let exact: f64 = sa
            .iter()
            .zip(&sb)
            .map(|(x, y)| f64::from(x - y).powi(2))
            .sum::<f64>()
            / 5.0;
        for dir in [1.0f32, -1.0] {
            let sw = sliced_w2(
                tensor(a.clone(), 5, 1, &device),
                tensor(b.clone(), 5, 1, &device),
                tensor(vec![dir], 1, 1, &device),
            );
            assert!((scalar(sw) - exact).abs() < 1e-5 * exact);
        }
    }

    /// N(0, I) against N(mu, I) in d = 4 dimensions. Along a unit direction
    /// theta both projections are unit Gaussians shifted by theta.mu, whose
    /// squared W2 is (theta.mu)^2; over uniform directions its mean is
    /// |mu|^2 / d. With |mu|^2 = 16 the expectation is 4 GeV^2.
    ///
    /// Noise: with M = 20,000 events per sample the squared W2 of two
    /// equal-distribution empirical samples is about 2 (log M)/M ~ 1e-3
    /// (a bias, positive), and the cross term has a standard deviation of
    /// about 2 |theta.mu| sqrt(2/M) ~ 0.04 per direction. With L = 2000
    /// directions the spread of (theta.mu)^2 over directions (variance
    /// 2 |mu|^4 (d-1) / (d^2 (d+2)) = 16, sd 4) gives a standard error of
    /// 4 / sqrt(2000) = 0.09. A tolerance of 0.35 (about 4 sd) is used.
    #[test]
    fn gaussians_match_closed_form() {
        let device = Device::flex();
        let (m, d, l) = (20_000, 4, 2000);
        let mu = [2.0f32, -2.0, 2.0, 2.0];
        let mut r = rng::stream(11, &[]);
        let a = rng::normals(&mut r, m * d);
        let mut b = rng::normals(&mut r, m * d);
        for row in b.chunks_mut(d) {
            row.iter_mut().zip(mu).for_each(|(x, s)| *x += s);
        }
        let dirs = rng::directions(&mut r, l, d, &device);
        let sw = scalar(sliced_w2(
            tensor(a, m, d, &device),
            tensor(b, m, d, &device),
            dirs,
        ));
        assert!((sw - 4.0).abs() < 0.35, "SW = {sw}, expected 4");
    }

    /// SW in f64 on the host, for finite differences.
    fn host_sw(a: &[f64], b: &[f64], dirs: &[f64], m: usize, d: usize) -> f64 {
        let l = dirs.len() / d;
        let mut total = 0.0;
        for theta in dirs.chunks(d) {
            let proj = |s: &[f64]| {
                let mut p: Vec<f64> = s
                    .chunks(d)
                    .map(|r| r.iter().zip(theta).map(|(x, t)| x * t).sum())
                    .collect();
                p.sort_by(f64::total_cmp);
                p
            };
            let (pa, pb) = (proj(a), proj(b));
            total += pa
                .iter()
                .zip(&pb)
                .map(|(x, y)| (x - y).powi(2))
                .sum::<f64>()
                / m as f64;
        }
        total / l as f64
    }

    /// The autodiff gradient of SW with respect to one sample matches
    /// central finite differences of an f64 host computation (step 1e-4,
    /// far below the typical gap 0.3 between sorted projections, so no
    /// ordering changes; tolerance 1e-4 of the largest component, above
    /// the f32 rounding of the autodiff gradient).
    #[test]
    fn gradient_matches_finite_differences() {
        let device = Device::flex().autodiff();
        let (m, d, l) = (7, 3, 5);
        let mut r = rng::stream(3, &[]);
        let a = rng::normals(&mut r, m * d);
        let b: Vec<f32> = rng::normals(&mut r, m * d)
            .iter()
            .map(|x| 2.0 * x + 0.5)
            .collect();
        let dirs = rng::directions(&mut r, l, d, &device);
        let dirs64: Vec<f64> = dirs.to_data().try_to_vec_as::<f64>().unwrap();

        let ta = tensor(a.clone(), m, d, &device).require_grad();
        let loss = sliced_w2(ta.clone(), tensor(b.clone(), m, d, &device), dirs);
        let grads = loss.backward();
        let g = ta.grad(&grads).unwrap().try_into_vec_as::<f32>().unwrap();

        let a64: Vec<f64> = a.iter().map(|&x| f64::from(x)).collect();
        let b64: Vec<f64> = b.iter().map(|&x| f64::from(x)).collect();
        let h = 1e-4;
        let gmax = g.iter().fold(0f32, |acc, x| acc.max(x.abs()));
        for i in 0..m * d {
            let mut up = a64.clone();
            up[i] += h;
            let mut down = a64.clone();
            down[i] -= h;
            let fd = (host_sw(&up, &b64, &dirs64, m, d) - host_sw(&down, &b64, &dirs64, m, d))
                / (2.0 * h);
            assert!(
                (fd - f64::from(g[i])).abs() < 1e-4 * f64::from(gmax),
                "component {i}: autodiff {} vs finite difference {fd}",
                g[i]
            );
        }
    }

    /// The radix argsort orders every row as a stable `total_cmp` sort
    /// does: negative values, both zeros, infinities, NaN and repeated
    /// values, on rows above and below the radix threshold.
    #[test]
    fn radix_argsort_matches_a_stable_comparison_sort() {
        let mut r = rng::stream(5, &[]);
        for m in [1, 7, RADIX_MIN_LEN - 1, RADIX_MIN_LEN, 5000] {
            let rows = 3;
            let mut values: Vec<f32> = rng::normals(&mut r, rows * m)
                .iter()
                .map(|x| (x * 1e3).round() / 8.0)
                .collect();
            let specials = [-0.0, 0.0, f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 1e-42];
            for (k, v) in specials.into_iter().enumerate() {
                if 5 * k < values.len() {
                    values[5 * k] = v;
                }
            }
            let got = argsort_rows(&values, m);
            for (row, ix) in values.chunks(m).zip(got.chunks(m)) {
                let mut want: Vec<usize> = (0..m).collect();
                want.sort_by(|&i, &j| row[i].total_cmp(&row[j]));
                let ix: Vec<usize> = ix.iter().map(|&i| i as usize).collect();
                assert_eq!(ix, want, "row length {m}");
            }
        }
    }

    /// The host sort (radix argsort and gather) gives the same SW and the
    /// same gradient as the backend's sort.
    #[test]
    fn host_sort_equals_native_sort() {
        let device = Device::flex().autodiff();
        let (m, d, l) = (600, 4, 9);
        let mut r = rng::stream(8, &[]);
        let a = rng::normals(&mut r, m * d);
        let b = rng::normals(&mut r, m * d);
        let dirs = rng::directions(&mut r, l, d, &device);
        let run = |mode| {
            let ta = tensor(a.clone(), m, d, &device).require_grad();
            let sw = sliced_w2_with(
                ta.clone(),
                tensor(b.clone(), m, d, &device),
                dirs.clone(),
                mode,
            );
            let g = ta
                .grad(&sw.backward())
                .unwrap()
                .try_into_vec_as::<f32>()
                .unwrap();
            (scalar(sw), g)
        };
        let (native, g_native) = run(SortMode::Native);
        let (host, g_host) = run(SortMode::Host);
        assert!((native - host).abs() <= 1e-6 * native, "{native} vs {host}");
        for (x, y) in g_native.iter().zip(&g_host) {
            assert!((x - y).abs() <= 1e-6 * (1.0 + x.abs()), "{x} vs {y}");
        }
    }

    /// Hand-made batches: with every event inside S and P_D(S) = 1 the
    /// masked loss is the plain one; an event outside S is ignored whatever
    /// its values, and the rest is divided by P_D(S).
    #[test]
    fn masked_loss_equals_plain_inside_and_ignores_outside() {
        let device = Device::flex();
        let a = vec![1.0f32, 2.0, -3.0, 4.0, 0.5, 0.5];
        let b = vec![2.0f32, 0.0, -3.0, 1.0, 0.5, -1.5];
        let t = |v: &[f32]| tensor(v.to_vec(), 3, 2, &device);
        let plain = scalar(mse(t(&a), t(&b)));
        // (1 + 4 + 0 + 9 + 0 + 4) / 6 = 3
        assert!((plain - 3.0).abs() < 1e-6, "{plain}");
        let all = scalar(masked_mse(t(&a), t(&b), &[true; 3], 1.0));
        assert_eq!(all, plain);

        let inside = [true, false, true];
        let masked = scalar(masked_mse(t(&a), t(&b), &inside, 0.5));
        // rows 0 and 2: (1 + 4 + 0 + 4) / 6 / 0.5 = 3
        assert!((masked - 3.0).abs() < 1e-6, "{masked}");
        let mut b_far = b.clone();
        b_far[2] = 1e4;
        b_far[3] = -7e3;
        let again = scalar(masked_mse(t(&a), t(&b_far), &inside, 0.5));
        assert_eq!(again, masked);
        let none = scalar(masked_mse(t(&a), t(&b_far), &[false; 3], 1.0));
        assert_eq!(none, 0.0);
    }

    #[test]
    fn anchor_is_zero_for_parallel_and_two_for_opposite() {
        let device = Device::flex();
        let a = tensor(vec![1.0, 2.0, 3.0, 9.0, 0.0, 0.0, 1.0, 1.0], 2, 4, &device);
        let b = tensor(vec![2.0, 4.0, 6.0, 0.0, 0.0, 0.0, -3.0, 5.0], 2, 4, &device);
        let v = scalar(anchor(a, 0, b, 0));
        assert!((v - 1.0).abs() < 1e-6, "{v}"); // (0 + 2) / 2
    }
}
