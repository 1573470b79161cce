//! `otus run`: the whole study from one card (ingest, train, evaluate,
//! export) into one run folder, skipping every stage whose settings and
//! inputs have not changed since its outputs were written.
//!
//! A run folder holds
//!
//! ```text
//! run.json         one record per finished stage (see below)
//! card.toml        the card as it was run
//! events.parquet   ingest: the aligned events and their splits
//! events.json      ingest: resolved card, inputs, cut-flow
//! model/           train: the model folder (see crate::train)
//! report/          evaluate: metrics.md, metrics.json, SVG figures, index.html
//! export/          export: simulated.root (D(z) of the test split's parton
//!                  events, a flat TTree) and unfolded.lhe.gz (E(x) of its
//!                  detector events)
//! ```
//!
//! **Change detection.** Each stage has a *fingerprint* of two SHA-256
//! digests: `settings`, over the resolved card sections the stage depends on
//! (ingest: seed, inputs, collections, partons, detector, objects, splits;
//! train: the resolved `[model]` settings and the stage list of the chosen
//! profile, not the unused profiles; evaluate: `[evaluate]`, name and seed;
//! export: `[export]`, the weights and the objects) and the otus version; and
//! `inputs`, over what the stage reads (ingest: each input file's path, size
//! and modification time, since the inputs may be gigabytes; the others: the
//! content of the upstream outputs, `events.parquet` and `model/`). When a
//! stage finishes, its fingerprint and a digest of its outputs' content go
//! into `run.json`. A later run skips the stage when the fingerprint is the
//! same and the recorded outputs are still there with the same content;
//! otherwise it runs the stage and says why. Since the downstream digests
//! are over content, a re-ingest that writes the same events retrains
//! nothing.
//!
//! **Run folders.** Without `--out`, every run gets a new folder
//! `<output>/<UTC time>` (the card's `output`, default `out/<name>`), and
//! the unchanged stages are taken from the newest earlier run folder there
//! by hard links (copies where links fail), so each folder is a complete
//! record of one run. With `--out DIR`, the stages are checked against
//! DIR's own `run.json` and unchanged ones are left in place.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Instant, SystemTime};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::card::{RunCard, Weights};
use crate::evaluate::protocol::Evaluation;
use crate::frames::{self, Space, Split};
use crate::train::{Observer, SavedModel, TrainOptions, Which};
use crate::{Error, Progress, ingest, study};

/// File name of the stage records inside a run folder.
pub const RUN_FILE: &str = "run.json";
/// The card as run, inside a run folder.
pub const CARD_FILE: &str = "card.toml";
/// The model folder inside a run folder.
pub const MODEL_DIR: &str = "model";
/// The report folder inside a run folder.
pub const REPORT_DIR: &str = "report";
/// The export folder inside a run folder.
pub const EXPORT_DIR: &str = "export";
/// The simulated test events inside the export folder (a flat TTree named
/// by the card's `export.tree`).
pub const SIMULATED_FILE: &str = "simulated.root";
/// The unfolded test events inside the export folder (LHEF 3.0, gzipped).
pub const UNFOLDED_FILE: &str = "unfolded.lhe.gz";

/// The stages of a run, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageName {
    /// Read, select, align and split the card's inputs.
    Ingest,
    /// Train the encoder and decoder.
    Train,
    /// Metrics and figures on the test split.
    Evaluate,
    /// Simulated and unfolded test events as ROOT and LHE files.
    Export,
}

impl StageName {
    /// Every stage, in the order they run.
    pub const ALL: [StageName; 4] = [
        StageName::Ingest,
        StageName::Train,
        StageName::Evaluate,
        StageName::Export,
    ];

    /// The stage's name in logs and in `run.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            StageName::Ingest => "ingest",
            StageName::Train => "train",
            StageName::Evaluate => "evaluate",
            StageName::Export => "export",
        }
    }

    /// The files and folders the stage writes, relative to the run folder.
    pub fn outputs(self) -> &'static [&'static str] {
        match self {
            StageName::Ingest => &[ingest::FRAME_FILE, ingest::SIDECAR_FILE],
            StageName::Train => &[MODEL_DIR],
            StageName::Evaluate => &[REPORT_DIR],
            StageName::Export => &[EXPORT_DIR],
        }
    }
}

/// What `run.json` records of a finished stage. Digests are lowercase
/// hexadecimal SHA-256.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// Digest of the card sections (and otus version) the stage depends on.
    pub settings: String,
    /// Digest of the stage's inputs (files or upstream outputs).
    pub inputs: String,
    /// Digest of the content of the stage's outputs.
    pub outputs: String,
    /// When the stage finished, UTC (`2026-12-04T05:01:02Z`).
    pub finished: String,
    /// How long it ran, seconds.
    pub seconds: f64,
}

/// `run.json`: the stage records of a run folder.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Version of otus that wrote it.
    pub otus_version: String,
    /// The card that was run, as given.
    pub card: PathBuf,
    /// The card's `name`.
    pub name: String,
    /// The finished stages.
    pub stages: BTreeMap<StageName, StageRecord>,
}

/// How [`run`] runs.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The run folder; default a new `<output>/<UTC time>` folder.
    pub out: Option<PathBuf>,
    /// Run every stage, ignoring earlier outputs.
    pub fresh: bool,
    /// Set (for example on Ctrl-C) to stop training: the trainer writes a
    /// checkpoint and [`run`] returns with [`RunReport::interrupted`].
    pub stop: Arc<AtomicBool>,
}

/// What happened to one stage.
#[derive(Clone, Debug, PartialEq)]
pub enum StageOutcome {
    /// The stage ran, for the given reason.
    Ran {
        /// Why it ran (`train settings changed`, ...).
        reason: String,
        /// How long it took, seconds.
        seconds: f64,
    },
    /// Unchanged and already in the run folder.
    Skipped,
    /// Unchanged; its outputs were linked from an earlier run folder.
    Reused {
        /// That folder.
        from: PathBuf,
    },
}

/// What a [`run`] did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The run folder.
    pub dir: PathBuf,
    /// The stages, in order, with what happened to them.
    pub stages: Vec<(StageName, StageOutcome)>,
    /// The metrics, when the evaluation ran (else see `report/metrics.json`).
    pub evaluation: Option<Evaluation>,
    /// Training was stopped by [`RunOptions::stop`]; the later stages did
    /// not run.
    pub interrupted: bool,
}

/// Runs the study of the card at `card_path`: ingest, train, evaluate and
/// export, each only when its fingerprint changed (see the module docs).
/// Stage milestones are logged; `progress` receives ingest's progress and
/// `observer` every training epoch.
pub fn run(
    card_path: &Path,
    options: &RunOptions,
    progress: &dyn Progress,
    observer: &mut dyn Observer,
) -> Result<RunReport, Error> {
    let card = RunCard::load(card_path)?;
    let card_dir = card_path.parent().unwrap_or(Path::new("."));
    let inputs = card.resolve_inputs(card_dir).map_err(|message| {
        Error::Card(crate::card::CardError::Invalid {
            path: card_path.to_path_buf(),
            message,
        })
    })?;
    let base = card.output_dir(card_dir);
    let dir = match &options.out {
        Some(d) => d.clone(),
        None => new_run_dir(&base)?,
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let reference = if options.fresh {
        None
    } else if dir.join(RUN_FILE).is_file() {
        Some(dir.clone())
    } else {
        latest_run(&base, &dir)
    };
    let earlier = match &reference {
        Some(r) => read_record(&r.join(RUN_FILE))?,
        None => RunRecord::default(),
    };
    log::info!(
        "run {}: {} file pair(s) into {}{}",
        card.name,
        inputs.pairs.len(),
        dir.display(),
        match &reference {
            Some(r) if *r != dir => format!(" (earlier run: {})", r.display()),
            _ => String::new(),
        }
    );
    let mut record = if reference.as_deref() == Some(dir.as_path()) {
        earlier.clone()
    } else {
        RunRecord::default()
    };
    record.otus_version = env!("CARGO_PKG_VERSION").into();
    record.card = card_path.to_path_buf();
    record.name = card.name.clone();
    let card_text = std::fs::read(card_path).map_err(io(card_path))?;
    write_file(&dir.join(CARD_FILE), &card_text)?;

    let mut report = RunReport {
        dir: dir.clone(),
        stages: Vec::new(),
        evaluation: None,
        interrupted: false,
    };
    let context = Context {
        card: &card,
        card_path,
        inputs: &inputs,
        dir: &dir,
    };
    // Once a stage ran, every later one runs too only if its inputs
    // changed; the digests decide.
    for stage in StageName::ALL {
        let fingerprint = context.fingerprint(stage)?;
        let decision = decide(stage, &fingerprint, &earlier, reference.as_deref(), &dir)?;
        let outcome = match decision {
            Decision::Skip => {
                log::info!(
                    "{}: skipped (settings and inputs unchanged since {})",
                    stage.as_str(),
                    earlier.stages[&stage].finished
                );
                StageOutcome::Skipped
            }
            Decision::Reuse(from) => {
                for name in stage.outputs() {
                    link_tree(&from.join(name), &dir.join(name))?;
                }
                record.stages.insert(stage, earlier.stages[&stage].clone());
                write_record(&dir, &record)?;
                log::info!(
                    "{}: unchanged since {} ({}); outputs linked from there",
                    stage.as_str(),
                    earlier.stages[&stage].finished,
                    from.display()
                );
                StageOutcome::Reused { from }
            }
            Decision::Run(reason) => {
                log::info!("{}: runs ({reason})", stage.as_str());
                record.stages.remove(&stage);
                write_record(&dir, &record)?;
                for name in stage.outputs() {
                    remove_path(&dir.join(name))?;
                }
                let started = Instant::now();
                let finished =
                    context.run_stage(stage, options, progress, observer, &mut report)?;
                if !finished {
                    report.interrupted = true;
                    report.stages.push((
                        stage,
                        StageOutcome::Ran {
                            reason,
                            seconds: started.elapsed().as_secs_f64(),
                        },
                    ));
                    return Ok(report);
                }
                let seconds = started.elapsed().as_secs_f64();
                let outputs = digest_outputs(&dir, stage)?.ok_or_else(|| {
                    Error::Other(format!(
                        "{}: the {} stage left no output",
                        dir.display(),
                        stage.as_str()
                    ))
                })?;
                record.stages.insert(
                    stage,
                    StageRecord {
                        settings: fingerprint.settings,
                        inputs: fingerprint.inputs,
                        outputs,
                        finished: utc_now(),
                        seconds,
                    },
                );
                write_record(&dir, &record)?;
                log::info!("{}: done in {seconds:.1} s", stage.as_str());
                StageOutcome::Ran { reason, seconds }
            }
        };
        report.stages.push((stage, outcome));
    }
    for (title, sw, floor) in summary(&dir.join(REPORT_DIR))? {
        log::info!("{title}: global SW {sw:.4} GeV^2 (truth halves: {floor:.4})");
    }
    log::info!(
        "run folder {}; figures and tables in {}",
        dir.display(),
        dir.join(REPORT_DIR).join("index.html").display()
    );
    Ok(report)
}

/// The two digests that decide whether a stage must run.
#[derive(Clone, Debug, PartialEq)]
struct Fingerprint {
    settings: String,
    inputs: String,
}

enum Decision {
    Skip,
    Reuse(PathBuf),
    Run(String),
}

/// Whether `stage` runs, is skipped (unchanged in `dir`) or reused from an
/// earlier run folder.
fn decide(
    stage: StageName,
    fingerprint: &Fingerprint,
    earlier: &RunRecord,
    reference: Option<&Path>,
    dir: &Path,
) -> Result<Decision, Error> {
    let (Some(reference), Some(rec)) = (reference, earlier.stages.get(&stage)) else {
        return Ok(Decision::Run("no earlier output".into()));
    };
    if rec.settings != fingerprint.settings {
        return Ok(Decision::Run(format!(
            "{} settings changed",
            stage.as_str()
        )));
    }
    if rec.inputs != fingerprint.inputs {
        return Ok(Decision::Run(match stage {
            StageName::Ingest => "input files changed".into(),
            StageName::Train => "the ingested events changed".into(),
            _ => "the events or the model changed".into(),
        }));
    }
    if digest_outputs(reference, stage)?.as_ref() != Some(&rec.outputs) {
        return Ok(Decision::Run(format!(
            "its outputs in {} were changed or removed",
            reference.display()
        )));
    }
    Ok(if reference == dir {
        Decision::Skip
    } else {
        Decision::Reuse(reference.to_path_buf())
    })
}

/// What every stage of one run needs.
struct Context<'a> {
    card: &'a RunCard,
    card_path: &'a Path,
    inputs: &'a crate::card::ResolvedInputs,
    dir: &'a Path,
}

impl Context<'_> {
    fn frame(&self) -> PathBuf {
        self.dir.join(ingest::FRAME_FILE)
    }

    fn model_dir(&self) -> PathBuf {
        self.dir.join(MODEL_DIR)
    }

    fn card_error(&self, message: String) -> Error {
        Error::Card(crate::card::CardError::Invalid {
            path: self.card_path.to_path_buf(),
            message,
        })
    }

    /// The settings and inputs digests of `stage`; upstream outputs must
    /// exist already (except for ingest).
    fn fingerprint(&self, stage: StageName) -> Result<Fingerprint, Error> {
        let card = self.card;
        let version = env!("CARGO_PKG_VERSION");
        let settings = match stage {
            StageName::Ingest => serde_json::json!({
                "otus": version,
                "seed": card.seed,
                "tree": card.inputs.tree,
                "align": card.inputs.align,
                "delphes": card.delphes,
                "partons": card.partons,
                "detector": card.detector,
                "objects": card.objects,
                "splits": card.splits,
            }),
            StageName::Train => {
                let model = card.model_settings().map_err(|m| self.card_error(m))?;
                let mut train = card.train_settings().map_err(|m| self.card_error(m))?;
                let stages = train.stages()?;
                train.profiles.clear();
                serde_json::json!({
                    "otus": version,
                    "model": model,
                    "train": train,
                    "stages": stages,
                    "partons": card.parton_names(),
                    "objects": card.object_names(),
                })
            }
            StageName::Evaluate => serde_json::json!({
                "otus": version,
                "name": card.name,
                "seed": card.seed,
                "evaluate": card.evaluate,
            }),
            StageName::Export => serde_json::json!({
                "otus": version,
                "seed": card.seed,
                "export": card.export,
                "weights": card.evaluate.weights,
                "partons": card.partons,
                "objects": card.objects,
                "delphes": card.delphes,
            }),
        };
        let inputs = match stage {
            StageName::Ingest => {
                let mut files = Vec::new();
                for pair in &self.inputs.pairs {
                    for f in [&pair.lhe, &pair.delphes] {
                        files.push(file_identity(f)?);
                    }
                }
                digest_json(&files)
            }
            StageName::Train => self.upstream(&[ingest::FRAME_FILE])?,
            StageName::Evaluate | StageName::Export => {
                self.upstream(&[ingest::FRAME_FILE, MODEL_DIR])?
            }
        };
        Ok(Fingerprint {
            settings: digest_json(&settings),
            inputs,
        })
    }

    /// The digest of upstream outputs in the run folder.
    fn upstream(&self, names: &[&str]) -> Result<String, Error> {
        digest_paths(self.dir, names)?.ok_or_else(|| {
            Error::Other(format!(
                "{}: missing {} from an earlier stage",
                self.dir.display(),
                names.join(" or ")
            ))
        })
    }

    /// Runs one stage; `false` when training was interrupted.
    fn run_stage(
        &self,
        stage: StageName,
        options: &RunOptions,
        progress: &dyn Progress,
        observer: &mut dyn Observer,
        report: &mut RunReport,
    ) -> Result<bool, Error> {
        match stage {
            StageName::Ingest => self.ingest(progress),
            StageName::Train => return self.train(options, observer),
            StageName::Evaluate => {
                report.evaluation = Some(self.evaluate()?);
                Ok(())
            }
            StageName::Export => self.export(),
        }?;
        Ok(true)
    }

    fn ingest(&self, progress: &dyn Progress) -> Result<(), Error> {
        let report = ingest::ingest(self.card, self.inputs, self.dir, progress)?;
        for line in report.cutflow.summary().lines() {
            log::info!("{line}");
        }
        log::info!(
            "ingest: {} train, {} val, {} test events in {}",
            report.split_rows[0],
            report.split_rows[1],
            report.split_rows[2],
            report.frame.display()
        );
        Ok(())
    }

    fn train(&self, options: &RunOptions, observer: &mut dyn Observer) -> Result<bool, Error> {
        let card = self.card;
        let model_settings = card.model_settings().map_err(|m| self.card_error(m))?;
        let train_settings = card.train_settings().map_err(|m| self.card_error(m))?;
        let data = study::train_data(&self.frame(), card)?;
        let out = self.model_dir();
        log::info!(
            "train: {} z and {} x training events, {} validation; profile {:?}",
            data.z_train.rows(),
            data.x_train.rows(),
            data.z_val.rows(),
            train_settings.profile
        );
        let mut train_options = TrainOptions::new(&out);
        train_options.stop = options.stop.clone();
        std::fs::create_dir_all(&out).map_err(io(&out))?;
        study::save_card(card, &out)?;
        let outcome = crate::train::train(
            &data,
            &model_settings,
            &train_settings,
            &train_options,
            observer,
        )?;
        if !outcome.finished {
            log::warn!(
                "train: interrupted after {} epochs; the checkpoint is in {}",
                outcome.epochs_done,
                out.display()
            );
            return Ok(false);
        }
        log::info!("train: {}", outcome.summary());
        Ok(true)
    }

    fn load_model(&self) -> Result<SavedModel, Error> {
        let which = match self.card.evaluate.weights {
            Weights::Last => Which::Last,
            Weights::Best => Which::Best,
        };
        Ok(SavedModel::load_with(
            self.model_dir(),
            which,
            &crate::train::select_device(),
        )?)
    }

    fn evaluate(&self) -> Result<Evaluation, Error> {
        let model = self.load_model()?;
        let out = self.dir.join(REPORT_DIR);
        let evaluation = study::evaluate_model(
            &model,
            self.card,
            &self.frame(),
            &out,
            &self.card.evaluate,
            &[],
        )?;
        log::info!(
            "evaluate: report in {} ({} events per half)",
            out.display(),
            evaluation.events_per_half
        );
        Ok(evaluation)
    }

    /// Simulates the test split's parton events into `simulated.root` and
    /// unfolds its detector events into `unfolded.lhe.gz`.
    fn export(&self) -> Result<(), Error> {
        let model = self.load_model()?;
        let frame = self.frame();
        let out = self.dir.join(EXPORT_DIR);
        let (repeat, seed) = (self.card.export.repeat, self.card.seed);
        let options = study::OutputOptions {
            lhe_init: study::model_lhe(&self.model_dir()),
            comment: format!(
                "otus {} run {}: E(x) of the test split, seed {seed}, repeat {repeat}",
                env!("CARGO_PKG_VERSION"),
                self.card.name
            ),
            ..Default::default()
        };
        let z = study::frame_events(&frame, self.card, Split::Test, Space::Parton)?;
        let simulated = crate::simulate::simulate(&model, &z.sample, repeat, seed)?;
        let kept = crate::simulate::accept(&model, simulated);
        if let Some(d) = kept.dropped() {
            log::info!("export: detector acceptance kept {d}");
        }
        let source = kept.source.as_deref();
        let sim_path = out.join(SIMULATED_FILE);
        study::write_output(
            &sim_path,
            &z,
            &kept.sample,
            repeat,
            source,
            self.card,
            &options,
        )?;
        let x = study::frame_events(&frame, self.card, Split::Test, Space::Detector)?;
        let unfolded = crate::simulate::unfold(&model, &x.sample, repeat, seed)?;
        let unf_path = out.join(UNFOLDED_FILE);
        study::write_output(&unf_path, &x, &unfolded, repeat, None, self.card, &options)?;
        log::info!(
            "export: {} test events x {repeat} draws simulated into {} and unfolded into {}",
            z.event.len(),
            sim_path.display(),
            unf_path.display()
        );
        Ok(())
    }
}

/// The global distances of a report folder's `metrics.json`: (title, SW,
/// floor) per comparison, GeV^2 (NaN where the file holds `null`).
fn summary(report: &Path) -> Result<Vec<(String, f64, f64)>, Error> {
    let path = report.join("metrics.json");
    let bytes = std::fs::read(&path).map_err(io(&path))?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    let comparisons = json["comparisons"].as_array().cloned().unwrap_or_default();
    Ok(comparisons
        .iter()
        .map(|c| {
            let number = |key: &str| c[key].as_f64().unwrap_or(f64::NAN);
            (
                c["title"].as_str().unwrap_or("?").to_string(),
                number("global_sw"),
                number("floor_global_sw"),
            )
        })
        .collect())
}

/// A new run folder `<base>/<UTC time>` (with `-2`, `-3`, ... if taken).
fn new_run_dir(base: &Path) -> Result<PathBuf, Error> {
    let stamp = utc_now().replace([':', '-'], "");
    let mut dir = base.join(&stamp);
    let mut n = 2;
    while dir.exists() {
        dir = base.join(format!("{stamp}-{n}"));
        n += 1;
    }
    Ok(dir)
}

/// The newest run folder under `base` other than `dir` (by name, which
/// starts with the UTC time), if any holds a `run.json`.
fn latest_run(base: &Path, dir: &Path) -> Option<PathBuf> {
    let mut runs: Vec<PathBuf> = std::fs::read_dir(base)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p != dir && p.join(RUN_FILE).is_file())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.len() >= 16 && n.as_bytes()[8] == b'T')
        })
        .collect();
    runs.sort();
    runs.pop()
}

fn read_record(path: &Path) -> Result<RunRecord, Error> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    serde_json::from_slice(&bytes).map_err(|e| {
        Error::Other(format!(
            "{}: {e}; delete it or run with --fresh",
            path.display()
        ))
    })
}

fn write_record(dir: &Path, record: &RunRecord) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(record).map_err(|e| Error::Other(e.to_string()))?;
    write_file(&dir.join(RUN_FILE), &json)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    frames::write_atomic(path, |f| f.write_all(bytes))?;
    Ok(())
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::Other(format!("{}: {e}", path.display()))
}

/// An input file's identity: its path, size and modification time.
#[derive(Serialize)]
struct FileIdentity {
    path: PathBuf,
    bytes: u64,
    modified_ns: u128,
}

fn file_identity(path: &Path) -> Result<FileIdentity, Error> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    let modified_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    Ok(FileIdentity {
        path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        bytes: meta.len(),
        modified_ns,
    })
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn digest_json<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    hex(&Sha256::digest(bytes))
}

fn digest_outputs(dir: &Path, stage: StageName) -> Result<Option<String>, Error> {
    digest_paths(dir, stage.outputs())
}

/// SHA-256 over the relative paths and contents of every file under the
/// named files and folders of `dir`, in sorted order; `None` when one is
/// missing.
fn digest_paths(dir: &Path, names: &[&str]) -> Result<Option<String>, Error> {
    let mut hasher = Sha256::new();
    for name in names {
        let path = dir.join(name);
        if !path.exists() {
            return Ok(None);
        }
        let mut files = Vec::new();
        collect_files(&path, &mut files)?;
        files.sort();
        for file in files {
            let relative = file.strip_prefix(dir).unwrap_or(&file);
            hasher.update(relative.to_string_lossy().as_bytes());
            hasher.update([0]);
            let mut f = std::fs::File::open(&file).map_err(io(&file))?;
            let bytes = std::io::copy(&mut f, &mut hasher).map_err(io(&file))?;
            hasher.update(bytes.to_le_bytes());
        }
    }
    Ok(Some(hex(&hasher.finalize())))
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).map_err(io(path))? {
            let entry = entry.map_err(io(path))?;
            collect_files(&entry.path(), out)?;
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

/// Recreates `from` at `to` with hard links (copies where linking fails,
/// e.g. across file systems). The tree is built under a hidden name beside
/// `to` (`.NAME.part`) and renamed into place, so a copy that fails (a full
/// disk) or is killed leaves nothing that looks complete.
fn link_tree(from: &Path, to: &Path) -> Result<(), Error> {
    let name = to
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let tmp = to.with_file_name(format!(".{name}.part"));
    remove_path(&tmp)?;
    if let Err(e) = link_into(from, &tmp) {
        let _ = remove_path(&tmp);
        return Err(e);
    }
    remove_path(to)?;
    std::fs::rename(&tmp, to).map_err(io(to))
}

fn link_into(from: &Path, to: &Path) -> Result<(), Error> {
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(io(to))?;
        for entry in std::fs::read_dir(from).map_err(io(from))? {
            let entry = entry.map_err(io(from))?;
            link_into(&entry.path(), &to.join(entry.file_name()))?;
        }
        return Ok(());
    }
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to).map_err(io(to))?;
    }
    Ok(())
}

fn remove_path(path: &Path) -> Result<(), Error> {
    if path.is_dir() {
        std::fs::remove_dir_all(path).map_err(io(path))
    } else if path.exists() {
        std::fs::remove_file(path).map_err(io(path))
    } else {
        Ok(())
    }
}

/// The current UTC time as `2026-12-04T05:01:02Z`.
pub fn utc_now() -> String {
    let seconds = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    utc_string(seconds)
}

/// Seconds since 1970-01-01 UTC as `YYYY-MM-DDTHH:MM:SSZ` (proleptic
/// Gregorian calendar, civil-from-days).
fn utc_string(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_strings_match_known_dates() {
        assert_eq!(utc_string(0), "1970-01-01T00:00:00Z");
        // 2000-02-29 (a leap day of a century leap year), 12:34:56.
        assert_eq!(utc_string(951_827_696), "2000-02-29T12:34:56Z");
        assert_eq!(utc_string(1_798_761_599), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn digests_change_with_content_and_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("m")).unwrap();
        std::fs::write(dir.path().join("m/a"), b"one").unwrap();
        let first = digest_paths(dir.path(), &["m"]).unwrap().unwrap();
        assert_eq!(digest_paths(dir.path(), &["m"]).unwrap().unwrap(), first);
        std::fs::write(dir.path().join("m/a"), b"two").unwrap();
        let second = digest_paths(dir.path(), &["m"]).unwrap().unwrap();
        assert_ne!(first, second);
        std::fs::rename(dir.path().join("m/a"), dir.path().join("m/b")).unwrap();
        assert_ne!(digest_paths(dir.path(), &["m"]).unwrap().unwrap(), second);
        assert_eq!(digest_paths(dir.path(), &["m", "absent"]).unwrap(), None);
    }

    #[test]
    fn linked_trees_hold_the_same_content() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(a.join("best")).unwrap();
        std::fs::write(a.join("x.bpk"), b"weights").unwrap();
        std::fs::write(a.join("best/x.bpk"), b"best").unwrap();
        link_tree(&a, &b).unwrap();
        assert_eq!(std::fs::read(b.join("best/x.bpk")).unwrap(), b"best");
        let (da, db) = (
            digest_paths(&a, &["best"]).unwrap(),
            digest_paths(&b, &["best"]).unwrap(),
        );
        assert_eq!(da, db);
    }
}
