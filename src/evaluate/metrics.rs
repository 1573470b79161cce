//! Distances and two-sample tests between samples of events.
//!
//! - [`sliced_wasserstein2`]: the squared sliced Wasserstein-2 distance of the
//!   paper (mean over L random unit directions of the squared 1-D W2 of the
//!   projections), in the squared unit of the columns (GeV^2 for momenta).
//! - [`wasserstein2`]: the squared 1-D Wasserstein-2 distance of two empirical
//!   distributions; for equal sizes it is the paper's "mean squared difference
//!   of sorted samples".
//! - [`ks_two_sample`]: the two-sample Kolmogorov-Smirnov statistic and its
//!   two-sided p-value.
//! - [`chi_square_two_sample`]: the two-sample chi-square over automatically
//!   chosen bins, with its degrees of freedom.
//!
//! No maintained Rust crate offers the two-sample KS p-value (statrs has the
//! distributions used elsewhere but no KS test), so the exact lattice-path
//! count and the Kolmogorov series are implemented here; the tests compare
//! them with SciPy.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Largest `n_a * n_b` for which [`ks_two_sample`] computes the exact
/// p-value (an O(n_a n_b) lattice count); above it the asymptotic
/// Kolmogorov distribution is used. statrs 0.19 refuses the exact method
/// above 10,000 (and with ties), so this is its limit.
pub const KS_EXACT_MAX_PRODUCT: u64 = 10_000;

/// Minimum number of entries of each sample in every chi-square bin.
pub const CHI2_MIN_ENTRIES: usize = 5;

/// Default largest number of chi-square bins before merging.
pub const CHI2_MAX_BINS: usize = 50;

/// The squared sliced Wasserstein-2 distance between two samples of points
/// in `dim` dimensions, stored row-major (`a.len() == n_a * dim`).
///
/// `slices` unit directions are drawn uniformly on the sphere from a
/// ChaCha8 generator seeded with `seed` (the same directions for the same
/// seed and `dim`); the result is the mean over directions of
/// [`wasserstein2`] of the two projected samples. For equal sizes this is the
/// mean squared difference of the sorted projections, as in the paper; for
/// unequal sizes the exact 1-D distance of the empirical distributions is
/// used. Unit: the square of the columns' unit (GeV^2). NaN when either
/// sample is empty, `dim` is 0 or `slices` is 0.
pub fn sliced_wasserstein2(a: &[f64], b: &[f64], dim: usize, slices: usize, seed: u64) -> f64 {
    if dim == 0 || slices == 0 || a.is_empty() || b.is_empty() {
        return f64::NAN;
    }
    let directions = random_directions(dim, slices, seed);

    let per_slice: Vec<f64> = directions
        .par_chunks(dim)
        .map(|theta| {
            let mut pa = project(a, theta);
            let mut pb = project(b, theta);
            pa.sort_unstable_by(f64::total_cmp);
            pb.sort_unstable_by(f64::total_cmp);
            wasserstein2_sorted(&pa, &pb)
        })
        .collect();

    per_slice.iter().sum::<f64>() / slices as f64
}

/// `count` unit vectors of dimension `dim`, uniform on the sphere, flattened.
fn random_directions(dim: usize, count: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(dim * count);
    while out.len() < dim * count {
        let v: Vec<f64> = (0..dim).map(|_| standard_normal(&mut rng)).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm > 1e-12 {
            out.extend(v.iter().map(|x| x / norm));
        }
    }
    out
}

/// One standard normal number (Box-Muller).
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Projections of row-major points on `theta`.
fn project(points: &[f64], theta: &[f64]) -> Vec<f64> {
    points
        .chunks_exact(theta.len())
        .map(|p| p.iter().zip(theta).map(|(x, t)| x * t).sum())
        .collect()
}

/// The squared 1-D Wasserstein-2 distance between two samples, in the
/// square of their unit. Sorts copies; see [`wasserstein2_sorted`].
pub fn wasserstein2(a: &[f64], b: &[f64]) -> f64 {
    let (a, b) = (sorted(a), sorted(b));
    wasserstein2_sorted(&a, &b)
}

/// [`wasserstein2`] of samples already sorted ascending.
///
/// The integral over u in (0, 1) of (F_a^-1(u) - F_b^-1(u))^2 for the
/// empirical quantile functions, computed exactly on the common grid of
/// their breakpoints i/n_a and j/n_b. For equal sizes this is the mean
/// squared difference of the sorted samples. NaN when either is empty.
pub fn wasserstein2_sorted(a: &[f64], b: &[f64]) -> f64 {
    let (na, nb) = (a.len(), b.len());
    if na == 0 || nb == 0 {
        return f64::NAN;
    }
    if na == nb {
        return a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>() / na as f64;
    }

    let (mut i, mut j) = (0usize, 0usize);
    let mut u = 0.0;
    let mut total = 0.0;
    while i < na && j < nb {
        // Compare the next breakpoints (i+1)/na and (j+1)/nb exactly.
        let next_a = (i as u128 + 1) * nb as u128;
        let next_b = (j as u128 + 1) * na as u128;
        let next = if next_a <= next_b {
            (i + 1) as f64 / na as f64
        } else {
            (j + 1) as f64 / nb as f64
        };
        total += (next - u) * (a[i] - b[j]).powi(2);
        u = next;
        if next_a <= next_b {
            i += 1;
        }
        if next_b <= next_a {
            j += 1;
        }
    }
    total
}

/// How a Kolmogorov-Smirnov p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KsMethod {
    /// Exact count of lattice paths (small samples).
    Exact,
    /// The Kolmogorov limit distribution at sqrt(n_a n_b / (n_a + n_b)) D.
    Asymptotic,
}

/// Result of a two-sample Kolmogorov-Smirnov test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KsTest {
    /// D = sup |F_a - F_b| of the empirical distribution functions, in [0, 1].
    pub statistic: f64,
    /// Two-sided p-value of D under the hypothesis of one parent distribution.
    pub p_value: f64,
    /// How the p-value was computed.
    pub method: KsMethod,
}

/// The two-sample Kolmogorov-Smirnov test (two-sided), computed by statrs'
/// `ks_twosample`: the exact p-value (Schroeer and Trenkler, as SciPy's
/// `ks_2samp(method="exact")`) when `n_a * n_b <=` [`KS_EXACT_MAX_PRODUCT`],
/// otherwise the asymptotic Kolmogorov distribution Q(sqrt(n) D) with
/// n = n_a n_b / (n_a + n_b). NaN values are left out; NaN results when a
/// sample is empty.
pub fn ks_two_sample(a: &[f64], b: &[f64]) -> KsTest {
    let (a, b) = (sorted(a), sorted(b));
    ks_two_sample_sorted(&a, &b)
}

/// [`ks_two_sample`] of samples already sorted ascending.
pub fn ks_two_sample_sorted(a: &[f64], b: &[f64]) -> KsTest {
    use statrs::stats_tests::NaNPolicy;
    use statrs::stats_tests::ks_test::{KSTwoSampleAlternativeMethod, ks_twosample};
    let (na, nb) = (a.len() as u64, b.len() as u64);
    let nan = |method| KsTest {
        statistic: f64::NAN,
        p_value: f64::NAN,
        method,
    };
    if na == 0 || nb == 0 {
        return nan(KsMethod::Asymptotic);
    }
    let (method, alternative) = if na * nb <= KS_EXACT_MAX_PRODUCT {
        (KsMethod::Exact, KSTwoSampleAlternativeMethod::TwoSidedExact)
    } else {
        (
            KsMethod::Asymptotic,
            KSTwoSampleAlternativeMethod::TwoSidedAsymptotic,
        )
    };
    // statrs 0.19's asymptotic p-value sums the Kolmogorov series until a
    // term is below 1e-10, which never happens at D = 0 (identical
    // samples, a constant column such as MET pz) and takes ~1/D^2 terms for
    // small D: below sqrt(n) D = 0.2 the p-value is 1 to within 1e-12
    // (the Kolmogorov CDF there is under 1e-12), so it is not asked.
    if method == KsMethod::Asymptotic {
        let d = ks_statistic_sorted(a, b);
        let n = (na * nb) as f64 / (na + nb) as f64;
        if d.is_finite() && n.sqrt() * d < 0.2 {
            return KsTest {
                statistic: d,
                p_value: 1.0,
                method,
            };
        }
    }
    let test = |alternative| ks_twosample(a.to_vec(), b.to_vec(), alternative, NaNPolicy::Emit);
    // The exact method refuses ties; the asymptotic form then stands in.
    let result = match test(alternative) {
        Err(_) if method == KsMethod::Exact => {
            test(KSTwoSampleAlternativeMethod::TwoSidedAsymptotic)
                .map(|r| (r, KsMethod::Asymptotic))
        }
        other => other.map(|r| (r, method)),
    };
    match result {
        Ok(((statistic, p_value), method)) => KsTest {
            statistic,
            p_value,
            method,
        },
        Err(_) => nan(method),
    }
}

/// Result of a two-sample chi-square comparison of binned samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// The chi-square sum (dimensionless).
    pub chi2: f64,
    /// Degrees of freedom: number of bins minus one (the totals are fixed).
    pub ndf: usize,
    /// chi2 / ndf, or `None` when ndf is 0 (fewer than two usable bins).
    pub reduced: Option<f64>,
}

/// The two-sample chi-square over automatically chosen bins.
///
/// Binning: start from `max_bins` quantile bins of the pooled sample (fewer
/// when the smaller sample has under `max_bins *` [`CHI2_MIN_ENTRIES`]
/// events; equal quantiles from ties collapse), then merge neighbouring bins
/// from the left until each holds at least [`CHI2_MIN_ENTRIES`] entries of
/// *each* sample (a remainder joins the last bin). Bins are half-open
/// `[lo, hi)` in value, so ties never straddle an edge.
///
/// With bin counts a_i, b_i and totals A, B (unequal totals allowed):
/// chi2 = sum_i (sqrt(B/A) a_i - sqrt(A/B) b_i)^2 / (a_i + b_i), with
/// ndf = bins - 1 (Numerical Recipes' `chstwo`, ROOT's unweighted
/// `Chi2Test`). For A = B this is sum_i (a_i - b_i)^2 / (a_i + b_i).
pub fn chi_square_two_sample(a: &[f64], b: &[f64], max_bins: usize) -> ChiSquare {
    let (a, b) = (sorted(a), sorted(b));
    let none = ChiSquare {
        chi2: 0.0,
        ndf: 0,
        reduced: None,
    };
    let smaller = a.len().min(b.len());
    if smaller < CHI2_MIN_ENTRIES {
        return none;
    }

    let mut pooled: Vec<f64> = a.iter().chain(&b).copied().collect();
    pooled.sort_unstable_by(f64::total_cmp);
    let bins = max_bins.min(smaller / CHI2_MIN_ENTRIES).max(1);
    let mut edges: Vec<f64> = (1..bins).map(|k| pooled[k * pooled.len() / bins]).collect();
    edges.dedup();

    // Counts below each edge, then per-bin counts.
    let below = |s: &[f64], e: f64| s.partition_point(|v| *v < e);
    let counts = |s: &[f64]| -> Vec<usize> {
        let mut cumulative: Vec<usize> = edges.iter().map(|e| below(s, *e)).collect();
        cumulative.push(s.len());
        let mut previous = 0;
        cumulative
            .iter()
            .map(|c| {
                let n = c - previous;
                previous = *c;
                n
            })
            .collect()
    };
    let (ca, cb) = (counts(&a), counts(&b));

    let mut merged: Vec<(usize, usize)> = Vec::new();
    let (mut acc_a, mut acc_b) = (0, 0);
    for (x, y) in ca.iter().zip(&cb) {
        acc_a += x;
        acc_b += y;
        if acc_a >= CHI2_MIN_ENTRIES && acc_b >= CHI2_MIN_ENTRIES {
            merged.push((acc_a, acc_b));
            (acc_a, acc_b) = (0, 0);
        }
    }
    if let Some(last) = merged.last_mut() {
        last.0 += acc_a;
        last.1 += acc_b;
    }
    if merged.len() < 2 {
        return none;
    }

    let (ta, tb) = (a.len() as f64, b.len() as f64);
    let (ka, kb) = ((tb / ta).sqrt(), (ta / tb).sqrt());
    let chi2: f64 = merged
        .iter()
        .map(|&(x, y)| {
            let (x, y) = (x as f64, y as f64);
            (ka * x - kb * y).powi(2) / (x + y)
        })
        .sum();
    let ndf = merged.len() - 1;
    ChiSquare {
        chi2,
        ndf,
        reduced: Some(chi2 / ndf as f64),
    }
}

/// A sorted copy (NaN sorts last, by `total_cmp`).
/// D = sup |F_a - F_b| of two samples sorted ascending (NaN if either
/// holds a NaN), comparing the distribution functions after each distinct
/// value, ties included.
fn ks_statistic_sorted(a: &[f64], b: &[f64]) -> f64 {
    if a.iter().chain(b).any(|v| v.is_nan()) {
        return f64::NAN;
    }
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] == x {
            i += 1;
        }
        while j < b.len() && b[j] == x {
            j += 1;
        }
        d = d.max((i as f64 / na - j as f64 / nb).abs());
    }
    d.max((i as f64 / na - j as f64 / nb).abs())
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Identical or constant samples (D = 0) and nearly identical ones
    /// (tiny D) come back at once with p = 1; elsewhere our statistic is
    /// statrs' and the p-value statrs' asymptotic one.
    #[test]
    fn ks_of_identical_and_constant_samples_returns_at_once() {
        let zeros = vec![0.0; 300];
        let t = ks_two_sample(&zeros, &zeros[..250]);
        assert_eq!(
            (t.statistic, t.p_value, t.method),
            (0.0, 1.0, KsMethod::Asymptotic)
        );
        let a: Vec<f64> = (0..3000).map(|i| f64::from(i) * 0.001).collect();
        let mut b = a.clone();
        b[0] = -1.0;
        let t = ks_two_sample(&a, &b);
        assert!((t.statistic - 1.0 / 3000.0).abs() < 1e-15, "{t:?}");
        assert_eq!(t.p_value, 1.0);
        assert_eq!(ks_statistic_sorted(&sorted(&a), &sorted(&b)), t.statistic);
        let shifted: Vec<f64> = a.iter().map(|v| v + 0.3).collect();
        let t = ks_two_sample(&a, &shifted);
        assert!((t.statistic - 0.1).abs() < 1e-3, "{t:?}");
        assert!(t.p_value > 0.0 && t.p_value < 1e-6, "{t:?}");
    }

    // An independent implementation, checked against SciPy below, that the
    // asymptotic p-values of statrs are compared with.
    /// Survival function of the Kolmogorov distribution,
    /// Q(x) = 2 sum_{k>=1} (-1)^(k-1) exp(-2 k^2 x^2), the limit of
    /// P(sqrt(n) D_n > x). For small x the equivalent Jacobi-theta form
    /// 1 - sqrt(2 pi)/x sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 x^2)) converges
    /// faster and is used instead.
    fn kolmogorov_survival(x: f64) -> f64 {
        if x.is_nan() {
            return f64::NAN;
        }
        if x <= 0.0 {
            return 1.0;
        }
        if x < 1.0 {
            let pi2 = std::f64::consts::PI.powi(2);
            let cdf: f64 = (1..=20)
                .map(|k| {
                    let m = (2 * k - 1) as f64;
                    (-m * m * pi2 / (8.0 * x * x)).exp()
                })
                .sum::<f64>()
                * (std::f64::consts::TAU).sqrt()
                / x;
            return (1.0 - cdf).clamp(0.0, 1.0);
        }
        let q: f64 = (1..=100)
            .map(|k| {
                let sign = if k % 2 == 1 { 1.0 } else { -1.0 };
                sign * (-2.0 * (k * k) as f64 * x * x).exp()
            })
            .sum::<f64>()
            * 2.0;
        q.clamp(0.0, 1.0)
    }

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn identical_samples_have_zero_distance() {
        let a: Vec<f64> = (0..100).map(|i| (i as f64 * 0.37).sin() * 40.0).collect();
        assert_eq!(wasserstein2(&a, &a), 0.0);
        let ks = ks_two_sample(&a, &a);
        assert_eq!(ks.statistic, 0.0);
        assert_eq!(ks.p_value, 1.0);
        let pts: Vec<f64> = a.iter().flat_map(|v| [*v, v * 0.5 + 1.0]).collect();
        assert_eq!(sliced_wasserstein2(&pts, &pts, 2, 50, 7), 0.0);
    }

    #[test]
    fn shift_gives_squared_shift() {
        let a: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.713).cos() * 10.0).collect();
        let b: Vec<f64> = a.iter().map(|v| v + 3.0).collect();
        assert!(close(wasserstein2(&a, &b), 9.0, 1e-9));
        // A 1-D sliced distance projects on +-1: it equals W2.
        assert!(close(sliced_wasserstein2(&a, &b, 1, 10, 1), 9.0, 1e-9));
    }

    #[test]
    fn unequal_sizes_use_exact_quantile_grid() {
        // F_a^-1 = 0 on (0, 1/2), 1 on (1/2, 1); b = {0, 0, 1}: differ on (1/2, 2/3).
        let w = wasserstein2(&[0.0, 1.0], &[0.0, 0.0, 1.0]);
        assert!(close(w, 1.0 / 6.0, 1e-15));
        // Repeating every value leaves the empirical distribution unchanged.
        assert!(close(
            wasserstein2(&[1.0, 2.0], &[1.0, 1.0, 2.0, 2.0]),
            0.0,
            1e-15
        ));
    }

    #[test]
    fn ks_hand_derived_case() {
        // a = {1, 2}, b = {3, 4}: D = 1; of the C(4,2) = 6 orderings only the
        // 2 fully separated ones reach D = 1, so p = 2/6.
        let t = ks_two_sample(&[1.0, 2.0], &[3.0, 4.0]);
        assert_eq!(t.statistic, 1.0);
        assert_eq!(t.method, KsMethod::Exact);
        assert!(close(t.p_value, 1.0 / 3.0, 1e-15));
    }

    // Reference values produced with SciPy 1.x / NumPy in a venv:
    //   stats.ks_2samp(A, B, method="exact")  -> D = 0.23, p = 0.5286364448145011
    //   stats.kstwobign.sf(x) for x in 0.3, 0.5, 0.8, 1.5, 2.5
    //   W2^2 of A, B: mean over the 100 cells of the common grid (lcm(25, 20))
    //   of (A[floor(25 u)] - B[floor(20 u)])^2 at cell midpoints -> 0.499625
    const A: [f64; 25] = [
        0.61, 0.29, 0.06, 0.59, -1.73, -0.74, 0.51, -0.56, 0.39, 1.64, 0.05, -0.06, 0.64, -0.82,
        0.37, 1.77, 1.09, -1.28, 2.36, 1.31, 1.05, -0.32, -0.4, 1.06, -2.47,
    ];
    const B: [f64; 20] = [
        2.20, 1.66, 1.38, 0.20, 0.36, 0.00, 0.96, 1.56, 0.44, 1.50, -0.30, 0.66, 2.31, 3.29, -0.27,
        -0.37, 0.38, 0.70, 0.52, -0.71,
    ];

    #[test]
    fn ks_exact_matches_scipy() {
        let t = ks_two_sample(&A, &B);
        assert!(close(t.statistic, 0.23, 1e-12));
        assert_eq!(t.method, KsMethod::Exact);
        assert!(close(t.p_value, 0.5286364448145011, 1e-12));
    }

    #[test]
    fn kolmogorov_survival_matches_scipy_kstwobign() {
        let cases = [
            (0.3, 0.9999906941986655),
            (0.5, 0.9639452436648751),
            (0.8, 0.5441424115741981),
            (1.5, 0.022217962616525127),
            (2.5, 7.453306344157342e-06),
        ];
        for (x, want) in cases {
            let got = kolmogorov_survival(x);
            assert!(close(got, want, 1e-13), "Q({x}) = {got}, SciPy {want}");
        }
    }

    #[test]
    fn w2_unequal_sizes_matches_numpy_grid() {
        assert!(close(wasserstein2(&A, &B), 0.499625, 1e-12));
    }

    /// Regression: 544 x 544 events (the embedded test halves) were sent to
    /// statrs' exact method, which refuses products above 10,000, and every
    /// KS came out NaN.
    #[test]
    fn ks_of_mid_sized_samples_is_a_number() {
        let a: Vec<f64> = (0..544).map(|i| (i as f64 * 0.37).sin()).collect();
        let b: Vec<f64> = (0..544).map(|i| (i as f64 * 0.91).cos() + 0.1).collect();
        let t = ks_two_sample(&a, &b);
        assert!(t.statistic > 0.0 && t.statistic < 1.0, "{t:?}");
        assert!(t.p_value.is_finite(), "{t:?}");
    }

    #[test]
    fn ks_large_samples_use_the_asymptotic_form() {
        let a: Vec<f64> = (0..2000).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..1000).map(|i| 2.0 * i as f64 + 100.0).collect();
        let t = ks_two_sample(&a, &b);
        assert_eq!(t.method, KsMethod::Asymptotic);
        // D = 0.05 at the first 100 values of a; n = 2000 * 1000 / 3000.
        assert!(close(t.statistic, 0.05, 1e-12));
        let n: f64 = 2000.0 * 1000.0 / 3000.0;
        assert!(close(
            t.p_value,
            kolmogorov_survival(n.sqrt() * 0.05),
            1e-15
        ));
    }

    #[test]
    fn ks_ties_are_compared_after_equal_values() {
        let t = ks_two_sample(&[1.0, 1.0, 2.0], &[1.0, 2.0, 2.0]);
        assert!(close(t.statistic, 1.0 / 3.0, 1e-15));
    }

    #[test]
    fn kolmogorov_series_agree_where_they_meet() {
        // Both forms near x = 1, and a reference value Q(1) = 0.26999967...
        assert!(close(kolmogorov_survival(1.0), 0.2699996716773545, 1e-12));
        assert!(close(
            kolmogorov_survival(0.999_999_9),
            kolmogorov_survival(1.0),
            1e-6
        ));
        assert_eq!(kolmogorov_survival(0.0), 1.0);
        assert!(kolmogorov_survival(5.0) < 1e-20);
    }

    #[test]
    fn chi_square_of_identical_samples_is_zero() {
        let a: Vec<f64> = (0..500).map(|i| (i as f64 * 1.3).sin()).collect();
        let c = chi_square_two_sample(&a, &a, CHI2_MAX_BINS);
        assert_eq!(c.chi2, 0.0);
        assert_eq!(c.ndf, 49);
        assert_eq!(c.reduced, Some(0.0));
    }

    #[test]
    fn chi_square_bins_hold_enough_of_each_sample() {
        // Disjoint samples: merging must leave one bin with both: ndf 0.
        let a = vec![0.0; 20];
        let b = vec![1.0; 20];
        let c = chi_square_two_sample(&a, &b, 10);
        assert_eq!(c.ndf, 0);
        assert_eq!(c.reduced, None);
    }

    #[test]
    fn chi_square_hand_derived_case() {
        // Two bins split at 1.0: a = (5, 10), b = (10, 5):
        // chi2 = 25/15 + 25/15 = 10/3 with 1 degree of freedom.
        let mut a = vec![0.0; 5];
        a.extend(vec![2.0; 10]);
        let mut b = vec![0.0; 10];
        b.extend(vec![2.0; 5]);
        let c = chi_square_two_sample(&a, &b, 2);
        assert_eq!(c.ndf, 1);
        assert!(close(c.chi2, 10.0 / 3.0, 1e-12));
    }

    #[test]
    fn empty_samples_give_nan_not_panic() {
        assert!(wasserstein2(&[], &[1.0]).is_nan());
        assert!(ks_two_sample(&[], &[1.0]).statistic.is_nan());
        assert!(sliced_wasserstein2(&[], &[1.0], 1, 3, 0).is_nan());
        assert_eq!(chi_square_two_sample(&[], &[1.0], 5).ndf, 0);
    }
}
