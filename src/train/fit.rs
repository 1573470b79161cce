//! The training loop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer, OptimizerRecord};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::config::{Freeze, Stage, TrainSettings};
use super::data::{Layout, Sample, Standardization, TrainData};
use super::log::{self, EpochRecord};
use super::loss::{self, SortMode};
use super::saved::{self, BURN_VERSION, Manifest};
use super::{Error, io_err};
use crate::model::acceptance::fraction;
use crate::model::{ModelSettings, MomentumMap, Otus, rng};

/// Where and how [`train`] runs.
#[derive(Clone, Debug)]
pub struct TrainOptions {
    /// The model directory to write.
    pub out_dir: PathBuf,
    /// The device to train on, without autodiff (the trainer adds it);
    /// see [`select_device`].
    pub device: Device,
    /// Set by the caller (for example on Ctrl-C) to stop: the trainer
    /// finishes the current batch, writes a checkpoint and returns.
    pub stop: Arc<AtomicBool>,
    /// Continue from `out_dir/checkpoint`. Without it, a directory that
    /// already holds a checkpoint is refused.
    pub resume: bool,
}

impl TrainOptions {
    /// Options for a fresh run into `out_dir` on the default device.
    pub fn new(out_dir: impl Into<PathBuf>) -> Self {
        Self {
            out_dir: out_dir.into(),
            device: select_device(),
            stop: Arc::new(AtomicBool::new(false)),
            resume: false,
        }
    }
}

/// The state after one training batch, for progress display.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchProgress {
    /// Epoch over the whole schedule, 0-based.
    pub epoch: usize,
    /// Total epochs of the schedule.
    pub epochs: usize,
    /// Stage index, 0-based.
    pub stage: usize,
    /// Batch within the epoch, 0-based.
    pub batch: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// The batch's weighted total loss.
    pub loss: f64,
    /// MSE(x, D(E(x))) (GeV^2).
    pub recon: f64,
    /// SW(z, E(x)) (GeV^2).
    pub latent_sw: f64,
}

/// Receives progress; the library itself never prints.
pub trait Observer {
    /// Called after every training batch.
    fn batch(&mut self, _progress: &BatchProgress) {}
    /// Called after every epoch, with what was written to the log.
    fn epoch(&mut self, _record: &EpochRecord) {}
}

/// An observer that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// How a call to [`train`] ended.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOutcome {
    /// `true` when the schedule ran to its end; `false` when the stop flag
    /// interrupted it (a checkpoint was written; resume to continue).
    pub finished: bool,
    /// Epochs completed so far.
    pub epochs_done: usize,
    /// The log records written by this call.
    pub records: Vec<EpochRecord>,
    /// Epoch of the lowest validation SW(x, D(z)) so far.
    pub best_epoch: Option<usize>,
    /// That distance (GeV^2).
    pub best_val_sw_x: Option<f64>,
    /// Validation SW(x, D(z)) of the untrained model (GeV^2).
    pub initial_val_sw_x: Option<f64>,
}

impl TrainOutcome {
    /// `"N epochs; validation SW(x, D(z)) A GeV^2 at the start, best B
    /// (epoch E)"`, for the log.
    pub fn summary(&self) -> String {
        format!(
            "{} epochs; validation SW(x, D(z)) {:.4} GeV^2 at the start, best {:.4} (epoch {})",
            self.epochs_done,
            self.initial_val_sw_x.unwrap_or(f64::NAN),
            self.best_val_sw_x.unwrap_or(f64::NAN),
            self.best_epoch.map_or(-1, |e| e as i64),
        )
    }
}

/// The device training and inference use by default: CUDA device 0 when
/// otus is built with the `cuda` feature, the default wgpu adapter (Vulkan,
/// Metal or DX12) with the `wgpu` feature, the flex CPU backend otherwise.
pub fn select_device() -> Device {
    #[cfg(feature = "cuda")]
    {
        Device::cuda(0)
    }
    #[cfg(all(feature = "wgpu", not(feature = "cuda")))]
    {
        Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)
    }
    #[cfg(not(any(feature = "cuda", feature = "wgpu")))]
    {
        Device::flex()
    }
}

/// Loss sums over the batches of an epoch so far. Stored in the checkpoint
/// as IEEE bit patterns: serde_json's default float parsing may be off by
/// one unit in the last place, which would make a resumed curve differ.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Sums {
    batches: usize,
    #[serde(with = "bits")]
    loss: f64,
    #[serde(with = "bits")]
    recon: f64,
    #[serde(with = "bits")]
    latent_sw: f64,
    #[serde(with = "bits")]
    anchor_e: f64,
    #[serde(with = "bits")]
    anchor_d: f64,
    #[serde(with = "bits")]
    decoder_sw: f64,
    /// Sum of the batches' P_D(S) (absent in older checkpoints).
    #[serde(default, with = "bits")]
    p_in_s: f64,
    seconds: f64,
}

/// Serialize an `f64` exactly, as its bit pattern.
mod bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(v.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(f64::from_bits(u64::deserialize(d)?))
    }
}

/// [`bits`] for an optional value.
mod opt_bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_some(&v.to_bits()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(f64::from_bits))
    }
}

/// `checkpoint/state.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct CheckpointState {
    /// Epoch to run next.
    epoch: usize,
    /// Batch of that epoch to run next.
    batch: usize,
    sums: Sums,
    best_epoch: Option<usize>,
    #[serde(with = "opt_bits")]
    best_val_sw_x: Option<f64>,
    /// The settings the run started with, to refuse a resume with others.
    model: ModelSettings,
    train: TrainSettings,
    train_events: (usize, usize),
}

/// The index in the z and in the x layout of the anchor object of the
/// cosine terms (`train.anchor`, default the first z object); an error when
/// either space lacks it. Called when a card loads and when training starts.
pub fn anchor_indices(
    settings: &TrainSettings,
    z: &Layout,
    x: &Layout,
) -> Result<(usize, usize), Error> {
    let anchor = settings
        .anchor
        .clone()
        .unwrap_or_else(|| z.objects[0].clone());
    let in_space = |layout: &Layout| {
        layout.object_index(&anchor).ok_or_else(|| {
            Error::Settings(format!(
                "train.anchor: no object {anchor} in the {} space ({})",
                layout.space,
                layout.objects.join(", ")
            ))
        })
    };
    Ok((in_space(z)?, in_space(x)?))
}

/// Train the encoder and decoder on `data` with the schedule of `settings`,
/// writing the model directory `options.out_dir`.
///
/// Every epoch: the training events of each space are shuffled
/// independently (streams derived from the seed and the epoch), cut into
/// batches of the stage's size (the remainder beyond the last full batch is
/// skipped, a different one every epoch), and after the last batch the
/// validation distances are computed and the log, the last weights, the best
/// weights and the checkpoint are written.
pub fn train(
    data: &TrainData,
    model_settings: &ModelSettings,
    settings: &TrainSettings,
    options: &TrainOptions,
    observer: &mut dyn Observer,
) -> Result<TrainOutcome, Error> {
    model_settings.validate()?;
    settings.validate()?;
    let (z_layout, x_layout) = data.layouts()?;
    let (anchor_z, anchor_x) = anchor_indices(settings, &z_layout, &x_layout)?;
    let stages = settings.stages()?;
    let total_epochs: usize = stages.iter().map(|s| s.epochs).sum();

    let out = &options.out_dir;
    let ckpt_dir = out.join("checkpoint");
    let log_path = out.join("train_log.jsonl");
    std::fs::create_dir_all(out).map_err(io_err(out))?;

    let z_stats = Standardization::of(&data.z_train);
    let x_stats = Standardization::of(&data.x_train);
    let mut manifest = Manifest {
        otus_version: env!("CARGO_PKG_VERSION").into(),
        burn_version: BURN_VERSION.into(),
        model: model_settings.clone(),
        train: settings.clone(),
        z_masses: z_layout
            .objects
            .iter()
            .map(|o| model_settings.mass("z", o))
            .collect(),
        x_masses: x_layout
            .objects
            .iter()
            .map(|o| model_settings.mass("x", o))
            .collect(),
        z_stats,
        x_stats,
        train_events: (data.z_train.rows(), data.x_train.rows()),
        val_events: (data.z_val.rows(), data.x_val.rows()),
        initial_val_sw_x: None,
        initial_val_sw_z: None,
        epochs_trained: 0,
        best_epoch: None,
        best_val_sw_x: None,
    };

    let device = options.device.clone();
    let ad = device.clone().autodiff();
    let sort = SortMode::for_device(&device);
    let adam = AdamConfig::new()
        .with_epsilon(settings.adam_epsilon as f32)
        .with_beta_1(settings.adam_beta1 as f32)
        .with_beta_2(settings.adam_beta2 as f32);

    recover_checkpoint(&ckpt_dir)?;
    let state_path = ckpt_dir.join("state.json");
    let (mut model, mut optim, mut state) = if options.resume {
        let state = read_state(&state_path)?;
        if state.model != *model_settings || state.train != *settings {
            return Err(Error::Checkpoint(format!(
                "{}: the settings differ from those the checkpoint was trained with",
                state_path.display()
            )));
        }
        if state.train_events != manifest.train_events {
            return Err(Error::Checkpoint(format!(
                "{}: the checkpoint was trained on {:?} (z, x) events, the data has {:?}",
                state_path.display(),
                state.train_events,
                manifest.train_events
            )));
        }
        // The statistics come from the data; the weights from the checkpoint.
        let model = saved::load_maps(saved::build(&manifest, &ad)?, &ckpt_dir)?;
        let opt_path = ckpt_dir.join("optimizer.bpk");
        let record = OptimizerRecord::load(&opt_path).map_err(|e| Error::Record {
            path: opt_path.clone(),
            message: e.to_string(),
        })?;
        let optim = adam.init().load_record(record);
        log::truncate(&log_path, state.epoch)?;
        (model, optim, state)
    } else {
        if state_path.exists() {
            return Err(Error::Checkpoint(format!(
                "{} holds a checkpoint; resume it or choose another directory",
                out.display()
            )));
        }
        if log_path.exists() {
            std::fs::remove_file(&log_path).map_err(io_err(&log_path))?;
        }
        let model = saved::build(&manifest, &ad)?;
        let state = CheckpointState {
            epoch: 0,
            batch: 0,
            sums: Sums::default(),
            best_epoch: None,
            best_val_sw_x: None,
            model: model_settings.clone(),
            train: settings.clone(),
            train_events: manifest.train_events,
        };
        (model, adam.init(), state)
    };
    let ctx = Context {
        data,
        settings,
        anchor_z,
        anchor_x,
        sort,
        device: &device,
        ad: &ad,
    };
    if options.resume {
        let previous = saved::read_manifest(out)?;
        manifest.initial_val_sw_x = previous.initial_val_sw_x;
        manifest.initial_val_sw_z = previous.initial_val_sw_z;
    } else {
        let (sw_x, sw_z, _) = ctx.validation(&model.valid());
        manifest.initial_val_sw_x = Some(sw_x);
        manifest.initial_val_sw_z = Some(sw_z);
    }
    manifest.best_epoch = state.best_epoch;
    manifest.best_val_sw_x = state.best_val_sw_x;
    manifest.epochs_trained = state.epoch;
    saved::write_json(&saved::manifest_path(out), &manifest)?;
    let mut records = Vec::new();
    while state.epoch < total_epochs {
        let epoch = state.epoch;
        let (stage_index, stage) = stage_of(&stages, epoch);
        let started = Instant::now();
        let (m, batches) = batch_geometry(stage, data);
        let perm_x = rng::permutation(
            &mut rng::stream(settings.seed, &[rng::tag::SHUFFLE, epoch as u64, 0]),
            data.x_train.rows(),
        );
        let perm_z = rng::permutation(
            &mut rng::stream(settings.seed, &[rng::tag::SHUFFLE, epoch as u64, 1]),
            data.z_train.rows(),
        );
        while state.batch < batches {
            let b = state.batch;
            let rows = b * m..(b + 1) * m;
            let terms = ctx.batch_loss(
                &model,
                stage,
                epoch,
                b,
                &perm_x[rows.clone()],
                &perm_z[rows],
            );
            let Terms { total, values } = terms;
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                // The order of Terms::values; a non-finite total alone
                // (every term finite) is named as the total.
                const TERMS: [&str; 7] = [
                    "total",
                    "recon",
                    "latent_sw",
                    "anchor_e",
                    "anchor_d",
                    "decoder_sw",
                    "P_D(S)",
                ];
                let term = values[1..]
                    .iter()
                    .position(|v| !v.is_finite())
                    .map_or(TERMS[i], |j| TERMS[j + 1]);
                return Err(Error::NotFinite {
                    stage: stage_index,
                    epoch,
                    batch: b,
                    term,
                });
            }
            let mut grads = total.backward();
            let grads = match stage.freeze {
                Freeze::None => GradientsParams::from_module(&mut grads, &model),
                Freeze::Encoder => GradientsParams::from_module(&mut grads, &model.decoder),
                Freeze::Decoder => GradientsParams::from_module(&mut grads, &model.encoder),
            };
            model = optim.step(stage.learning_rate, model, grads);
            let s = &mut state.sums;
            s.batches += 1;
            s.loss += values[0];
            s.recon += values[1];
            s.latent_sw += values[2];
            s.anchor_e += values[3];
            s.anchor_d += values[4];
            s.decoder_sw += values[5];
            s.p_in_s += values[6];
            state.batch += 1;
            observer.batch(&BatchProgress {
                epoch,
                epochs: total_epochs,
                stage: stage_index,
                batch: b,
                batches,
                loss: values[0],
                recon: values[1],
                latent_sw: values[2],
            });
            if options.stop.load(Ordering::SeqCst) && state.batch < batches {
                state.sums.seconds += started.elapsed().as_secs_f64();
                write_checkpoint(&model, &optim, &state, &ckpt_dir)?;
                return Ok(outcome(false, &state, records, &manifest));
            }
        }

        let (val_sw_x, val_sw_z, val_p_in_s) = ctx.validation(&model.valid());
        let s = &state.sums;
        let n = s.batches.max(1) as f64;
        let record = EpochRecord {
            epoch,
            stage: stage_index,
            lr: stage.learning_rate,
            batches: s.batches,
            loss: s.loss / n,
            recon: s.recon / n,
            latent_sw: s.latent_sw / n,
            anchor_e: s.anchor_e / n,
            anchor_d: s.anchor_d / n,
            decoder_sw: s.decoder_sw / n,
            p_in_s: s.p_in_s / n,
            val_sw_x,
            val_sw_z,
            val_p_in_s,
            seconds: s.seconds + started.elapsed().as_secs_f64(),
        };
        log::append(&log_path, &record)?;
        observer.epoch(&record);
        if state.best_val_sw_x.is_none_or(|best| val_sw_x < best) {
            state.best_val_sw_x = Some(val_sw_x);
            state.best_epoch = Some(epoch);
            saved::save_maps(&model, &out.join("best"))?;
        }
        records.push(record);
        state.epoch += 1;
        state.batch = 0;
        state.sums = Sums::default();

        saved::save_maps(&model, out)?;
        manifest.epochs_trained = state.epoch;
        manifest.best_epoch = state.best_epoch;
        manifest.best_val_sw_x = state.best_val_sw_x;
        saved::write_json(&saved::manifest_path(out), &manifest)?;
        write_checkpoint(&model, &optim, &state, &ckpt_dir)?;
        if options.stop.load(Ordering::SeqCst) && state.epoch < total_epochs {
            return Ok(outcome(false, &state, records, &manifest));
        }
    }
    Ok(outcome(true, &state, records, &manifest))
}

fn outcome(
    finished: bool,
    state: &CheckpointState,
    records: Vec<EpochRecord>,
    manifest: &Manifest,
) -> TrainOutcome {
    TrainOutcome {
        initial_val_sw_x: manifest.initial_val_sw_x,
        finished,
        epochs_done: state.epoch,
        records,
        best_epoch: state.best_epoch,
        best_val_sw_x: state.best_val_sw_x,
    }
}

/// The stage an epoch belongs to.
fn stage_of(stages: &[Stage], epoch: usize) -> (usize, &Stage) {
    let mut first = 0;
    for (i, s) in stages.iter().enumerate() {
        if epoch < first + s.epochs {
            return (i, s);
        }
        first += s.epochs;
    }
    let last = stages.len() - 1;
    (last, &stages[last])
}

/// Events per batch and batches per epoch.
fn batch_geometry(stage: &Stage, data: &TrainData) -> (usize, usize) {
    let n = data.x_train.rows().min(data.z_train.rows());
    let m = stage.batch_size.min(n);
    (m, (n / m).max(1))
}

fn read_state(path: &Path) -> Result<CheckpointState, Error> {
    if !path.exists() {
        return Err(Error::Checkpoint(format!(
            "{}: no checkpoint to resume",
            path.display()
        )));
    }
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    serde_json::from_str(&text).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn write_checkpoint(
    model: &Otus,
    optim: &ModuleOptimizer,
    state: &CheckpointState,
    dir: &Path,
) -> Result<(), Error> {
    // The whole checkpoint goes into a fresh folder beside `dir`, which then
    // takes `dir`'s place: a run killed at any point leaves either the
    // previous checkpoint or this one complete, at `dir` or (killed between
    // the two renames) at its `.old` sibling, which [`recover_checkpoint`] puts back.
    let new = sibling(dir, "new");
    let old = sibling(dir, "old");
    for leftover in [&new, &old] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(io_err(leftover))?;
        }
    }
    saved::save_maps(model, &new)?;
    let path = new.join("optimizer.bpk");
    optim.to_record().save(&path).map_err(|e| Error::Record {
        path: path.clone(),
        message: e.to_string(),
    })?;
    saved::write_json(&new.join("state.json"), state)?;
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(io_err(dir))?;
    }
    std::fs::rename(&new, dir).map_err(io_err(dir))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io_err(&old))?;
    }
    Ok(())
}

/// `dir` with `.{suffix}` appended to its name.
fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

/// Puts back the checkpoint of a run killed between [`write_checkpoint`]'s
/// two renames: `dir` is then missing (or incomplete) and its `.old`
/// sibling complete.
fn recover_checkpoint(dir: &Path) -> Result<(), Error> {
    let old = sibling(dir, "old");
    if !dir.join("state.json").exists() && old.join("state.json").exists() {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io_err(dir))?;
        }
        std::fs::rename(&old, dir).map_err(io_err(dir))?;
    }
    Ok(())
}

/// The loss of one batch: the differentiable total and the values of
/// `[total, recon, latent_sw, anchor_e, anchor_d, decoder_sw, P_D(S)]`.
struct Terms {
    total: Tensor<1>,
    values: Vec<f64>,
}

struct Context<'a> {
    data: &'a TrainData,
    settings: &'a TrainSettings,
    anchor_z: usize,
    anchor_x: usize,
    sort: SortMode,
    device: &'a Device,
    ad: &'a Device,
}

impl Context<'_> {
    fn batch_loss(
        &self,
        model: &Otus,
        stage: &Stage,
        epoch: usize,
        batch: usize,
        x_rows: &[usize],
        z_rows: &[usize],
    ) -> Terms {
        let m = x_rows.len();
        let (dx, dz) = (self.data.x_train.dim(), self.data.z_train.dim());
        let seed = self.settings.seed;
        let mut r = rng::stream(seed, &[rng::tag::BATCH, epoch as u64, batch as u64]);
        let tensor =
            |v: Vec<f32>, d: usize| Tensor::<2>::from_data(TensorData::new(v, [m, d]), self.ad);
        let x = tensor(self.data.x_train.gather_f32(x_rows), dx);
        let z = tensor(self.data.z_train.gather_f32(z_rows), dz);
        let n1 = rng::normal_tensor(&mut r, m, model.encoder.noise_dim(), self.ad);
        let n2 = rng::normal_tensor(&mut r, m, model.decoder.noise_dim(), self.ad);
        let dirs_z = rng::directions(&mut r, stage.slices, dz, self.ad);

        let zero = || Tensor::<1>::zeros([1], self.ad);
        // A stage that weights no term of E(x) (the decoder-only fine-tune)
        // does not run the encoder: it neither trains it nor moves its
        // BatchNorm statistics.
        let encoder_used = stage.recon > 0.0 || stage.lambda > 0.0 || stage.beta_e > 0.0;

        // The restricted decoder: D(z) is needed for P_D(S) whenever the
        // card defines an acceptance, besides the terms that use it.
        let acceptance = &model.decoder.spec().acceptance;
        let restricted = !acceptance.is_everything();
        let x_prime = (restricted || stage.beta_d > 0.0 || stage.decoder_sw > 0.0).then(|| {
            let n3 = rng::normal_tensor(&mut r, m, model.decoder.noise_dim(), self.ad);
            model.decoder.forward(z.clone(), n3)
        });
        let host = |t: &Tensor<2>| t.to_data().try_to_vec_as::<f32>().unwrap_or_default();
        // Rows of D(z) inside S and P_D(S) on this batch, floored at 1/M so
        // that a batch without a valid event keeps a finite loss.
        let p_in_s = match &x_prime {
            Some(xp) if restricted => {
                let inside = acceptance.mask_f32(&host(xp), dx);
                fraction(&inside).max(1.0 / m as f64)
            }
            _ => 1.0,
        };
        let (recon, latent, anchor_e, mut total) = if encoder_used {
            let z_tilde = model.encoder.forward(x.clone(), n1);
            let x_tilde = model.decoder.forward(z_tilde.clone(), n2);
            let latent = loss::sliced_w2_with(z.clone(), z_tilde.clone(), dirs_z, self.sort);
            let recon = if restricted {
                let inside = acceptance.mask_f32(&host(&x_tilde), dx);
                loss::masked_mse(x.clone(), x_tilde, &inside, p_in_s)
            } else {
                loss::mse(x.clone(), x_tilde)
            };
            let mut total =
                recon.clone().mul_scalar(stage.recon) + latent.clone().mul_scalar(stage.lambda);
            let anchor_e = if stage.beta_e > 0.0 {
                let a = loss::anchor(x.clone(), self.anchor_x, z_tilde, self.anchor_z);
                total = total + a.clone().mul_scalar(stage.beta_e);
                a
            } else {
                zero()
            };
            (recon, latent, anchor_e, total)
        } else {
            (zero(), zero(), zero(), zero())
        };
        // The terms on D(z) compare every D(z) with x, inside S or not: our
        // z are the aligned events, whose detector events all lie in S, so
        // a D(z) outside S is an error there. Masking it out of these terms
        // would let the decoder shed the events it fits worst out of S
        // (tried: the decoder-only fine-tune then drove P_D(S) towards 0).
        let (anchor_d, decoder_sw) = match x_prime {
            Some(x_prime) => {
                let a = if stage.beta_d > 0.0 {
                    let a = loss::anchor(z, self.anchor_z, x_prime.clone(), self.anchor_x);
                    total = total + a.clone().mul_scalar(stage.beta_d);
                    a
                } else {
                    zero()
                };
                let s = if stage.decoder_sw > 0.0 {
                    let dirs_x = rng::directions(&mut r, stage.slices, dx, self.ad);
                    let s = loss::sliced_w2_with(x, x_prime, dirs_x, self.sort);
                    total = total + s.clone().mul_scalar(stage.decoder_sw);
                    s
                } else {
                    zero()
                };
                (a, s)
            }
            None => (zero(), zero()),
        };

        let mut values = Tensor::cat(
            vec![total.clone(), recon, latent, anchor_e, anchor_d, decoder_sw],
            0,
        )
        .try_into_vec_as::<f64>()
        .unwrap_or_default();
        values.push(p_in_s);
        Terms { total, values }
    }

    /// Validation SW(x, D(z)) and SW(z, E(x)) (GeV^2) on the first
    /// `validation_events` events of each validation split, with directions
    /// and noise fixed by the seed (identical every epoch), and P_D(S), the
    /// fraction of those D(z) inside the acceptance.
    ///
    /// With an acceptance, the k events of D(z) inside S are compared with
    /// the first k validation x (what `simulate` keeps against what the
    /// detector records); with fewer than 2 inside, SW(x, D(z)) is
    /// [`NO_EVENT_IN_S`].
    fn validation(&self, model: &Otus) -> (f64, f64, f64) {
        let s = self.settings;
        let n = self
            .data
            .x_val
            .rows()
            .min(self.data.z_val.rows())
            .min(s.validation_events);
        let x = take(&self.data.x_val, n);
        let z = take(&self.data.z_val, n);
        let x_pred = run(
            &model.decoder,
            &z,
            s.seed,
            0,
            s.inference_batch,
            self.device,
        );
        let z_pred = run(
            &model.encoder,
            &x,
            s.seed,
            1,
            s.inference_batch,
            self.device,
        );
        let mut r = rng::stream(s.seed, &[rng::tag::VALIDATION]);
        let dirs_x = rng::directions(&mut r, s.validation_slices, x.dim(), self.device);
        let dirs_z = rng::directions(&mut r, s.validation_slices, z.dim(), self.device);
        let t = |v: &Sample| {
            Tensor::<2>::from_data(
                TensorData::new(v.range_f32(0, n), [n, v.dim()]),
                self.device,
            )
        };
        let sw = |a, b, d| {
            loss::sliced_w2_with(a, b, d, self.sort)
                .try_into_vec_as::<f64>()
                .map(|v| v[0])
                .unwrap_or(f64::NAN)
        };
        let sw_z = sw(t(&z), t(&z_pred), dirs_z);
        let kept = model.decoder.spec().acceptance.keep(&x_pred);
        let p_in_s = kept
            .as_ref()
            .map_or(1.0, |(_, rows)| rows.len() as f64 / n as f64);
        let kept = kept.map_or(x_pred, |(sample, _)| sample);
        let k = kept.rows();
        let sw_x = if k < 2 {
            NO_EVENT_IN_S
        } else {
            let tk = |v: &Sample| {
                Tensor::<2>::from_data(
                    TensorData::new(v.range_f32(0, k), [k, v.dim()]),
                    self.device,
                )
            };
            sw(tk(&x), tk(&kept), dirs_x)
        };
        (sw_x, sw_z, p_in_s)
    }
}

/// Validation SW(x, D(z)) (GeV^2) recorded when fewer than two decoded
/// validation events are inside the acceptance: large, finite (the log is
/// JSON) and never the best.
pub const NO_EVENT_IN_S: f64 = 1e12;

fn take(s: &Sample, n: usize) -> Sample {
    let d = s.dim();
    Sample::new(s.columns().to_vec(), s.values()[..n * d].to_vec())
        .expect("a prefix of a valid sample is valid")
}

fn run(
    map: &MomentumMap,
    input: &Sample,
    seed: u64,
    which: u64,
    batch: usize,
    device: &Device,
) -> Sample {
    let values =
        crate::simulate::map_rows(map, input, 1, seed ^ 0x5eed_0f7a_11a1, which, batch, device);
    Sample::new(
        map.spec().output.columns(),
        values.into_iter().map(f64::from).collect(),
    )
    .unwrap_or_else(|_| {
        // Non-finite predictions: give a sample of the right shape filled
        // with large values so that the distance is huge but finite.
        let d = map.spec().output.dim();
        Sample::new(map.spec().output.columns(), vec![1e10; input.rows() * d])
            .expect("finite values")
    })
}
