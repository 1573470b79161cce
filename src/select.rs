//! Final-state selection and alignment: builds the parton-level vector z from
//! an LHE event and the detector-level vector x from a Delphes entry, as the
//! run card describes (METHOD.md, "Spaces"), matches the two by event number
//! and counts every decision in a [`CutFlow`].

use std::collections::BTreeMap;

use serde::Serialize;

use crate::card::{Cuts, MetConvention, ObjectKind, RunCard};
use crate::io::delphes::{Candidate, DetectorEvent, Wanted};
use crate::io::lhe::LheEvent;
use crate::physics::FourVector;

/// Builds z and x vectors from events, per the card.
#[derive(Debug, Clone)]
pub struct Selection {
    card: RunCard,
}

/// Why an event was dropped (the cut-flow's keys).
pub type Reason = String;

impl Selection {
    /// A selection for this card (which must be validated).
    pub fn new(card: &RunCard) -> Self {
        Self { card: card.clone() }
    }

    /// Length of z: four components per parton.
    pub fn z_len(&self) -> usize {
        4 * self.card.partons.len()
    }

    /// Length of x: four components per object.
    pub fn x_len(&self) -> usize {
        4 * self.card.objects.len()
    }

    /// The Delphes collections this selection needs.
    pub fn wanted(&self) -> Wanted {
        let d = &self.card.detector;
        let uses = |k: ObjectKind| self.card.objects.iter().any(|o| o.from == k);
        Wanted {
            number: self.card.inputs.align == crate::card::Align::EventNumber,
            electrons: d.electron.is_some() || uses(ObjectKind::Electron),
            muons: d.muon.is_some() || uses(ObjectKind::Muon),
            photons: d.photon.is_some() || uses(ObjectKind::Photon),
            jets: d.jet.is_some() || uses(ObjectKind::Jet),
            met: uses(ObjectKind::MissingEt),
        }
    }

    /// z = (px, py, pz, E) of each card parton, in GeV, E from the card's
    /// mass. Each parton must match exactly one particle of its PDG id and
    /// status; otherwise the reason is returned.
    pub fn partons(&self, event: &LheEvent) -> Result<Vec<f64>, Reason> {
        let mut z = Vec::with_capacity(self.z_len());
        for spec in &self.card.partons {
            let mut found = event
                .particles
                .iter()
                .filter(|p| p.pdg == spec.pdg && p.status == spec.status);
            let p = match (found.next(), found.next()) {
                (Some(p), None) => p,
                (None, _) => {
                    return Err(format!(
                        "parton {}: no pdg {} status {}",
                        spec.name, spec.pdg, spec.status
                    ));
                }
                (Some(_), Some(_)) => {
                    return Err(format!(
                        "parton {}: several pdg {} status {}",
                        spec.name, spec.pdg, spec.status
                    ));
                }
            };
            let m = &p.momentum;
            z.extend(FourVector::from_momentum_mass(m.px, m.py, m.pz, spec.mass).to_array());
        }
        Ok(z)
    }

    /// x = (px, py, pz, E) of each card object, in GeV, after the card's
    /// cuts, counts and charge requirements; otherwise the first failing cut.
    pub fn objects(&self, event: &DetectorEvent) -> Result<Vec<f64>, Reason> {
        let d = &self.card.detector;
        let electrons = passing("electrons", &event.electrons, d.electron.as_ref())?;
        let muons = passing("muons", &event.muons, d.muon.as_ref())?;
        let photons = passing("photons", &event.photons, d.photon.as_ref())?;
        let jets = passing("jets", &event.jets, d.jet.as_ref())?;
        let mut x = Vec::with_capacity(self.x_len());
        for spec in &self.card.objects {
            let pool = match spec.from {
                ObjectKind::Electron => &electrons,
                ObjectKind::Muon => &muons,
                ObjectKind::Photon => &photons,
                ObjectKind::Jet => &jets,
                ObjectKind::MissingEt => {
                    let met = event
                        .met
                        .ok_or_else(|| "missing ET: none in event".to_string())?;
                    let v = match d.met_convention {
                        MetConvention::Physical => FourVector::new(
                            met.met * met.phi.cos(),
                            met.met * met.phi.sin(),
                            0.0,
                            met.met,
                        ),
                        MetConvention::Reference => {
                            FourVector::from_pt_eta_phi_m(met.met, met.eta, met.phi, 0.0)
                        }
                    };
                    x.extend(v.to_array());
                    continue;
                }
            };
            let candidate = match spec.charge {
                Some(q) => {
                    let mut of_charge = pool.iter().filter(|c| c.charge == q);
                    match (of_charge.next(), of_charge.next()) {
                        (Some(c), None) => *c,
                        (None, _) => {
                            return Err(format!(
                                "object {}: no candidate of charge {q:+}",
                                spec.name
                            ));
                        }
                        _ => {
                            return Err(format!(
                                "object {}: several candidates of charge {q:+}",
                                spec.name
                            ));
                        }
                    }
                }
                None => *pool.get(spec.rank as usize - 1).ok_or_else(|| {
                    format!("object {}: fewer than {} candidates", spec.name, spec.rank)
                })?,
            };
            x.extend(
                FourVector::from_pt_eta_phi_m(candidate.pt, candidate.eta, candidate.phi, 0.0)
                    .to_array(),
            );
        }
        Ok(x)
    }
}

impl Selection {
    /// The card's pT and |eta| cuts applied to x of an event read from an
    /// otus export ([`crate::io::otus`]): every object must pass the cuts
    /// of its collection (missing ET has none). Counts, charges and ranks
    /// hold by construction there, so only these cuts can fail.
    pub fn exported(&self, x: &[f64]) -> Result<(), Reason> {
        let d = &self.card.detector;
        for (spec, v) in self.card.objects.iter().zip(x.chunks(4)) {
            let (what, cuts) = match spec.from {
                ObjectKind::Electron => ("electrons", &d.electron),
                ObjectKind::Muon => ("muons", &d.muon),
                ObjectKind::Photon => ("photons", &d.photon),
                ObjectKind::Jet => ("jets", &d.jet),
                ObjectKind::MissingEt => continue,
            };
            let p = FourVector::new(v[0], v[1], v[2], v[3]);
            if let Some(c) = cuts
                && !c.accepts(p.pt(), p.eta())
            {
                return Err(format!(
                    "object {}: fails the {what} cuts (pT > {} GeV{})",
                    spec.name,
                    c.pt_min,
                    c.eta_max
                        .map(|m| format!(", |eta| < {m}"))
                        .unwrap_or_default()
                ));
            }
        }
        Ok(())
    }
}

/// The objects passing the cuts, by descending pT, or the failed count.
fn passing(what: &str, all: &[Candidate], cuts: Option<&Cuts>) -> Result<Vec<Candidate>, Reason> {
    let mut kept: Vec<Candidate> = match cuts {
        Some(c) => all
            .iter()
            .filter(|o| c.accepts(o.pt, o.eta))
            .copied()
            .collect(),
        None => all.to_vec(),
    };
    kept.sort_by(|a, b| b.pt.total_cmp(&a.pt));
    if let Some(n) = cuts.and_then(|c| c.count)
        && kept.len() != n as usize
    {
        let c = cuts.map(|c| c.pt_min).unwrap_or(0.0);
        return Err(if n == 0 {
            format!("{what}: veto (pT > {c} GeV)")
        } else {
            format!("{what}: not exactly {n} with pT > {c} GeV")
        });
    }
    Ok(kept)
}

/// Counts for one input pair.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct PairCutFlow {
    /// The LHE file.
    pub lhe: String,
    /// The Delphes file.
    pub delphes: String,
    /// LHE events read.
    pub lhe_events: u64,
    /// LHE events whose partons were all found.
    pub lhe_selected: u64,
    /// LHE events dropped, by reason.
    pub lhe_dropped: BTreeMap<Reason, u64>,
    /// Delphes entries read.
    pub delphes_entries: u64,
    /// Delphes entries passing the detector selection.
    pub delphes_selected: u64,
    /// Delphes entries dropped, by the first cut they failed.
    pub delphes_dropped: BTreeMap<Reason, u64>,
    /// Delphes entries whose event number names no LHE event of the file.
    pub unmatched_entries: u64,
    /// LHE events whose number no Delphes entry carries (events the shower
    /// or the detector simulation dropped), with `align = "event-number"`.
    pub lhe_without_entry: u64,
    /// Delphes entries whose event number an earlier entry already
    /// carried (only the first is used).
    pub duplicate_entries: u64,
    /// Events selected at both levels and written.
    pub aligned: u64,
}

impl PairCutFlow {
    /// Adds another pair's counts (for totals).
    pub fn add(&mut self, o: &PairCutFlow) {
        self.lhe_events += o.lhe_events;
        self.lhe_selected += o.lhe_selected;
        self.delphes_entries += o.delphes_entries;
        self.delphes_selected += o.delphes_selected;
        self.unmatched_entries += o.unmatched_entries;
        self.lhe_without_entry += o.lhe_without_entry;
        self.duplicate_entries += o.duplicate_entries;
        self.aligned += o.aligned;
        for (k, v) in &o.lhe_dropped {
            *self.lhe_dropped.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &o.delphes_dropped {
            *self.delphes_dropped.entry(k.clone()).or_default() += v;
        }
    }
}

/// The cut-flow of an ingest: per pair and in total.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CutFlow {
    /// One entry per input pair, in input order.
    pub pairs: Vec<PairCutFlow>,
    /// The sum over pairs.
    pub total: PairCutFlow,
}

impl CutFlow {
    /// A cut-flow from per-pair counts.
    pub fn from_pairs(pairs: Vec<PairCutFlow>) -> Self {
        let mut total = PairCutFlow {
            lhe: "total".into(),
            delphes: "total".into(),
            ..Default::default()
        };
        for p in &pairs {
            total.add(p);
        }
        Self { pairs, total }
    }

    /// A plain-text table of the totals: each cut in the order it is
    /// applied, with the events it removes and the events left after it.
    pub fn summary(&self) -> String {
        let t = &self.total;
        let mut s = format!("cut-flow over {} file pair(s)\n", self.pairs.len());
        s += &format!("  {:<52} {:>9}\n", "LHE events read", t.lhe_events);
        s += &cumulative(t.lhe_events, &t.lhe_dropped);
        s += &format!("  {:<52} {:>9}\n", "LHE events selected", t.lhe_selected);
        s += &format!(
            "  {:<52} {:>9}\n",
            "Delphes entries read", t.delphes_entries
        );
        s += &cumulative(t.delphes_entries, &t.delphes_dropped);
        s += &format!(
            "  {:<52} {:>9}\n",
            "Delphes entries selected", t.delphes_selected
        );
        for (label, n) in [
            ("selected entries naming no LHE event", t.unmatched_entries),
            (
                "Delphes entries repeating an event number",
                t.duplicate_entries,
            ),
            ("LHE events with no Delphes entry", t.lhe_without_entry),
        ] {
            if n > 0 {
                s += &format!("  {label:<52} {n:>9}\n");
            }
        }
        s += &format!(
            "  {:<52} {:>9}\n",
            "aligned (selected at both levels)", t.aligned
        );
        s
    }
}

/// The order in which [`Selection`] applies its cuts, for reporting.
fn cut_rank(reason: &str) -> usize {
    [
        "parton",
        "electrons",
        "muons",
        "photons",
        "jets",
        "object",
        "missing",
    ]
    .iter()
    .position(|p| reason.starts_with(p))
    .unwrap_or(usize::MAX)
}

/// Lines `- reason  removed  left` in cut order.
fn cumulative(start: u64, dropped: &BTreeMap<Reason, u64>) -> String {
    let mut steps: Vec<(&Reason, &u64)> = dropped.iter().collect();
    steps.sort_by_key(|(r, _)| cut_rank(r));
    let mut left = start;
    let mut s = String::new();
    for (reason, n) in steps {
        left = left.saturating_sub(*n);
        s += &format!(
            "    - {reason:<48} {:>9}  {left:>9} left\n",
            format!("-{n}")
        );
    }
    s
}
