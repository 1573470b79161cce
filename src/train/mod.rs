//! Training: the loss, the staged schedule, checkpoints and the log.
//!
//! [`train`] runs the schedule of a [`TrainSettings`] on a [`TrainData`]
//! and writes a model directory (see [`SavedModel`]):
//!
//! ```text
//! out/
//!   model.json        settings, layouts, statistics, seed, versions
//!   encoder.bpk       last epoch's encoder weights (burnpack)
//!   decoder.bpk       last epoch's decoder weights
//!   best/             the epoch with the lowest validation SW(x, D(z))
//!     encoder.bpk
//!     decoder.bpk
//!   train_log.jsonl   one JSON line per epoch
//!   checkpoint/       what resuming needs (weights, Adam state, position)
//! ```

pub mod config;
pub mod data;
mod fit;
pub mod log;
pub mod loss;
mod saved;
pub mod synthetic;

pub use config::{Freeze, Stage, TrainSettings};
pub use data::{Layout, Sample, Standardization, TrainData};
pub use fit::{
    BatchProgress, NoObserver, Observer, TrainOptions, TrainOutcome, anchor_indices, select_device,
    train,
};
pub use log::EpochRecord;
pub use saved::{BURN_VERSION, Manifest, SavedModel, Which};

impl From<crate::evaluate::EvaluateError> for Error {
    fn from(e: crate::evaluate::EvaluateError) -> Self {
        Error::Data(e.to_string())
    }
}

/// Errors of training, saving and loading.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A card setting is out of range or inconsistent with the data.
    #[error("invalid setting: {0}")]
    Settings(String),
    /// The samples do not have the expected shape or column names.
    #[error("invalid data: {0}")]
    Data(String),
    /// A file of the model directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A JSON file of the model directory is malformed.
    #[error("{path}: {source}")]
    Json {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// burn could not read or write a weight record.
    #[error("{path}: {message}")]
    Record {
        /// The file.
        path: std::path::PathBuf,
        /// burn's message.
        message: String,
    },
    /// A resume was asked for but the directory holds no usable checkpoint,
    /// or a fresh run would overwrite one.
    #[error("{0}")]
    Checkpoint(String),
    /// The loss became NaN or infinite.
    #[error(
        "the loss term {term} is not finite at stage {stage}, epoch {epoch}, batch {batch}; \
         the checkpoint of the last finished epoch is kept; lower the learning rate"
    )]
    NotFinite {
        /// The stage (0-based).
        stage: usize,
        /// The epoch (0-based).
        epoch: usize,
        /// The batch within the epoch (0-based).
        batch: usize,
        /// The first non-finite term (`recon`, `latent_sw`, ...).
        term: &'static str,
    },
}

pub(crate) fn io_err(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
