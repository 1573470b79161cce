//! The detector acceptance S of the restricted decoder (paper, "Training an
//! (S)WAE with a restricted decoder").
//!
//! Real detector data holds only events inside an acceptance region S (for
//! semileptonic ttbar: four jets with pT > 20 GeV), so the decoder's output
//! is restricted to S: decoded events outside S are masked out of the data
//! loss, which is divided by P_D(S), the fraction of D(z) inside S (see
//! [`crate::train::loss::masked_mse`]), and `simulate` drops them. S is the
//! intersection of the card's cuts, each on named detector objects:
//!
//! ```toml
//! [[model.acceptance]]
//! objects = ["jet1", "jet2", "jet3", "jet4"]
//! pt_min = 20.0
//! ```
//!
//! An object passes a cut when pT > `pt_min` and |eta| < `eta_max` (both
//! strict, as the card's `detector` cuts); an event is inside S when every
//! cut passes. Without cuts S is the whole space.

use serde::{Deserialize, Serialize};

use crate::physics::FourVector;
use crate::train::Error;
use crate::train::Sample;
use crate::train::data::Layout;

/// One cut of the acceptance (an entry of `[[model.acceptance]]`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptanceCut {
    /// Detector-level (x) objects the cut applies to, by the card's object
    /// names (`jet1`, `em`). Required, at least one.
    pub objects: Vec<String>,
    /// Lower transverse-momentum threshold, GeV (strict). Default 0; range
    /// finite and >= 0.
    #[serde(default)]
    pub pt_min: f64,
    /// Upper |pseudorapidity| threshold (strict). Default: none; range > 0.
    #[serde(default)]
    pub eta_max: Option<f64>,
}

impl AcceptanceCut {
    /// Check ranges; `at` names the entry (`model.acceptance[0]`).
    pub fn validate(&self, at: &str) -> Result<(), Error> {
        if self.objects.is_empty() {
            return Err(Error::Settings(format!(
                "{at}.objects: name at least one object"
            )));
        }
        if !(self.pt_min.is_finite() && self.pt_min >= 0.0) {
            return Err(Error::Settings(format!(
                "{at}.pt_min: {} is not a threshold >= 0 GeV",
                self.pt_min
            )));
        }
        if let Some(m) = self.eta_max
            && (m.is_nan() || m <= 0.0)
        {
            return Err(Error::Settings(format!("{at}.eta_max: {m} is not > 0")));
        }
        Ok(())
    }
}

/// A cut resolved against a layout: the object's position and thresholds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectCut {
    /// Position of the object in the layout (its columns are `4 index ..
    /// 4 index + 4`).
    pub index: usize,
    /// pT threshold, GeV (strict).
    pub pt_min: f64,
    /// |eta| threshold (strict), none for no limit.
    pub eta_max: Option<f64>,
}

/// The acceptance region S on the rows of one layout.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Acceptance {
    /// The cuts, all of which an event inside S passes. Empty: S is
    /// everything.
    pub cuts: Vec<ObjectCut>,
}

impl Acceptance {
    /// Resolve the card's cuts against the objects of `layout`; an unknown
    /// object name is an error naming it.
    pub fn resolve(cuts: &[AcceptanceCut], layout: &Layout) -> Result<Self, Error> {
        let mut out = Vec::new();
        for (i, cut) in cuts.iter().enumerate() {
            for name in &cut.objects {
                let index = layout.object_index(name).ok_or_else(|| {
                    Error::Settings(format!(
                        "model.acceptance[{i}].objects: no object {name} in the {} space ({})",
                        layout.space,
                        layout.objects.join(", ")
                    ))
                })?;
                out.push(ObjectCut {
                    index,
                    pt_min: cut.pt_min,
                    eta_max: cut.eta_max,
                });
            }
        }
        Ok(Self { cuts: out })
    }

    /// Whether S is the whole space (no cuts).
    pub fn is_everything(&self) -> bool {
        self.cuts.is_empty()
    }

    /// Whether one event (`(px, py, pz, E)` per object, GeV) is inside S.
    pub fn contains(&self, row: &[f64]) -> bool {
        self.cuts.iter().all(|c| {
            let r = &row[4 * c.index..4 * c.index + 4];
            let p = FourVector::new(r[0], r[1], r[2], r[3]);
            p.pt() > c.pt_min && c.eta_max.is_none_or(|m| p.eta().abs() < m)
        })
    }

    /// The rows of `sample` (`(px, py, pz, E)` per object, GeV) inside S and
    /// their positions in `sample`, in order; `None` when S is everything
    /// (every row is kept, nothing is copied).
    pub fn keep(&self, sample: &Sample) -> Option<(Sample, Vec<usize>)> {
        if self.is_everything() {
            return None;
        }
        let rows: Vec<usize> = (0..sample.rows())
            .filter(|&i| self.contains(sample.row(i)))
            .collect();
        let values = rows
            .iter()
            .flat_map(|&i| sample.row(i).iter().copied())
            .collect();
        let kept = Sample::new(sample.columns().to_vec(), values)
            .expect("rows of a valid sample make a valid sample");
        Some((kept, rows))
    }

    /// For each row of the row-major `values` (`dim` columns per row, GeV,
    /// as the networks output them), whether it is inside S.
    pub fn mask_f32(&self, values: &[f32], dim: usize) -> Vec<bool> {
        let mut row = vec![0.0f64; dim];
        values
            .chunks(dim)
            .map(|r| {
                row.iter_mut().zip(r).for_each(|(o, &v)| *o = f64::from(v));
                self.contains(&row)
            })
            .collect()
    }
}

/// Fraction of `true` entries of a mask, in [0, 1]; 0 for an empty mask.
pub fn fraction(mask: &[bool]) -> f64 {
    if mask.is_empty() {
        return 0.0;
    }
    mask.iter().filter(|&&m| m).count() as f64 / mask.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout {
            space: "x".into(),
            objects: vec!["em".into(), "jet1".into()],
        }
    }

    #[test]
    fn cuts_are_strict_and_every_cut_must_pass() {
        let cuts = [
            AcceptanceCut {
                objects: vec!["jet1".into()],
                pt_min: 20.0,
                eta_max: None,
            },
            AcceptanceCut {
                objects: vec!["em".into()],
                pt_min: 10.0,
                eta_max: Some(2.5),
            },
        ];
        let s = Acceptance::resolve(&cuts, &layout()).unwrap();
        let event = |em_pt: f64, em_eta: f64, jet_pt: f64| {
            let em = FourVector::from_pt_eta_phi_m(em_pt, em_eta, 0.3, 0.0);
            let jet = FourVector::from_pt_eta_phi_m(jet_pt, 0.1, -2.0, 0.0);
            [em.to_array(), jet.to_array()].concat()
        };
        assert!(s.contains(&event(30.0, 1.0, 25.0)));
        assert!(!s.contains(&event(30.0, 1.0, 19.0)));
        assert!(!s.contains(&event(30.0, 2.6, 25.0)));
        assert!(!s.contains(&event(9.0, 1.0, 25.0)));
        let rows: Vec<f32> = [event(30.0, 1.0, 25.0), event(30.0, 1.0, 15.0)]
            .concat()
            .iter()
            .map(|&v| v as f32)
            .collect();
        let mask = s.mask_f32(&rows, 8);
        assert_eq!(mask, vec![true, false]);
        assert_eq!(fraction(&mask), 0.5);
        assert!(Acceptance::default().contains(&event(0.0, 9.0, 0.0)));
    }

    #[test]
    fn unknown_objects_and_bad_thresholds_are_named() {
        let cut = AcceptanceCut {
            objects: vec!["jet7".into()],
            pt_min: 20.0,
            eta_max: None,
        };
        let e = Acceptance::resolve(&[cut], &layout()).unwrap_err();
        assert!(e.to_string().contains("no object jet7"), "{e}");
        let cut = AcceptanceCut {
            objects: vec!["em".into()],
            pt_min: -1.0,
            eta_max: None,
        };
        let e = cut.validate("model.acceptance[0]").unwrap_err();
        assert!(e.to_string().contains("model.acceptance[0].pt_min"), "{e}");
    }
}
