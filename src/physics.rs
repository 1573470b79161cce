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

/// W boson mass used in the reconstruction constraints, GeV.
pub const W_MASS: f64 = 80.4;
/// Top quark mass used in the jet-assignment chi-square, GeV.
pub const TOP_MASS: f64 = 172.5;

/// The neutrino four-vector from the lepton and the missing transverse
/// momentum (GeV), with pz from the W-mass constraint
/// (l + nu)^2 = [`W_MASS`]^2 for a massless neutrino: of the two roots the
/// one with the smaller |pz|, and the real part when there is none.
pub fn neutrino_from_w(lepton: FourVector, met_px: f64, met_py: f64) -> FourVector {
    let ml2 = (lepton.e * lepton.e
        - lepton.px * lepton.px
        - lepton.py * lepton.py
        - lepton.pz * lepton.pz)
        .max(0.0);
    let pt_l2 = lepton.px * lepton.px + lepton.py * lepton.py;
    let mu = 0.5 * (W_MASS * W_MASS - ml2) + lepton.px * met_px + lepton.py * met_py;
    let met2 = met_px * met_px + met_py * met_py;
    let el2 = lepton.e * lepton.e;
    // pt_l2 pz^2 - 2 mu pz_l pz + (E_l^2 met^2 - mu^2) = 0 (after squaring).
    let a = el2 - lepton.pz * lepton.pz;
    let pz = if a.abs() < 1e-12 || pt_l2 == 0.0 {
        0.0
    } else {
        let centre = mu * lepton.pz / a;
        let disc = centre * centre - (el2 * met2 - mu * mu) / a;
        if disc < 0.0 {
            centre
        } else {
            let root = disc.sqrt();
            let (p1, p2) = (centre + root, centre - root);
            if p1.abs() < p2.abs() { p1 } else { p2 }
        }
    };
    FourVector::from_momentum_mass(met_px, met_py, pz, 0.0)
}

/// The semileptonic t tbar system reconstructed from detector objects.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TtbarSystem {
    /// Invariant mass of lepton, neutrino and the four jets, GeV.
    pub m_tt: f64,
    /// Mass of the two light jets (hadronic W), GeV.
    pub m_w_had: f64,
    /// Mass of lepton, neutrino and the leptonic b jet, GeV.
    pub m_t_lep: f64,
    /// Mass of the hadronic W and the hadronic b jet, GeV.
    pub m_t_had: f64,
    /// The chi-square of the chosen assignment.
    pub chi2: f64,
}

/// Reconstructs semileptonic t tbar from a lepton, the missing transverse
/// momentum (GeV) and four jets: the neutrino pz from [`neutrino_from_w`],
/// and the jets assigned (leptonic b, hadronic b, two light jets) by the
/// smallest chi-square in (m_W - 80.4)/10, (m_t,lep - 172.5)/5 and
/// (m_t,had - 172.5)/15 over all 12 distinct assignments.
pub fn reconstruct_ttbar(
    lepton: FourVector,
    met_px: f64,
    met_py: f64,
    jets: [FourVector; 4],
) -> TtbarSystem {
    let nu = neutrino_from_w(lepton, met_px, met_py);
    let mut best: Option<TtbarSystem> = None;
    for b_lep in 0..4 {
        for b_had in 0..4 {
            if b_had == b_lep {
                continue;
            }
            let light: Vec<usize> = (0..4).filter(|&j| j != b_lep && j != b_had).collect();
            let w = jets[light[0]] + jets[light[1]];
            let m_w = w.mass();
            let m_t_lep = (lepton + nu + jets[b_lep]).mass();
            let m_t_had = (w + jets[b_had]).mass();
            let chi2 = ((m_w - W_MASS) / 10.0).powi(2)
                + ((m_t_lep - TOP_MASS) / 5.0).powi(2)
                + ((m_t_had - TOP_MASS) / 15.0).powi(2);
            if best.is_none_or(|b| chi2 < b.chi2) {
                let all = jets.iter().fold(lepton + nu, |acc, j| acc + *j);
                best = Some(TtbarSystem {
                    m_tt: all.mass(),
                    m_w_had: m_w,
                    m_t_lep,
                    m_t_had,
                    chi2,
                });
            }
        }
    }
    best.unwrap_or(TtbarSystem {
        m_tt: f64::NAN,
        m_w_had: f64::NAN,
        m_t_lep: f64::NAN,
        m_t_had: f64::NAN,
        chi2: f64::NAN,
    })
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
    fn neutrino_pz_satisfies_the_w_mass() {
        let lepton = FourVector::from_pt_eta_phi_m(40.0, 0.7, 0.3, 0.0);
        let nu = neutrino_from_w(lepton, -25.0, 10.0);
        assert!(
            ((lepton + nu).mass() - W_MASS).abs() < 1e-6,
            "{}",
            (lepton + nu).mass()
        );
        // Back to back with 300 GeV of MET the transverse mass (219 GeV)
        // exceeds m_W: no real root, the real part is taken, and the mass
        // comes out above m_W.
        let (c, s) = (0.3f64.cos(), 0.3f64.sin());
        let nu = neutrino_from_w(lepton, -300.0 * c, -300.0 * s);
        assert!((lepton + nu).mass() > W_MASS);
        assert!(nu.e.is_finite() && (nu.pt() - 300.0).abs() < 1e-9);
    }

    /// A constructed event whose true assignment has m_W = 80.4 and both
    /// top masses 172.5 GeV exactly (chi-square 0): the hadronic W's jets
    /// back to back, each W's b quark carrying the energy that makes the top
    /// mass, the hadronic side boosted along z so that no other assignment
    /// gives the same masses. Every jet order finds the true assignment.
    #[test]
    fn jet_assignment_picks_the_true_permutation_of_a_constructed_event() {
        let (m_w, m_t) = (80.4, 172.5);
        let e_b = (m_t * m_t - m_w * m_w) / (2.0 * m_w);
        let boost = |p: FourVector| {
            let (beta, gamma) = (0.6, 1.25);
            FourVector::new(
                p.px,
                p.py,
                gamma * (p.pz + beta * p.e),
                gamma * (p.e + beta * p.pz),
            )
        };
        let q1 = boost(FourVector::new(m_w / 2.0, 0.0, 0.0, m_w / 2.0));
        let q2 = boost(FourVector::new(-m_w / 2.0, 0.0, 0.0, m_w / 2.0));
        let b_had = boost(FourVector::new(0.0, 0.0, e_b, e_b));
        // The leptonic W at rest, transverse: the W-mass constraint then
        // has the single root pz = 0, the true neutrino.
        let lepton = FourVector::new(0.0, -m_w / 2.0, 0.0, m_w / 2.0);
        let (met_px, met_py) = (0.0, m_w / 2.0);
        let b_lep = FourVector::new(e_b * 0.6, 0.0, -e_b * 0.8, e_b);
        let jets = [q1, b_lep, q2, b_had];
        for order in [[0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2], [2, 0, 3, 1]] {
            let sys = reconstruct_ttbar(lepton, met_px, met_py, order.map(|i| jets[i]));
            assert!(sys.chi2 < 1e-12, "{order:?}: {sys:?}");
            assert!((sys.m_w_had - m_w).abs() < 1e-9, "{sys:?}");
            assert!((sys.m_t_had - m_t).abs() < 1e-9, "{sys:?}");
            assert!((sys.m_t_lep - m_t).abs() < 1e-9, "{sys:?}");
        }
    }

    #[test]
    fn ttbar_reconstruction_ignores_jet_order_and_uses_every_object() {
        let jet = |pt, eta, phi| FourVector::from_pt_eta_phi_m(pt, eta, phi, 0.0);
        let jets = [
            jet(95.0, 0.3, 0.1),
            jet(60.0, -0.8, 2.9),
            jet(45.0, 1.1, -2.0),
            jet(30.0, 0.2, 1.4),
        ];
        let lepton = jet(50.0, -0.4, -1.2);
        let sys = reconstruct_ttbar(lepton, 30.0, -20.0, jets);
        let shuffled = [jets[2], jets[0], jets[3], jets[1]];
        let again = reconstruct_ttbar(lepton, 30.0, -20.0, shuffled);
        assert!((sys.chi2 - again.chi2).abs() < 1e-9 && (sys.m_t_had - again.m_t_had).abs() < 1e-9);
        let nu = neutrino_from_w(lepton, 30.0, -20.0);
        let all = invariant_mass(&[lepton, nu, jets[0], jets[1], jets[2], jets[3]]);
        assert!((sys.m_tt - all).abs() < 1e-9);
        let pair_masses: Vec<f64> = (0..4)
            .flat_map(|a| (a + 1..4).map(move |b| (a, b)))
            .map(|(a, b)| (jets[a] + jets[b]).mass())
            .collect();
        assert!(pair_masses.iter().any(|m| (m - sys.m_w_had).abs() < 1e-9));
    }

    #[test]
    fn back_to_back_pair_mass() {
        let a = FourVector::from_momentum_mass(45.0, 0.0, 0.0, 0.0);
        let b = FourVector::from_momentum_mass(-45.0, 0.0, 0.0, 0.0);
        assert!((invariant_mass(&[a, b]) - 90.0).abs() < 1e-12);
    }
}
