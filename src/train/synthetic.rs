//! Synthetic Z -> ee-like events for tests and benchmarks.
//!
//! z: an e- and an e+ back to back in the rest frame of a particle of mass
//! `M ~ N(91.19, 2.5)` GeV (clamped to at least 60), decay direction
//! uniform on the sphere, boosted along the beam (z axis) with rapidity
//! `y ~ N(0, 1.2)` and given a transverse kick `pT ~ |N(0, 5)|` GeV
//! (applied as a small transverse boost). Both are massless.
//!
//! x: each 3-momentum component of each electron smeared,
//! `p_i -> p_i (1 + r n1) + s n2` with `n1, n2 ~ N(0, 1)`, relative
//! resolution `r` and absolute resolution `s` GeV; energies recomputed
//! massless. The row order of z and x is the same (the truth pairing),
//! which training never uses.

use rand::Rng;

use super::data::Sample;
use crate::model::rng;

/// Column names of the synthetic `space` (`"z"` or `"x"`):
/// `{space}_em_{px,py,pz,e}`, `{space}_ep_{px,py,pz,e}`.
pub fn columns(space: &str) -> Vec<String> {
    ["em", "ep"]
        .iter()
        .flat_map(|o| {
            ["px", "py", "pz", "e"]
                .iter()
                .map(move |c| format!("{space}_{o}_{c}"))
        })
        .collect()
}

/// `n` synthetic events `(z, x)` from `seed`, with relative resolution
/// `rel` and absolute resolution `abs_gev` (GeV) of the detector smearing.
pub fn zee(n: usize, seed: u64, rel: f64, abs_gev: f64) -> (Sample, Sample) {
    let mut r = rng::stream(seed, &[0x5e7]);
    let mut z = Vec::with_capacity(8 * n);
    let mut x = Vec::with_capacity(8 * n);
    for _ in 0..n {
        let g = |r: &mut rand_chacha::ChaCha8Rng| f64::from(rng::normals(r, 1)[0]);
        let mass = (91.19 + 2.5 * g(&mut r)).max(60.0);
        let cos_t: f64 = r.random_range(-1.0..1.0);
        let phi: f64 = r.random_range(0.0..std::f64::consts::TAU);
        let sin_t = (1.0 - cos_t * cos_t).sqrt();
        let e = mass / 2.0;
        let p = [e * sin_t * phi.cos(), e * sin_t * phi.sin(), e * cos_t];
        let pt_kick = 5.0 * g(&mut r).abs();
        let kick_phi: f64 = r.random_range(0.0..std::f64::consts::TAU);
        let rapidity = 1.2 * g(&mut r);
        let mut pair = Vec::with_capacity(8);
        for sign in [1.0, -1.0] {
            let mut v = [sign * p[0], sign * p[1], sign * p[2], e];
            // Transverse boost with beta = pT / sqrt(pT^2 + M^2) along kick_phi.
            let beta = pt_kick / (pt_kick * pt_kick + mass * mass).sqrt();
            let (bx, by) = (beta * kick_phi.cos(), beta * kick_phi.sin());
            v = boost(v, [bx, by, 0.0]);
            // Longitudinal boost with beta = tanh(y).
            v = boost(v, [0.0, 0.0, rapidity.tanh()]);
            pair.extend(v);
        }
        z.extend(&pair);
        for k in 0..2 {
            let mut q = [0.0; 3];
            for (i, qi) in q.iter_mut().enumerate() {
                let pi = pair[4 * k + i];
                *qi = pi * (1.0 + rel * g(&mut r)) + abs_gev * g(&mut r);
            }
            let e = (q[0] * q[0] + q[1] * q[1] + q[2] * q[2]).sqrt();
            x.extend([q[0], q[1], q[2], e]);
        }
    }
    (
        Sample::new(columns("z"), z).expect("finite synthetic values"),
        Sample::new(columns("x"), x).expect("finite synthetic values"),
    )
}

/// Lorentz boost of `(px, py, pz, E)` by velocity `b` (|b| < 1).
fn boost(v: [f64; 4], b: [f64; 3]) -> [f64; 4] {
    let b2 = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
    if b2 == 0.0 {
        return v;
    }
    let gamma = 1.0 / (1.0 - b2).sqrt();
    let bp = b[0] * v[0] + b[1] * v[1] + b[2] * v[2];
    let k = (gamma - 1.0) * bp / b2 + gamma * v[3];
    [
        v[0] + k * b[0],
        v[1] + k * b[1],
        v[2] + k * b[2],
        gamma * (v[3] + bp),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn z_pairs_are_massless_with_the_z_mass() {
        let (z, x) = zee(200, 1, 0.02, 0.5);
        assert_eq!(z.rows(), 200);
        assert_eq!(x.columns(), columns("x").as_slice());
        for i in 0..z.rows() {
            let r = z.row(i);
            for k in 0..2 {
                let v = &r[4 * k..4 * k + 4];
                let m2 = v[3] * v[3] - v[0] * v[0] - v[1] * v[1] - v[2] * v[2];
                assert!(m2.abs() < 1e-6 * v[3] * v[3], "{m2}");
            }
            let s: Vec<f64> = (0..4).map(|c| r[c] + r[4 + c]).collect();
            let m = (s[3] * s[3] - s[0] * s[0] - s[1] * s[1] - s[2] * s[2]).sqrt();
            assert!((60.0..120.0).contains(&m), "{m}");
        }
    }
}
