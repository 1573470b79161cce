//! The model directory: `model.json` plus burnpack weight records.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::data::Standardization;
use super::{Error, TrainSettings, io_err};
use crate::model::{ModelSettings, Otus};

/// Version of burn the weights were written with (pinned in Cargo.toml).
pub const BURN_VERSION: &str = "0.22.1";

/// `model.json`: everything besides the weights that rebuilding, running
/// and auditing a model needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Version of otus that trained the model.
    pub otus_version: String,
    /// Version of burn that wrote the weights.
    pub burn_version: String,
    /// Architecture.
    pub model: ModelSettings,
    /// Training settings (schedule, seed, ...).
    pub train: TrainSettings,
    /// z training split statistics (column names, means, stds in GeV).
    pub z_stats: Standardization,
    /// x training split statistics.
    pub x_stats: Standardization,
    /// Rest masses of the z objects (GeV), in column order.
    pub z_masses: Vec<f64>,
    /// Rest masses of the x objects (GeV), in column order.
    pub x_masses: Vec<f64>,
    /// Training events of each space (z, x).
    pub train_events: (usize, usize),
    /// Validation events of each space (z, x).
    pub val_events: (usize, usize),
    /// Validation SW(x, D(z)) of the untrained model (GeV^2), the reference
    /// for how much training improved it.
    pub initial_val_sw_x: Option<f64>,
    /// Validation SW(z, E(x)) of the untrained model (GeV^2).
    pub initial_val_sw_z: Option<f64>,
    /// Epochs completed.
    pub epochs_trained: usize,
    /// Epoch of the best checkpoint (lowest validation SW(x, D(z))).
    pub best_epoch: Option<usize>,
    /// Validation SW(x, D(z)) of the best checkpoint (GeV^2).
    pub best_val_sw_x: Option<f64>,
}

/// Which weights of a model directory to load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Which {
    /// The last epoch's weights (what the paper evaluates). Default.
    #[default]
    Last,
    /// The epoch with the lowest validation SW(x, D(z)).
    Best,
}

/// A trained model ready for [`simulate`](crate::simulate::simulate) and
/// [`unfold`](crate::simulate::unfold).
#[derive(Debug)]
pub struct SavedModel {
    /// The contents of `model.json`.
    pub manifest: Manifest,
    /// The maps, in inference mode on `device`.
    pub model: Otus,
    /// Where the maps run.
    pub device: Device,
}

impl SavedModel {
    /// Load the last epoch's weights of `dir` on the default device
    /// ([`select_device`](super::select_device)).
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Self::load_with(dir, Which::Last, &super::select_device())
    }

    /// Load the chosen weights of `dir` on `device`.
    pub fn load_with(dir: impl AsRef<Path>, which: Which, device: &Device) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let manifest = read_manifest(dir)?;
        let weights = match which {
            Which::Last => dir.to_path_buf(),
            Which::Best => dir.join("best"),
        };
        let model = build(&manifest, device)?;
        let model = load_maps(model, &weights)?.valid();
        Ok(Self {
            manifest,
            model,
            device: device.clone(),
        })
    }

    /// Events per forward pass (from the training settings).
    pub fn inference_batch(&self) -> usize {
        self.manifest.train.inference_batch
    }
}

pub(crate) fn build(manifest: &Manifest, device: &Device) -> Result<Otus, Error> {
    Otus::new(
        &manifest.model,
        &manifest.z_stats,
        &manifest.x_stats,
        manifest.train.seed,
        device,
    )
}

pub(crate) fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("model.json")
}

pub(crate) fn read_manifest(dir: &Path) -> Result<Manifest, Error> {
    let path = manifest_path(dir);
    let text = std::fs::read_to_string(&path).map_err(io_err(&path))?;
    serde_json::from_str(&text).map_err(|source| Error::Json { path, source })
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(io_err(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io_err(path))
}

/// Write `encoder.bpk` and `decoder.bpk` into `dir`: both are written
/// into a temporary folder inside `dir` and then renamed into place, so
/// neither is ever seen half-written.
pub(crate) fn save_maps(model: &Otus, dir: &Path) -> Result<(), Error> {
    let tmp = dir.join(".writing");
    // What a run killed while writing left behind.
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
    let maps = [("encoder", &model.encoder), ("decoder", &model.decoder)];
    for (name, map) in maps {
        let path = tmp.join(format!("{name}.bpk"));
        map.clone().save_file(&path).map_err(|e| Error::Record {
            path: path.clone(),
            message: e.to_string(),
        })?;
    }
    for (name, _) in maps {
        let file = format!("{name}.bpk");
        let path = dir.join(&file);
        std::fs::rename(tmp.join(&file), &path).map_err(io_err(&path))?;
    }
    std::fs::remove_dir_all(&tmp).map_err(io_err(&tmp))
}

/// Load `encoder.bpk` and `decoder.bpk` from `dir` into `model`.
pub(crate) fn load_maps(model: Otus, dir: &Path) -> Result<Otus, Error> {
    let load = |map: crate::model::MomentumMap, name: &str| {
        let path = dir.join(format!("{name}.bpk"));
        if !path.exists() {
            return Err(Error::Checkpoint(format!(
                "{}: no such file",
                path.display()
            )));
        }
        map.try_load_file(&path).map_err(|e| Error::Record {
            path: path.clone(),
            message: e.to_string(),
        })
    };
    Ok(Otus {
        encoder: load(model.encoder, "encoder")?,
        decoder: load(model.decoder, "decoder")?,
    })
}
