//! Columnar event frames (polars, Parquet): the one place where column names
//! are made, so every stage agrees on them.
//!
//! An ingest frame holds one row per aligned event: `event` (i64, the 0-based
//! LHE position, equal to Delphes `Event.Number`), `file` (the LHE file name),
//! `split` (`train`, `val` or `test`), `weight` (the LHE nominal weight XWGTUP),
//! then `z_<parton>_<c>` and `x_<object>_<c>` for c in px, py, pz, e (GeV,
//! f64). Files are written to a temporary file beside the target and renamed
//! when complete.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

/// The four components of every object, in column order.
pub const COMPONENTS: [&str; 4] = ["px", "py", "pz", "e"];

/// Column of the event number.
pub const EVENT: &str = "event";
/// Column of the source file name.
pub const FILE: &str = "file";
/// Column of the split name.
pub const SPLIT: &str = "split";
/// Column of the draw index of simulated or unfolded events (`--repeat`).
pub const DRAW: &str = "draw";
/// Column of the nominal weight.
pub const WEIGHT: &str = "weight";

/// An error reading or writing frames.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// Polars failed.
    #[error("{path}: {source}")]
    Polars {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: PolarsError,
    },
    /// The file system failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The frame lacks something the caller needs.
    #[error("{path}: {message}")]
    Content {
        /// The file.
        path: PathBuf,
        /// What is missing.
        message: String,
    },
}

/// The space a column belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Space {
    /// Parton level (latent, z).
    Parton,
    /// Detector level (observed, x).
    Detector,
}

impl Space {
    /// The column prefix: `z` or `x`.
    pub fn prefix(self) -> &'static str {
        match self {
            Space::Parton => "z",
            Space::Detector => "x",
        }
    }
}

/// The column name of one component: `z_em_px`.
pub fn column(space: Space, object: &str, component: &str) -> String {
    format!("{}_{object}_{component}", space.prefix())
}

/// All component columns of the objects, object-major: `z_em_px, z_em_py, ...`.
pub fn columns(space: Space, objects: &[String]) -> Vec<String> {
    objects
        .iter()
        .flat_map(|o| COMPONENTS.iter().map(move |c| column(space, o, c)))
        .collect()
}

/// A data split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Split {
    /// Training events.
    Train,
    /// Validation events (model selection).
    Validation,
    /// Test events (evaluation only).
    Test,
}

impl Split {
    /// The name stored in the `split` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "val",
            Split::Test => "test",
        }
    }
}

/// A uniform number in [0, 1) from a seed and an event's identity
/// (splitmix64), so that the split of an event does not depend on reading
/// order or threads.
pub fn event_uniform(seed: u64, file_index: u64, event: u64) -> f64 {
    let mut x = seed ^ file_index.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ event.rotate_left(32);
    for _ in 0..2 {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x = z ^ (z >> 31);
    }
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Rows of aligned events, built before they become a frame.
#[derive(Debug, Clone, Default)]
pub struct EventTable {
    /// Parton names (z column stems).
    pub partons: Vec<String>,
    /// Object names (x column stems).
    pub objects: Vec<String>,
    /// Event numbers.
    pub event: Vec<i64>,
    /// Source file names.
    pub file: Vec<String>,
    /// Splits.
    pub split: Vec<Split>,
    /// Nominal weights.
    pub weight: Vec<f64>,
    /// z values, row-major, 4 per parton.
    pub z: Vec<f64>,
    /// x values, row-major, 4 per object.
    pub x: Vec<f64>,
}

impl EventTable {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.event.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.event.is_empty()
    }

    /// The table as a polars frame.
    pub fn to_frame(&self) -> PolarsResult<DataFrame> {
        let mut cols: Vec<Column> = vec![
            Column::new(EVENT.into(), &self.event),
            Column::new(FILE.into(), &self.file),
            Column::new(
                SPLIT.into(),
                self.split.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(WEIGHT.into(), &self.weight),
        ];
        for (space, names, values) in [
            (Space::Parton, &self.partons, &self.z),
            (Space::Detector, &self.objects, &self.x),
        ] {
            let width = 4 * names.len();
            for (j, name) in columns(space, names).into_iter().enumerate() {
                let col: Vec<f64> = values
                    .iter()
                    .skip(j)
                    .step_by(width.max(1))
                    .copied()
                    .collect();
                cols.push(Column::new(name.into(), col));
            }
        }
        // The derived quantities (M_ee; m_tt, m_W,had, m_t,lep, m_t,had),
        // after the four-vector columns they are computed from.
        for (space, names, values) in [
            (Space::Parton, &self.partons, &self.z),
            (Space::Detector, &self.objects, &self.x),
        ] {
            let sample = crate::evaluate::Sample::new(columns(space, names), values.clone())
                .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
            for (name, col) in crate::evaluate::variables::derived_columns(&sample, space.prefix())
            {
                cols.push(Column::new(name.into(), col));
            }
        }
        DataFrame::new(self.len(), cols)
    }
}

/// Writes a frame to Parquet through a temporary file renamed into place.
pub fn write_parquet(frame: &mut DataFrame, path: &Path) -> Result<(), FrameError> {
    write_atomic(path, |file| {
        ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(frame)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })
}

/// Reads a whole Parquet file.
pub fn read_parquet(path: &Path) -> Result<DataFrame, FrameError> {
    let file = File::open(path).map_err(|source| FrameError::Io {
        path: path.into(),
        source,
    })?;
    ParquetReader::new(file)
        .finish()
        .map_err(|source| FrameError::Polars {
            path: path.into(),
            source,
        })
}

/// The given f64 columns of the rows of one split (all rows if `split` is
/// None), row-major, with the number of rows.
pub fn matrix(
    frame: &DataFrame,
    names: &[String],
    split: Option<Split>,
    path: &Path,
) -> Result<(Vec<f64>, usize), FrameError> {
    let content = |message: String| FrameError::Content {
        path: path.into(),
        message,
    };
    let keep: Vec<bool> = match split {
        None => vec![true; frame.height()],
        Some(s) => {
            let col = frame
                .column(SPLIT)
                .and_then(|c| c.str().cloned())
                .map_err(|_| content(format!("no string column {SPLIT:?}")))?;
            col.iter().map(|v| v == Some(s.as_str())).collect()
        }
    };
    let rows = keep.iter().filter(|k| **k).count();
    let mut out = vec![0.0; rows * names.len()];
    for (j, name) in names.iter().enumerate() {
        let col = frame
            .column(name)
            .and_then(|c| c.cast(&DataType::Float64))
            .map_err(|_| content(format!("no numeric column {name:?}")))?;
        let col = col.f64().map_err(|e| content(e.to_string()))?;
        let mut r = 0;
        for (v, k) in col.iter().zip(&keep) {
            if *k {
                out[r * names.len() + j] = v.unwrap_or(f64::NAN);
                r += 1;
            }
        }
    }
    Ok((out, rows))
}

/// Writes `path` by calling `write` on a temporary file in the same folder,
/// then renames it into place; on error nothing is left behind.
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), FrameError> {
    let io = |source| FrameError::Io {
        path: path.into(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(
            ".{}.",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ))
        .suffix(".part")
        .tempfile_in(dir)
        .map_err(io)?;
    write(tmp.as_file_mut()).map_err(io)?;
    tmp.as_file_mut().flush().map_err(io)?;
    // Temporary files are created private (0600); outputs are ordinary files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(mode).map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_object_major() {
        let c = columns(Space::Detector, &["em".into(), "jet1".into()]);
        assert_eq!(c[0], "x_em_px");
        assert_eq!(c[3], "x_em_e");
        assert_eq!(c[4], "x_jet1_px");
        assert_eq!(c.len(), 8);
    }

    #[test]
    fn uniform_is_deterministic_and_spread() {
        assert_eq!(event_uniform(0, 1, 2), event_uniform(0, 1, 2));
        let mean: f64 = (0..10_000).map(|i| event_uniform(7, 0, i)).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert_ne!(event_uniform(0, 0, 5), event_uniform(1, 0, 5));
    }

    #[test]
    fn parquet_round_trip_by_split() {
        let t = EventTable {
            partons: vec!["em".into()],
            objects: vec!["em".into()],
            event: vec![3, 9],
            file: vec!["a".into(), "a".into()],
            split: vec![Split::Train, Split::Test],
            weight: vec![1.0, 1.0],
            z: vec![1., 2., 3., 4., 5., 6., 7., 8.],
            x: vec![-1., -2., -3., -4., -5., -6., -7., -8.],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.parquet");
        write_parquet(&mut t.to_frame().unwrap(), &path).unwrap();
        let f = read_parquet(&path).unwrap();
        let names = columns(Space::Detector, &t.objects);
        let (m, rows) = matrix(&f, &names, Some(Split::Test), &path).unwrap();
        assert_eq!(rows, 1);
        assert_eq!(m, vec![-5., -6., -7., -8.]);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }
}
