//! Event samples as the trainer sees them: a matrix of four-momenta with
//! column names.
//!
//! Column names follow `{space}_{object}_{component}`, where `space` is `z`
//! (parton level) or `x` (detector level), `object` names a particle or
//! reconstructed object (`em`, `ep`, `b`, `jet1`, `met`, ...; it may itself
//! contain underscores) and `component` is one of `px`, `py`, `pz`, `e`
//! (GeV). Each object's four columns are consecutive and in that order.

use serde::{Deserialize, Serialize};

use super::Error;

pub use crate::frames::COMPONENTS;

/// A set of events in one space: `rows x dim` values (GeV), row-major, with
/// one name per column. The trainer receives the train and validation splits
/// as separate samples of the same layout; values are stored as `f64`, the
/// networks run in `f32`. The same type serves the evaluation.
pub use crate::evaluate::Sample;

/// Checks that every value of a sample is finite.
pub fn check_finite(sample: &Sample) -> Result<(), Error> {
    let d = sample.columns().len().max(1);
    match sample.values().iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => Err(Error::Data(format!(
            "value {} in row {}, column {} is not finite",
            sample.values()[i],
            i / d,
            sample.columns()[i % d]
        ))),
    }
}

/// The objects of one space, read from column names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// The space prefix, `z` or `x`.
    pub space: String,
    /// Object names in column order (each owns four columns).
    pub objects: Vec<String>,
}

impl Layout {
    /// Parse `{space}_{object}_{component}` column names.
    ///
    /// Every object must own four consecutive columns `px, py, pz, e`, and
    /// every column must share one space prefix.
    pub fn from_columns(columns: &[String]) -> Result<Self, Error> {
        if columns.is_empty() || !columns.len().is_multiple_of(4) {
            return Err(Error::Data(format!(
                "expected four columns (px, py, pz, e) per object, got {} columns",
                columns.len()
            )));
        }
        let mut space: Option<String> = None;
        let mut objects = Vec::new();
        for (k, group) in columns.chunks(4).enumerate() {
            let mut object: Option<String> = None;
            for (column, component) in group.iter().zip(COMPONENTS) {
                let (s, o, c) = split_column(column)?;
                if c != component {
                    return Err(Error::Data(format!(
                        "column {column}: expected component {component} at position {} \
                         (objects need px, py, pz, e in that order)",
                        4 * k + COMPONENTS.iter().position(|x| *x == component).unwrap_or(0)
                    )));
                }
                match &space {
                    None => space = Some(s.to_string()),
                    Some(prev) if prev != s => {
                        return Err(Error::Data(format!(
                            "column {column}: space {s} differs from {prev}"
                        )));
                    }
                    Some(_) => {}
                }
                match &object {
                    None => object = Some(o.to_string()),
                    Some(prev) if prev != o => {
                        return Err(Error::Data(format!(
                            "column {column}: object {o} interleaved with {prev}"
                        )));
                    }
                    Some(_) => {}
                }
            }
            let object = object.unwrap_or_default();
            if objects.contains(&object) {
                return Err(Error::Data(format!("object {object} appears twice")));
            }
            objects.push(object);
        }
        Ok(Self {
            space: space.unwrap_or_default(),
            objects,
        })
    }

    /// The column names this layout stands for.
    pub fn columns(&self) -> Vec<String> {
        self.objects
            .iter()
            .flat_map(|o| {
                COMPONENTS
                    .iter()
                    .map(move |c| format!("{}_{o}_{c}", self.space))
            })
            .collect()
    }

    /// Number of columns (4 per object).
    pub fn dim(&self) -> usize {
        4 * self.objects.len()
    }

    /// Position of the named object, if present.
    pub fn object_index(&self, object: &str) -> Option<usize> {
        self.objects.iter().position(|o| o == object)
    }
}

fn split_column(column: &str) -> Result<(&str, &str, &str), Error> {
    let bad = || {
        Error::Data(format!(
            "column {column}: expected {{space}}_{{object}}_{{component}}"
        ))
    };
    let (space, rest) = column.split_once('_').ok_or_else(bad)?;
    let (object, component) = rest.rsplit_once('_').ok_or_else(bad)?;
    if space.is_empty() || object.is_empty() {
        return Err(bad());
    }
    Ok((space, object, component))
}

/// Per-column mean and standard deviation of a training sample (GeV).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardization {
    /// Column names the statistics belong to.
    pub columns: Vec<String>,
    /// Mean of each column (GeV).
    pub mean: Vec<f64>,
    /// Population standard deviation of each column (GeV); a constant
    /// column gets 1 so that standardizing never divides by zero.
    pub std: Vec<f64>,
    /// Whether each column is constant (every value equal to its mean, as
    /// missing-ET pz under the physical convention). Absent in older model
    /// files: none.
    #[serde(default)]
    pub constant: Vec<bool>,
}

impl Standardization {
    /// Column means and standard deviations of `sample`.
    pub fn of(sample: &Sample) -> Self {
        let d = sample.dim();
        let n = sample.rows().max(1) as f64;
        let mut mean = vec![0.0; d];
        for row in sample.values().chunks(d) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0; d];
        for row in sample.values().chunks(d) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let spread = |s: &f64| {
            let s = (s / n).sqrt();
            (s > 0.0 && s.is_finite()).then_some(s)
        };
        Self {
            columns: sample.columns().to_vec(),
            mean,
            std: var.iter().map(|s| spread(s).unwrap_or(1.0)).collect(),
            constant: var.iter().map(|s| spread(s).is_none()).collect(),
        }
    }
}

/// The four samples training reads: train and validation splits of z and x.
///
/// The z and x samples are used as two independent marginal samples: rows
/// of `z_train` and `x_train` are never paired.
#[derive(Clone, Debug)]
pub struct TrainData {
    /// Parton-level training events.
    pub z_train: Sample,
    /// Detector-level training events.
    pub x_train: Sample,
    /// Parton-level validation events.
    pub z_val: Sample,
    /// Detector-level validation events.
    pub x_val: Sample,
}

impl TrainData {
    /// Check that the splits of each space share one layout, and return the
    /// (z, x) layouts.
    pub fn layouts(&self) -> Result<(Layout, Layout), Error> {
        let z = Layout::from_columns(self.z_train.columns())?;
        let x = Layout::from_columns(self.x_train.columns())?;
        if self.z_val.columns() != self.z_train.columns() {
            return Err(Error::Data(
                "z validation columns differ from z training columns".into(),
            ));
        }
        if self.x_val.columns() != self.x_train.columns() {
            return Err(Error::Data(
                "x validation columns differ from x training columns".into(),
            ));
        }
        for (name, s) in [
            ("z train", &self.z_train),
            ("x train", &self.x_train),
            ("z validation", &self.z_val),
            ("x validation", &self.x_val),
        ] {
            if s.rows() < 2 {
                return Err(Error::Data(format!(
                    "the {name} split has {} events; at least 2 are needed",
                    s.rows()
                )));
            }
            check_finite(s).map_err(|e| Error::Data(format!("the {name} split: {e}")))?;
        }
        Ok((z, x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn layout_parses_objects_with_underscores() {
        let cols = names(&[
            "z_em_px",
            "z_em_py",
            "z_em_pz",
            "z_em_e",
            "z_b_bar_px",
            "z_b_bar_py",
            "z_b_bar_pz",
            "z_b_bar_e",
        ]);
        let layout = Layout::from_columns(&cols).unwrap();
        assert_eq!(layout.space, "z");
        assert_eq!(layout.objects, vec!["em", "b_bar"]);
        assert_eq!(layout.columns(), cols);
    }

    #[test]
    fn layout_rejects_wrong_order() {
        let cols = names(&["x_em_py", "x_em_px", "x_em_pz", "x_em_e"]);
        assert!(Layout::from_columns(&cols).is_err());
    }

    #[test]
    fn standardization_of_constant_column_is_one() {
        let s = Sample::new(names(&["a", "b"]), vec![1.0, 2.0, 1.0, 4.0]).unwrap();
        let st = Standardization::of(&s);
        assert_eq!(st.mean, vec![1.0, 3.0]);
        assert_eq!(st.std, vec![1.0, 1.0]);
    }

    #[test]
    fn sample_rejects_ragged_and_nan() {
        assert!(Sample::new(names(&["a", "b"]), vec![1.0, 2.0, 3.0]).is_err());
        let nan = Sample::new(names(&["a"]), vec![f64::NAN]).unwrap();
        assert!(
            check_finite(&nan)
                .unwrap_err()
                .to_string()
                .contains("row 0, column a")
        );
    }
}
