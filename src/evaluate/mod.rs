//! Evaluation of a trained simulator, as published in OTUS (Howard, Mandt,
//! Whiteson, Yang, Sci. Rep. 12, 7567, 2022, section "Evaluation").
//!
//! The stage works on plain sample matrices ([`Sample`]: rows are events,
//! columns are named like the frames, `z_<object>_<component>` and
//! `x_<object>_<component>`, in GeV) and never on the model itself, so it can
//! be tested without one:
//!
//! - [`metrics`]: the distances and tests (sliced and 1-D Wasserstein,
//!   Kolmogorov-Smirnov, chi-square);
//! - [`variables`]: what is compared (every component, pT, eta, phi of each
//!   object, invariant masses);
//! - [`protocol`]: the two independent halves of the test split, the three
//!   comparisons and the truth-vs-truth floor, as a [`protocol::Evaluation`];
//! - [`plots`]: the paper's figures as SVG;
//! - [`report`]: a report folder with `metrics.md`, `metrics.json`, the figures
//!   and an `index.html`.

pub mod metrics;
pub mod plots;
pub mod protocol;
pub mod report;
pub mod variables;

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Errors of the evaluation stage.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// A sample's values do not fill whole rows of its columns.
    #[error("sample has {values} values, not a multiple of its {columns} columns")]
    Shape {
        /// Number of values given.
        values: usize,
        /// Number of columns given.
        columns: usize,
    },
    /// Two samples that must describe the same events or space do not.
    #[error("samples do not match: {0}")]
    Mismatch(String),
    /// Too few events to split into two halves.
    #[error("need at least 2 test events to split into halves, got {0}")]
    TooFewEvents(usize),
    /// A named column is absent.
    #[error("no column named {0:?}")]
    MissingColumn(String),
    /// Drawing a figure failed.
    #[error("drawing {figure}: {message}")]
    Plot {
        /// File name of the figure.
        figure: String,
        /// The drawing backend's message.
        message: String,
    },
    /// Writing a report file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file being written.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Serializing the metrics failed.
    #[error("serializing metrics: {0}")]
    Json(#[from] serde_json::Error),
}

/// The unit of a variable (natural units, energies in GeV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// Energy, momentum or mass, GeV.
    GeV,
    /// Azimuthal angle, radians.
    Radian,
    /// A pure number (pseudorapidity).
    Dimensionless,
}

impl Unit {
    /// The unit's symbol, empty for [`Unit::Dimensionless`].
    pub fn symbol(self) -> &'static str {
        match self {
            Unit::GeV => "GeV",
            Unit::Radian => "rad",
            Unit::Dimensionless => "",
        }
    }

    /// The symbol of the unit squared (the unit of a squared Wasserstein
    /// distance), empty for [`Unit::Dimensionless`].
    pub fn squared_symbol(self) -> &'static str {
        match self {
            Unit::GeV => "GeV^2",
            Unit::Radian => "rad^2",
            Unit::Dimensionless => "",
        }
    }
}

/// A sample of events as a dense matrix: `rows` events by named columns,
/// stored row-major. Momentum columns are in GeV.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    columns: Vec<String>,
    values: Vec<f64>,
}

impl Sample {
    /// A sample from column names and row-major values
    /// (`values.len() == rows * columns.len()`).
    pub fn new(columns: Vec<String>, values: Vec<f64>) -> Result<Self, EvaluateError> {
        let fits = if columns.is_empty() {
            values.is_empty()
        } else {
            values.len().is_multiple_of(columns.len())
        };
        if !fits {
            return Err(EvaluateError::Shape {
                values: values.len(),
                columns: columns.len(),
            });
        }
        Ok(Self { columns, values })
    }

    /// A sample from named columns of equal length.
    pub fn from_columns(columns: Vec<(String, Vec<f64>)>) -> Result<Self, EvaluateError> {
        let rows = columns.first().map_or(0, |(_, v)| v.len());
        if let Some((name, v)) = columns.iter().find(|(_, v)| v.len() != rows) {
            return Err(EvaluateError::Mismatch(format!(
                "column {name:?} has {} rows, the first has {rows}",
                v.len()
            )));
        }
        let width = columns.len();
        let mut values = vec![0.0; rows * width];
        for (j, (_, column)) in columns.iter().enumerate() {
            for (i, v) in column.iter().enumerate() {
                values[i * width + j] = *v;
            }
        }
        let names = columns.into_iter().map(|(name, _)| name).collect();
        Self::new(names, values)
    }

    /// Number of events.
    pub fn rows(&self) -> usize {
        if self.columns.is_empty() {
            0
        } else {
            self.values.len() / self.columns.len()
        }
    }

    /// A sample from `f32` values; see [`Sample::new`].
    pub fn from_f32(columns: Vec<String>, values: &[f32]) -> Result<Self, EvaluateError> {
        Self::new(columns, values.iter().map(|&v| f64::from(v)).collect())
    }

    /// Number of columns (4 per object).
    pub fn dim(&self) -> usize {
        self.columns.len()
    }

    /// The rows at `indices`, in that order, as `f32` (row-major).
    pub(crate) fn gather_f32(&self, indices: &[usize]) -> Vec<f32> {
        let d = self.dim();
        let mut out = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            out.extend(self.values[i * d..(i + 1) * d].iter().map(|&v| v as f32));
        }
        out
    }

    /// Rows `start..end` as `f32` (row-major).
    pub(crate) fn range_f32(&self, start: usize, end: usize) -> Vec<f32> {
        let d = self.dim();
        self.values[start * d..end * d]
            .iter()
            .map(|&v| v as f32)
            .collect()
    }

    /// Column names, in storage order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// All values, row-major.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// One event's values, in column order.
    pub fn row(&self, i: usize) -> &[f64] {
        let width = self.columns.len();
        &self.values[i * width..(i + 1) * width]
    }

    /// Index of a named column.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// A copy of one column by index.
    pub fn column_at(&self, j: usize) -> Vec<f64> {
        let width = self.columns.len();
        self.values.iter().skip(j).step_by(width).copied().collect()
    }

    /// A copy of one named column.
    pub fn column(&self, name: &str) -> Result<Vec<f64>, EvaluateError> {
        self.index_of(name)
            .map(|j| self.column_at(j))
            .ok_or_else(|| EvaluateError::MissingColumn(name.to_string()))
    }

    /// The events in `range`, as a new sample with the same columns.
    pub fn slice_rows(&self, range: Range<usize>) -> Sample {
        let width = self.columns.len();
        Sample {
            columns: self.columns.clone(),
            values: self.values[range.start * width..range.end * width].to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_round_trips_columns() {
        let s = Sample::from_columns(vec![
            ("a".into(), vec![1.0, 2.0, 3.0]),
            ("b".into(), vec![4.0, 5.0, 6.0]),
        ])
        .unwrap();
        assert_eq!(s.rows(), 3);
        assert_eq!(s.row(1), &[2.0, 5.0]);
        assert_eq!(s.column("b").unwrap(), vec![4.0, 5.0, 6.0]);
        assert_eq!(s.slice_rows(1..3).column("a").unwrap(), vec![2.0, 3.0]);
        assert!(s.column("c").is_err());
    }

    #[test]
    fn sample_rejects_ragged_values() {
        assert!(Sample::new(vec!["a".into(), "b".into()], vec![1.0; 3]).is_err());
    }
}
