//! The training log, `train_log.jsonl`: one JSON object per epoch.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Error, io_err};

/// One epoch's summary. Loss terms are means over the epoch's batches;
/// distances are in GeV^2, anchor terms dimensionless.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch index over the whole schedule, 0-based.
    pub epoch: usize,
    /// Stage index, 0-based.
    pub stage: usize,
    /// Learning rate of the stage.
    pub lr: f64,
    /// Number of batches in the epoch.
    pub batches: usize,
    /// Total weighted loss.
    pub loss: f64,
    /// Reconstruction MSE(x, D(E(x))) (GeV^2).
    pub recon: f64,
    /// Latent distance SW(z, E(x)) (GeV^2), before the lambda weight.
    pub latent_sw: f64,
    /// Encoder anchor term, before the beta_E weight (0 when beta_E = 0 and
    /// the term is not computed).
    pub anchor_e: f64,
    /// Decoder anchor term, before the beta_D weight (0 when not computed).
    pub anchor_d: f64,
    /// Auxiliary SW(x, D(z)) (GeV^2) on the training batches (0 when not
    /// computed).
    pub decoder_sw: f64,
    /// P_D(S), the fraction of D(z) inside the decoder's acceptance, mean
    /// over the epoch's training batches, in [0, 1] (1 without an
    /// acceptance; absent in older logs).
    #[serde(default = "one")]
    pub p_in_s: f64,
    /// Validation SW(x, D(z)) with fixed directions (GeV^2): the simulator's
    /// quality; the best checkpoint minimizes it.
    pub val_sw_x: f64,
    /// Validation SW(z, E(x)) with fixed directions (GeV^2).
    pub val_sw_z: f64,
    /// P_D(S) on the validation events (the fraction of their D(z) that
    /// `simulate` would keep), in [0, 1].
    #[serde(default = "one")]
    pub val_p_in_s: f64,
    /// Wall-clock seconds of the epoch, validation included.
    pub seconds: f64,
}

fn one() -> f64 {
    1.0
}

/// Append one record to the log.
pub(crate) fn append(path: &Path, record: &EpochRecord) -> Result<(), Error> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_err(path))?;
    let line = serde_json::to_string(record).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    writeln!(file, "{line}").map_err(io_err(path))
}

/// Read every record of a log.
pub fn read(path: &Path) -> Result<Vec<EpochRecord>, Error> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).map_err(|source| Error::Json {
                path: path.to_path_buf(),
                source,
            })
        })
        .collect()
}

/// Keep only the records of epochs before `epoch` (after a resume, the
/// epochs from the checkpoint on are written again). Kept lines are copied
/// verbatim, so their numbers are not re-rounded. A line that does not
/// parse (the torn last line of a run killed while appending) ends the
/// kept part; the rewritten log goes through a temporary file.
pub(crate) fn truncate(path: &Path, epoch: usize) -> Result<(), Error> {
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut kept = String::new();
    let mut whole = true;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<EpochRecord>(line) {
            Ok(r) if r.epoch < epoch => {
                kept.push_str(line);
                kept.push('\n');
            }
            _ => {
                whole = false;
                break;
            }
        }
    }
    if whole && text.ends_with('\n') {
        return Ok(());
    }
    let tmp = path.with_extension("jsonl.tmp");
    std::fs::write(&tmp, kept).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}
