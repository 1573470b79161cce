//! Kinematics in natural units (GeV): four-vectors, the Delphes
//! (pT, eta, phi) convention and invariant masses.

/// A four-momentum (px, py, pz, E) in GeV.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FourVector {
    /// x component of the momentum, GeV.
    pub px: f64,
    /// y component of the momentum, GeV.
    pub py: f64,
    /// z component (along the beam), GeV.
    pub pz: f64,
    /// Energy, GeV.
    pub e: f64,
}

impl FourVector {
    /// A four-vector from its components, GeV.
    pub fn new(px: f64, py: f64, pz: f64, e: f64) -> Self {
        Self { px, py, pz, e }
    }

    /// A four-vector from a 3-momentum (GeV) and a mass (GeV, >= 0), with
    /// E = sqrt(|p|^2 + m^2).
    pub fn from_momentum_mass(px: f64, py: f64, pz: f64, mass: f64) -> Self {
        let e = (px * px + py * py + pz * pz + mass * mass).sqrt();
        Self { px, py, pz, e }
    }

    /// A four-vector in the Delphes convention from transverse momentum pT
    /// (GeV, >= 0), pseudorapidity eta and azimuth phi (rad), and a mass (GeV):
    /// px = pT cos(phi), py = pT sin(phi), pz = pT sinh(eta),
    /// E = sqrt((pT cosh(eta))^2 + m^2).
    pub fn from_pt_eta_phi_m(pt: f64, eta: f64, phi: f64, mass: f64) -> Self {
        let p = pt * eta.cosh();
        Self {
            px: pt * phi.cos(),
            py: pt * phi.sin(),
            pz: pt * eta.sinh(),
            e: (p * p + mass * mass).sqrt(),
        }
    }

    /// Transverse momentum, GeV.
    pub fn pt(&self) -> f64 {
        self.px.hypot(self.py)
    }

    /// Pseudorapidity; +/- infinity along the beam, 0 for a zero vector.
    pub fn eta(&self) -> f64 {
        let pt = self.pt();
        if pt == 0.0 {
            return match self.pz.partial_cmp(&0.0) {
                Some(std::cmp::Ordering::Greater) => f64::INFINITY,
                Some(std::cmp::Ordering::Less) => f64::NEG_INFINITY,
                _ => 0.0,
            };
        }
        (self.pz / pt).asinh()
    }

    /// Azimuth in (-pi, pi], rad.
    pub fn phi(&self) -> f64 {
        self.py.atan2(self.px)
    }

    /// Invariant mass, GeV; negative m^2 (from rounding) gives -sqrt(-m^2).
    pub fn mass(&self) -> f64 {
        let m2 = self.e * self.e - (self.px * self.px + self.py * self.py + self.pz * self.pz);
        if m2 >= 0.0 { m2.sqrt() } else { -(-m2).sqrt() }
    }

    /// The components as an array (px, py, pz, E).
    pub fn to_array(self) -> [f64; 4] {
        [self.px, self.py, self.pz, self.e]
    }
}

impl std::ops::Add for FourVector {
    type Output = FourVector;
    fn add(self, o: FourVector) -> FourVector {
        FourVector::new(self.px + o.px, self.py + o.py, self.pz + o.pz, self.e + o.e)
    }
}

/// Invariant mass of a system of four-vectors, GeV.
pub fn invariant_mass(parts: &[FourVector]) -> f64 {
    parts
        .iter()
        .copied()
        .fold(FourVector::default(), |a, b| a + b)
        .mass()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pt_eta_phi_round_trip() {
        let v = FourVector::from_pt_eta_phi_m(35.0, -1.2, 2.5, 0.0);
        assert!((v.pt() - 35.0).abs() < 1e-12);
        assert!((v.eta() + 1.2).abs() < 1e-12);
        assert!((v.phi() - 2.5).abs() < 1e-12);
        assert!(v.mass().abs() < 1e-6);
    }

    #[test]
    fn massive_energy_follows_minkowski() {
        let b = FourVector::from_momentum_mass(3.0, 4.0, 12.0, 4.7);
        assert!((b.e * b.e - 169.0 - 4.7 * 4.7).abs() < 1e-9);
        assert!((b.mass() - 4.7).abs() < 1e-9);
    }

    #[test]
    fn back_to_back_pair_mass() {
        let a = FourVector::from_momentum_mass(45.0, 0.0, 0.0, 0.0);
        let b = FourVector::from_momentum_mass(-45.0, 0.0, 0.0, 0.0);
        assert!((invariant_mass(&[a, b]) - 90.0).abs() < 1e-12);
    }
}
