//! The variables compared by the evaluation: every column of a sample, plus
//! pT, eta and phi of each object and derived quantities such as invariant
//! masses.
//!
//! Objects are found from the frame's column names
//! `<space>_<object>_<component>` with components `px`, `py`, `pz`, `e`
//! (GeV). Derived quantities are [`DerivedVariable`]s: M_ee is built in
//! ([`default_derived`]); the ttbar masses (m_tt, hadronic W, leptonic and
//! hadronic top, which need a neutrino pz and a jet assignment) plug in as
//! further `DerivedVariable`s without changes here.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::{Sample, Unit};
pub use crate::frames::COMPONENTS;
pub use crate::physics::FourVector;

/// A compared quantity: its column-like name, a label for axes and tables,
/// and its unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Variable {
    /// Name, prefixed by the space: `x_ep_px`, `z_em_pt`, `x_mass_ee`.
    pub name: String,
    /// Human-readable label without unit: `e+ px`, `M_ee`.
    pub label: String,
    /// Unit of the values.
    pub unit: Unit,
}

/// A variable with its values, one per event where it is defined.
#[derive(Debug, Clone, PartialEq)]
pub struct VariableColumn {
    /// What the values are.
    pub variable: Variable,
    /// The values (unit: `variable.unit`); events where a derived quantity is
    /// undefined are left out.
    pub values: Vec<f64>,
}

/// The objects of one event, by name (`em`, `jet1`, ...).
pub type Objects = BTreeMap<String, FourVector>;

/// The function of a derived quantity: its value for one event, or `None`
/// where it is undefined (that event is left out of its comparison).
pub type DeriveFn = Arc<dyn Fn(&Objects) -> Option<f64> + Send + Sync>;

/// A quantity computed from an event's objects, e.g. an invariant mass.
#[derive(Clone)]
pub struct DerivedVariable {
    /// Name without the space prefix: `mass_ee`.
    pub name: String,
    /// Label without unit: `M_ee`.
    pub label: String,
    /// Unit of the values.
    pub unit: Unit,
    /// Objects the quantity needs; a space lacking one of them skips it.
    pub requires: Vec<String>,
    /// The computation.
    pub compute: DeriveFn,
}

impl std::fmt::Debug for DerivedVariable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DerivedVariable")
            .field("name", &self.name)
            .field("requires", &self.requires)
            .finish_non_exhaustive()
    }
}

impl DerivedVariable {
    /// The invariant mass of the sum of `objects`, GeV.
    pub fn invariant_mass(name: &str, label: &str, objects: &[&str]) -> Self {
        let names: Vec<String> = objects.iter().map(|s| s.to_string()).collect();
        let wanted = names.clone();
        DerivedVariable {
            name: name.to_string(),
            label: label.to_string(),
            unit: Unit::GeV,
            requires: names,
            compute: Arc::new(move |event: &Objects| {
                let mut sum = FourVector::default();
                for n in &wanted {
                    sum = sum + *event.get(n)?;
                }
                Some(sum.mass())
            }),
        }
    }
}

/// The derived quantities every evaluation includes where the objects exist:
/// M_ee, the invariant mass of `em` + `ep` (GeV), and the ttbar masses of
/// [`ttbar_derived`]. Ingest stores them as frame columns too
/// ([`derived_columns`]).
pub fn default_derived() -> Vec<DerivedVariable> {
    let mut derived = vec![DerivedVariable::invariant_mass(
        "mass_ee",
        "M_ee",
        &["em", "ep"],
    )];
    derived.extend(ttbar_derived());
    derived
}

/// The semileptonic t tbar masses. Parton level (objects em, nu, b, bbar,
/// u, dbar): the true assignment, t -> b u d~ and t~ -> b~ e- nu~. Detector
/// level (em, met, jet1..jet4): the neutrino pz from the W-mass constraint
/// and the chi-square jet assignment of [`crate::physics::reconstruct_ttbar`].
pub fn ttbar_derived() -> Vec<DerivedVariable> {
    use crate::physics::reconstruct_ttbar;
    let z_objects = ["em", "nu", "b", "bbar", "u", "dbar"];
    let x_objects = ["em", "met", "jet1", "jet2", "jet3", "jet4"];
    let parton = |name: &str, label: &str, objects: &[&str]| {
        let mut v = DerivedVariable::invariant_mass(name, label, objects);
        v.requires = z_objects.iter().map(|s| s.to_string()).collect();
        v
    };
    let detector =
        |name: &str, label: &str, pick: fn(&crate::physics::TtbarSystem) -> f64| DerivedVariable {
            name: name.into(),
            label: label.into(),
            unit: Unit::GeV,
            requires: x_objects.iter().map(|s| s.to_string()).collect(),
            compute: Arc::new(move |o: &Objects| {
                let jets = [
                    o.get("jet1")?,
                    o.get("jet2")?,
                    o.get("jet3")?,
                    o.get("jet4")?,
                ];
                let met = o.get("met")?;
                let sys = reconstruct_ttbar(*o.get("em")?, met.px, met.py, jets.map(|j| *j));
                let v = pick(&sys);
                v.is_finite().then_some(v)
            }),
        };
    vec![
        parton("mass_tt", "m_tt", &z_objects),
        parton("mass_w_had", "m_W,had", &["u", "dbar"]),
        parton("mass_t_lep", "m_t,lep", &["em", "nu", "bbar"]),
        parton("mass_t_had", "m_t,had", &["u", "dbar", "b"]),
        detector("mass_tt", "m_tt", |s| s.m_tt),
        detector("mass_w_had", "m_W,had", |s| s.m_w_had),
        detector("mass_t_lep", "m_t,lep", |s| s.m_t_lep),
        detector("mass_t_had", "m_t,had", |s| s.m_t_had),
    ]
}

/// Objects with all four components among the columns of `sample` whose
/// names start with `<space>_`, in column order.
pub fn objects_of(sample: &Sample, space: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for column in sample.columns() {
        let Some(rest) = column.strip_prefix(space).and_then(|r| r.strip_prefix('_')) else {
            continue;
        };
        let Some((object, _)) = rest.rsplit_once('_') else {
            continue;
        };
        let complete = COMPONENTS
            .iter()
            .all(|c| sample.index_of(&format!("{space}_{object}_{c}")).is_some());
        if complete && !found.iter().any(|o| o == object) {
            found.push(object.to_string());
        }
    }
    found
}

/// A readable name for a frame object: `em` -> `e-`, `jet1` -> `jet 1`.
pub fn object_label(object: &str) -> String {
    match object {
        "em" => "e-".into(),
        "ep" => "e+".into(),
        "nu" => "nu~".into(),
        "bbar" => "b~".into(),
        "dbar" => "d~".into(),
        "met" => "MET".into(),
        o => match o.strip_prefix("jet") {
            Some(n) if !n.is_empty() => format!("jet {n}"),
            _ => o.to_string(),
        },
    }
}

/// Every variable of `sample` in `space` (`"z"` or `"x"`): each column as
/// given (components labelled, in GeV), then pT, eta, phi of each complete
/// object, then each `derived` quantity whose objects exist.
pub fn variables_of(
    sample: &Sample,
    space: &str,
    derived: &[DerivedVariable],
) -> Vec<VariableColumn> {
    let mut out = Vec::new();
    let objects = objects_of(sample, space);

    for (j, name) in sample.columns().iter().enumerate() {
        out.push(VariableColumn {
            variable: Variable {
                name: name.clone(),
                label: column_label(name, space),
                unit: Unit::GeV,
            },
            values: sample.column_at(j),
        });
    }

    let events = events_of(sample, space, &objects);
    for object in &objects {
        let label = object_label(object);
        let kinds: [Kinematic; 3] = [
            ("pt", "pT", Unit::GeV, FourVector::pt),
            ("eta", "eta", Unit::Dimensionless, FourVector::eta),
            ("phi", "phi", Unit::Radian, FourVector::phi),
        ];
        for (suffix, what, unit, f) in kinds {
            out.push(VariableColumn {
                variable: Variable {
                    name: format!("{space}_{object}_{suffix}"),
                    label: format!("{label} {what}"),
                    unit,
                },
                values: events.iter().map(|e| f(&e[object])).collect(),
            });
        }
    }

    for d in derived {
        if !d.requires.iter().all(|r| objects.contains(r)) {
            continue;
        }
        out.push(VariableColumn {
            variable: Variable {
                name: format!("{space}_{}", d.name),
                label: d.label.clone(),
                unit: d.unit,
            },
            values: events.iter().filter_map(|e| (d.compute)(e)).collect(),
        });
    }
    out
}

/// The [`default_derived`] quantities whose objects `sample` has in
/// `space` (`"z"` or `"x"`), one value per row (NaN where an event has none,
/// such as a ttbar event without a jet assignment): `(column name, values)`
/// with names `{space}_{name}` (`x_mass_ee`, `z_mass_tt`).
pub fn derived_columns(sample: &Sample, space: &str) -> Vec<(String, Vec<f64>)> {
    let objects = objects_of(sample, space);
    let events = events_of(sample, space, &objects);
    default_derived()
        .into_iter()
        .filter(|d| d.requires.iter().all(|r| objects.contains(r)))
        .map(|d| {
            let values = events
                .iter()
                .map(|e| (d.compute)(e).unwrap_or(f64::NAN))
                .collect();
            (format!("{space}_{}", d.name), values)
        })
        .collect()
}

/// Name suffix, label, unit and function of a per-object quantity.
type Kinematic = (&'static str, &'static str, Unit, fn(&FourVector) -> f64);

/// The objects of every event.
fn events_of(sample: &Sample, space: &str, objects: &[String]) -> Vec<Objects> {
    let indices: Vec<(String, [usize; 4])> = objects
        .iter()
        .map(|o| {
            let idx = COMPONENTS.map(|c| {
                sample
                    .index_of(&format!("{space}_{o}_{c}"))
                    .expect("objects_of lists complete objects only")
            });
            (o.clone(), idx)
        })
        .collect();
    (0..sample.rows())
        .map(|i| {
            let row = sample.row(i);
            indices
                .iter()
                .map(|(o, [px, py, pz, e])| {
                    let p = FourVector {
                        px: row[*px],
                        py: row[*py],
                        pz: row[*pz],
                        e: row[*e],
                    };
                    (o.clone(), p)
                })
                .collect()
        })
        .collect()
}

/// `x_ep_px` -> `e+ px`, `z_em_e` -> `e- E`; other names are kept.
fn column_label(name: &str, space: &str) -> String {
    let Some(rest) = name.strip_prefix(space).and_then(|r| r.strip_prefix('_')) else {
        return name.to_string();
    };
    match rest.rsplit_once('_') {
        Some((object, c)) if COMPONENTS.contains(&c) => {
            let c = if c == "e" { "E" } else { c };
            format!("{} {c}", object_label(object))
        }
        _ => name.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zee_event() -> Sample {
        // e- and e+ back to back along x, 45 GeV each, massless: M = 90 GeV.
        let cols = [
            "x_em_px", "x_em_py", "x_em_pz", "x_em_e", "x_ep_px", "x_ep_py", "x_ep_pz", "x_ep_e",
        ];
        Sample::new(
            cols.iter().map(|s| s.to_string()).collect(),
            vec![45.0, 0.0, 0.0, 45.0, -45.0, 0.0, 0.0, 45.0],
        )
        .unwrap()
    }

    #[test]
    fn finds_objects_and_derives_kinematics() {
        let s = zee_event();
        assert_eq!(objects_of(&s, "x"), vec!["em", "ep"]);
        let vars = variables_of(&s, "x", &default_derived());
        let get = |n: &str| vars.iter().find(|v| v.variable.name == n).unwrap();
        assert_eq!(vars.len(), 8 + 6 + 1);
        assert_eq!(get("x_em_pt").values, vec![45.0]);
        assert_eq!(get("x_ep_phi").values, vec![std::f64::consts::PI]);
        assert_eq!(get("x_em_eta").values, vec![0.0]);
        assert!((get("x_mass_ee").values[0] - 90.0).abs() < 1e-12);
        assert_eq!(get("x_ep_px").variable.label, "e+ px");
        assert_eq!(get("x_mass_ee").variable.unit, Unit::GeV);
    }

    #[test]
    fn derived_variable_skipped_without_its_objects() {
        let s = Sample::new(
            ["z_em_px", "z_em_py", "z_em_pz", "z_em_e"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            vec![1.0, 2.0, 3.0, 4.0],
        )
        .unwrap();
        let vars = variables_of(&s, "z", &default_derived());
        assert!(vars.iter().all(|v| v.variable.name != "z_mass_ee"));
    }

    #[test]
    fn eta_of_known_momentum() {
        // pz = pT sinh(1) gives eta = 1.
        let p = FourVector {
            px: 3.0,
            py: 4.0,
            pz: 5.0 * 1f64.sinh(),
            e: 100.0,
        };
        assert!((p.eta() - 1.0).abs() < 1e-12);
        assert_eq!(FourVector::default().eta(), 0.0);
    }
}
