//! Writing simulated and unfolded events in the formats analyses read:
//! Parquet frames ([`crate::study::write_output`]), flat ROOT trees
//! ([`root`]) and, for parton-level events, Les Houches Event files
//! ([`lhe`]). The format follows the output file's extension
//! ([`Format::from_path`]).
//!
//! Every writer goes through a temporary file in the destination folder that
//! is renamed only once the file is complete (closed, and for ROOT read back),
//! so an interrupted export leaves no file that looks complete.

pub mod lhe;
pub mod root;

use std::path::{Path, PathBuf};

use crate::card::{ObjectKind, RunCard};
use crate::frames::Space;
use crate::train::Sample;

/// An error while exporting events, naming the output file.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The request cannot be met (unknown extension, a size limit too small,
    /// events that do not fit the layout).
    #[error("{path}: {message}")]
    Invalid {
        /// The output file.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },
    /// The file system failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The ROOT writer failed, or wrote a file our reader cannot read back.
    #[error("{path}: ROOT output: {message}")]
    Root {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

/// Output formats, chosen by the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `.parquet`: a frame with the input and output columns (f64).
    Parquet,
    /// `.root`: a flat TTree (see [`root`]).
    Root,
    /// `.lhe` or, gzipped, `.lhe.gz`: parton-level events only (see [`lhe`]).
    Lhe {
        /// Whether the file is gzip-compressed.
        gzip: bool,
    },
}

impl Format {
    /// The format of an output path: `.parquet`, `.root`, `.lhe` or
    /// `.lhe.gz` (case-insensitive); anything else is an error naming the
    /// ones known.
    pub fn from_path(path: &Path) -> Result<Format, ExportError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.ends_with(".parquet") {
            Ok(Format::Parquet)
        } else if name.ends_with(".root") {
            Ok(Format::Root)
        } else if name.ends_with(".lhe") {
            Ok(Format::Lhe { gzip: false })
        } else if name.ends_with(".lhe.gz") {
            Ok(Format::Lhe { gzip: true })
        } else {
            Err(ExportError::Invalid {
                path: path.into(),
                message: "unknown output format; expected a file name ending in .parquet, \
                          .root, .lhe or .lhe.gz"
                    .into(),
            })
        }
    }
}

/// One exported object: a card parton (parton level) or a card object
/// (detector level).
#[derive(Debug, Clone, PartialEq)]
pub struct ExportObject {
    /// The card's name (`em`, `jet1`): the stem of its branches and columns.
    pub name: String,
    /// Detector level: the Delphes collection it stands for (`Electron`,
    /// `Jet`, `MissingET`, the card's `delphes` names); parton level: none.
    pub collection: Option<String>,
    /// Parton level: PDG id (IDUP); detector level: 0.
    pub pdg: i32,
    /// Parton level: LHE status (ISTUP); detector level: 0.
    pub status: i32,
    /// Parton level: the card's mass, GeV (PUP5); detector level: 0.
    pub mass: f64,
}

/// The objects of one space of a card, in column order.
pub fn objects_of(card: &RunCard, space: Space) -> Vec<ExportObject> {
    match space {
        Space::Parton => card
            .partons
            .iter()
            .map(|p| ExportObject {
                name: p.name.clone(),
                collection: None,
                pdg: p.pdg,
                status: p.status,
                mass: p.mass,
            })
            .collect(),
        Space::Detector => card
            .objects
            .iter()
            .map(|o| {
                let d = &card.delphes;
                let collection = match o.from {
                    ObjectKind::Electron => &d.electron,
                    ObjectKind::Muon => &d.muon,
                    ObjectKind::Photon => &d.photon,
                    ObjectKind::Jet => &d.jet,
                    ObjectKind::MissingEt => &d.missing_et,
                };
                ExportObject {
                    name: o.name.clone(),
                    collection: Some(collection.clone()),
                    pdg: 0,
                    status: 0,
                    mass: 0.0,
                }
            })
            .collect(),
    }
}

/// Model output with the identity of the events it came from.
///
/// Row `i` of `values` is draw `i % repeat` of input event `i / repeat`
/// (the order of [`crate::simulate`]), or, when `source` is given, draw
/// `source[i] % repeat` of event `source[i] / repeat` (the draws a
/// detector acceptance kept, [`crate::simulate::Accepted`]).
#[derive(Debug, Clone, Copy)]
pub struct Exported<'a> {
    /// The space of `values`.
    pub space: Space,
    /// Its objects, in column order.
    pub objects: &'a [ExportObject],
    /// Event number of each input event (LHE position, Delphes
    /// `Event.Number`).
    pub event: &'a [i64],
    /// Nominal weight of each input event (1 where the input has none).
    pub weight: &'a [f64],
    /// Draws per input event (at least 1).
    pub repeat: usize,
    /// The four-vectors (px, py, pz, E per object, GeV), `event.len() *
    /// repeat` rows, or one per entry of `source`.
    pub values: &'a Sample,
    /// Where some draws were dropped: for each row of `values`, its place
    /// `i * repeat + r` among all draws (increasing). `None`: every draw.
    pub source: Option<&'a [usize]>,
}

impl Exported<'_> {
    /// Number of output rows.
    pub fn rows(&self) -> usize {
        self.values.rows()
    }

    /// Event number, draw index and weight of output row `i`.
    pub fn identity(&self, i: usize) -> (i64, i32, f64) {
        let i = self.source.map_or(i, |s| s[i]);
        let input = i / self.repeat.max(1);
        (
            self.event[input],
            (i % self.repeat.max(1)) as i32,
            self.weight[input],
        )
    }

    /// (px, py, pz, E) of object `k` in row `i`, GeV.
    pub fn momentum(&self, i: usize, k: usize) -> [f64; 4] {
        let r = &self.values.row(i)[4 * k..4 * k + 4];
        [r[0], r[1], r[2], r[3]]
    }

    /// Checks that the pieces agree with each other; `path` names the output.
    pub fn check(&self, path: &Path) -> Result<(), ExportError> {
        let invalid = |message: String| ExportError::Invalid {
            path: path.into(),
            message,
        };
        if self.repeat == 0 || self.event.len() != self.weight.len() {
            return Err(invalid(format!(
                "{} event numbers, {} weights and repeat {}: expected equal counts and repeat >= 1",
                self.event.len(),
                self.weight.len(),
                self.repeat
            )));
        }
        let draws = self.event.len() * self.repeat;
        if let Some(source) = self.source {
            if source.len() != self.values.rows() || source.iter().any(|&i| i >= draws) {
                return Err(invalid(format!(
                    "{} rows but {} source positions (each below {draws} draws)",
                    self.values.rows(),
                    source.len()
                )));
            }
        } else if self.values.rows() != draws {
            return Err(invalid(format!(
                "{} rows for {} events x {} draws",
                self.values.rows(),
                self.event.len(),
                self.repeat
            )));
        }
        if self.values.dim() != 4 * self.objects.len() {
            return Err(invalid(format!(
                "{} rows of {} columns for {} events x {} draws of {} objects",
                self.values.rows(),
                self.values.dim(),
                self.event.len(),
                self.repeat,
                self.objects.len()
            )));
        }
        Ok(())
    }
}

/// `dir` of `path`, `.` for a bare file name.
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_the_extension() {
        assert_eq!(
            Format::from_path(Path::new("a/b.parquet")).unwrap(),
            Format::Parquet
        );
        assert_eq!(
            Format::from_path(Path::new("b.ROOT")).unwrap(),
            Format::Root
        );
        assert_eq!(
            Format::from_path(Path::new("b.lhe")).unwrap(),
            Format::Lhe { gzip: false }
        );
        assert_eq!(
            Format::from_path(Path::new("b.lhe.gz")).unwrap(),
            Format::Lhe { gzip: true }
        );
        let e = Format::from_path(Path::new("b.csv"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("b.csv: unknown output format"), "{e}");
        assert!(Format::from_path(Path::new("b.gz")).is_err());
    }
}
