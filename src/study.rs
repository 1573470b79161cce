//! The stages after ingest, from a run card: train on the ingest frame,
//! simulate and unfold new events, evaluate on the test split. Each reads
//! and writes files a user can open (Parquet, the model folder, a report).

use std::path::{Path, PathBuf};

use polars::prelude::{Column, DataFrame};

use crate::card::{Align, EvaluateSpec, RunCard};
use crate::evaluate;
use crate::frames::{self, Space, Split};
use crate::io::delphes::DelphesReader;
use crate::io::lhe::LheReader;
use crate::select::Selection;
use crate::train::{Sample, SavedModel, TrainData};
use crate::{Error, ingest};

/// File name of the card a model was trained with, inside the model folder.
pub const MODEL_CARD: &str = "card.json";

/// Events with their identity, read from any input: rows of `sample`
/// belong to `event`/`file`/`weight` at the same index.
#[derive(Debug, Clone)]
pub struct Events {
    /// Event numbers (LHE position, Delphes `Event.Number`).
    pub event: Vec<i64>,
    /// Source file names.
    pub file: Vec<String>,
    /// Nominal weights (1 where the input has none).
    pub weight: Vec<f64>,
    /// The four-vectors, in the card's column order (GeV).
    pub sample: Sample,
}

/// The z and x samples of one split of an ingest frame.
pub fn load_split(
    frame: &DataFrame,
    path: &Path,
    card: &RunCard,
    split: Option<Split>,
) -> Result<(Sample, Sample), Error> {
    let z_cols = frames::columns(Space::Parton, &card.parton_names());
    let x_cols = frames::columns(Space::Detector, &card.object_names());
    let (z, _) = frames::matrix(frame, &z_cols, split, path)?;
    let (x, _) = frames::matrix(frame, &x_cols, split, path)?;
    Ok((Sample::new(z_cols, z)?, Sample::new(x_cols, x)?))
}

/// The train and validation splits of an ingest frame.
pub fn train_data(frame_path: &Path, card: &RunCard) -> Result<TrainData, Error> {
    let frame = frames::read_parquet(frame_path)?;
    let (z_train, x_train) = load_split(&frame, frame_path, card, Some(Split::Train))?;
    let (z_val, x_val) = load_split(&frame, frame_path, card, Some(Split::Validation))?;
    if z_train.rows() == 0 || z_val.rows() == 0 {
        return Err(Error::Other(format!(
            "{}: the train and validation splits need events; found {} and {}",
            frame_path.display(),
            z_train.rows(),
            z_val.rows()
        )));
    }
    Ok(TrainData {
        z_train,
        x_train,
        z_val,
        x_val,
    })
}

/// The events of one split of an ingest frame in one space, with their
/// identity (event number, file, weight): the input of `otus run`'s export.
pub fn frame_events(
    frame_path: &Path,
    card: &RunCard,
    split: Split,
    space: Space,
) -> Result<Events, Error> {
    let frame = frames::read_parquet(frame_path)?;
    let names = match space {
        Space::Parton => card.parton_names(),
        Space::Detector => card.object_names(),
    };
    let columns = frames::columns(space, &names);
    let (values, _) = frames::matrix(&frame, &columns, Some(split), frame_path)?;
    let (event, _) = frames::matrix(
        &frame,
        &[frames::EVENT.to_string()],
        Some(split),
        frame_path,
    )?;
    let (weight, _) = frames::matrix(
        &frame,
        &[frames::WEIGHT.to_string()],
        Some(split),
        frame_path,
    )?;
    let polars_error = |source| frames::FrameError::Polars {
        path: frame_path.into(),
        source,
    };
    let splits = frame.column(frames::SPLIT).map_err(polars_error)?;
    let files = frame.column(frames::FILE).map_err(polars_error)?;
    let (splits, files) = (
        splits.str().map_err(polars_error)?,
        files.str().map_err(polars_error)?,
    );
    let file: Vec<String> = splits
        .iter()
        .zip(files.iter())
        .filter(|(s, _)| *s == Some(split.as_str()))
        .map(|(_, f)| f.unwrap_or_default().to_string())
        .collect();
    Ok(Events {
        event: event.iter().map(|&e| e as i64).collect(),
        file,
        weight,
        sample: Sample::new(columns, values)?,
    })
}

/// The ingest frame of a card's output folder.
pub fn default_frame(card: &RunCard, card_path: &Path) -> PathBuf {
    let dir = card_path.parent().unwrap_or(Path::new("."));
    card.output_dir(dir).join(ingest::FRAME_FILE)
}

/// Saves the card beside a trained model, so that `simulate` and `unfold`
/// can select events from raw LHE and Delphes files the same way.
pub fn save_card(card: &RunCard, model_dir: &Path) -> Result<(), Error> {
    let json = serde_json::to_vec_pretty(card).map_err(|e| Error::Other(e.to_string()))?;
    frames::write_atomic(&model_dir.join(MODEL_CARD), |f| {
        std::io::Write::write_all(f, &json)
    })?;
    Ok(())
}

/// The card a model was trained with.
pub fn model_card(model_dir: &Path) -> Result<RunCard, Error> {
    let path = model_dir.join(MODEL_CARD);
    let bytes = std::fs::read(&path)
        .map_err(|e| Error::Other(format!("{}: {e} (is this a model folder?)", path.display())))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Other(format!("{}: {e}", path.display())))
}

fn is_parquet(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "parquet")
}

fn is_root(p: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
        .is_ok()
        && &magic == b"root"
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads events of one space from frames (all rows) or raw files: LHE files
/// for the parton level, Delphes files or otus ROOT exports (every draw;
/// see [`crate::io::otus`]) for the detector level, selected with the
/// card's selection.
pub fn read_events(inputs: &[PathBuf], card: &RunCard, space: Space) -> Result<Events, Error> {
    let names = match space {
        Space::Parton => card.parton_names(),
        Space::Detector => card.object_names(),
    };
    let columns = frames::columns(space, &names);
    let selection = Selection::new(card);
    let (mut event, mut file, mut weight, mut values) = (vec![], vec![], vec![], vec![]);
    for path in inputs {
        let before = event.len();
        if is_parquet(path) {
            let frame = frames::read_parquet(path)?;
            let (v, rows) = frames::matrix(&frame, &columns, None, path)?;
            values.extend(v);
            let (e, _) = frames::matrix(&frame, &[frames::EVENT.to_string()], None, path)?;
            event.extend(e.iter().map(|v| *v as i64));
            let w = frames::matrix(&frame, &[frames::WEIGHT.to_string()], None, path)
                .map(|(w, _)| w)
                .unwrap_or_else(|_| vec![1.0; rows]);
            weight.extend(w);
            file.extend(std::iter::repeat_n(name_of(path), rows));
        } else if space == Space::Parton && is_root(path) {
            return Err(Error::Other(format!(
                "{}: a ROOT file; simulate reads parton-level LHE files or frames (.parquet)",
                path.display()
            )));
        } else if space == Space::Parton {
            let mut dropped = 0u64;
            for e in LheReader::open(path)? {
                let e = e?;
                match selection.partons(&e) {
                    Ok(z) => {
                        values.extend(z);
                        event.push(e.index as i64);
                        weight.push(e.weight);
                        file.push(name_of(path));
                    }
                    Err(_) => dropped += 1,
                }
            }
            log::info!(
                "{}: {} events selected, {dropped} dropped",
                path.display(),
                event.len() - before
            );
        } else if ingest::is_export(card, path) {
            let e = ingest::read_exported(card, &selection, path, false)?;
            let dropped: u64 = e.dropped.values().sum();
            event.extend(e.number);
            weight.extend(e.weight);
            values.extend(e.x.into_iter().flatten());
            file.extend(std::iter::repeat_n(name_of(path), event.len() - before));
            log::info!(
                "{}: otus export, {} entries selected, {dropped} dropped by the card's cuts",
                path.display(),
                event.len() - before
            );
        } else {
            let mut reader =
                DelphesReader::open(path, &card.inputs.tree, &card.delphes, selection.wanted())?;
            let mut dropped = 0u64;
            loop {
                let chunk = reader.next_chunk()?;
                if chunk.is_empty() {
                    break;
                }
                for e in chunk {
                    match selection.objects(&e) {
                        Ok(x) => {
                            values.extend(x);
                            event.push(match card.inputs.align {
                                Align::EventNumber => e.number.unwrap_or(e.entry as i64),
                                Align::Entry => e.entry as i64,
                            });
                            weight.push(1.0);
                            file.push(name_of(path));
                        }
                        Err(_) => dropped += 1,
                    }
                }
            }
            log::info!(
                "{}: {} entries selected, {dropped} dropped",
                path.display(),
                event.len() - before
            );
        }
        if event.len() == before {
            return Err(Error::Other(format!(
                "{}: no event passes the selection of the model's card {:?}; is it the same process?",
                path.display(),
                card.name
            )));
        }
    }
    Ok(Events {
        event,
        file,
        weight,
        sample: Sample::new(columns, values)?,
    })
}

/// How [`write_output`] writes files other than Parquet.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    /// Size limit of one ROOT file, bytes (see
    /// [`crate::export::root::RootSettings`]).
    pub max_file_bytes: u64,
    /// LHE output: the `<init>` block to copy (see
    /// [`crate::export::lhe::InitBlock`]); synthesized when `None`.
    pub lhe_init: Option<PathBuf>,
    /// LHE output: a note for the `<header>` (model, seed, repeat).
    pub comment: String,
}

impl Default for OutputOptions {
    fn default() -> Self {
        Self {
            max_file_bytes: crate::export::root::DEFAULT_MAX_FILE_BYTES,
            lhe_init: None,
            comment: String::new(),
        }
    }
}

/// Writes model output in the format of `path`'s extension
/// ([`crate::export::Format`]): Parquet ([`write_frame`]), a ROOT tree
/// named by the card's `export.tree`, or (parton level only) LHE. Returns
/// the files written (several when a ROOT output is split). `source`, when
/// some draws were dropped by the detector acceptance, gives the place of
/// each output row among all draws ([`crate::simulate::Accepted`]).
pub fn write_output(
    path: &Path,
    input: &Events,
    output: &Sample,
    repeat: usize,
    source: Option<&[usize]>,
    card: &RunCard,
    options: &OutputOptions,
) -> Result<Vec<PathBuf>, Error> {
    use crate::export::{self, Format};
    let format = Format::from_path(path)?;
    let space = if output
        .columns()
        .first()
        .is_some_and(|c| c.starts_with("z_"))
    {
        Space::Parton
    } else {
        Space::Detector
    };
    let objects = export::objects_of(card, space);
    let exported = export::Exported {
        space,
        objects: &objects,
        event: &input.event,
        weight: &input.weight,
        repeat,
        values: output,
        source,
    };
    exported.check(path)?;
    match format {
        Format::Parquet => {
            write_frame(path, &exported, input)?;
            Ok(vec![path.to_path_buf()])
        }
        Format::Root => {
            let settings = export::root::RootSettings {
                tree: card.export.tree.clone(),
                max_file_bytes: options.max_file_bytes,
            };
            Ok(export::root::write(path, &exported, &settings)?)
        }
        Format::Lhe { gzip } => {
            let init = match &options.lhe_init {
                Some(p) => export::lhe::InitBlock::from_file(p)?,
                None => export::lhe::InitBlock::synthesized(),
            };
            export::lhe::write(path, &exported, &init, &options.comment, gzip)?;
            Ok(vec![path.to_path_buf()])
        }
    }
}

/// The first LHE file of the ingest that trained a model (from the
/// `events.json` beside the model folder), if it still exists: the source
/// of the `<init>` block of LHE output.
pub fn model_lhe(model_dir: &Path) -> Option<PathBuf> {
    let sidecar = model_dir.parent()?.join(ingest::SIDECAR_FILE);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(sidecar).ok()?).ok()?;
    let lhe = PathBuf::from(json["inputs"]["pairs"][0]["lhe"].as_str()?);
    lhe.is_file().then_some(lhe)
}

/// Writes model output as a frame: `event`, `file`, `draw`, `weight`, the
/// input columns (repeated for each draw), the output columns and the
/// output's derived masses.
fn write_frame(
    path: &Path,
    exported: &crate::export::Exported,
    input: &Events,
) -> Result<(), Error> {
    let output = exported.values;
    let rows = output.rows();
    let repeat = exported.repeat.max(1);
    let place = |i: usize| exported.source.map_or(i, |s| s[i]);
    let expand = |i: usize| place(i) / repeat;
    let mut cols = vec![
        Column::new(
            frames::EVENT.into(),
            (0..rows)
                .map(|i| input.event[expand(i)])
                .collect::<Vec<_>>(),
        ),
        Column::new(
            frames::FILE.into(),
            (0..rows)
                .map(|i| input.file[expand(i)].clone())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            frames::DRAW.into(),
            (0..rows)
                .map(|i| (place(i) % repeat) as i32)
                .collect::<Vec<_>>(),
        ),
        Column::new(
            frames::WEIGHT.into(),
            (0..rows)
                .map(|i| input.weight[expand(i)])
                .collect::<Vec<_>>(),
        ),
    ];
    let width_in = input.sample.dim();
    for (j, name) in input.sample.columns().iter().enumerate() {
        let v: Vec<f64> = (0..rows)
            .map(|i| input.sample.values()[expand(i) * width_in + j])
            .collect();
        cols.push(Column::new(name.as_str().into(), v));
    }
    let width = output.dim();
    for (j, name) in output.columns().iter().enumerate() {
        let v: Vec<f64> = output
            .values()
            .iter()
            .skip(j)
            .step_by(width)
            .copied()
            .collect();
        cols.push(Column::new(name.as_str().into(), v));
    }
    // The derived masses of the output (M_ee; the ttbar masses), as in the
    // ingest frame.
    let prefix = exported.space.prefix();
    for (name, v) in evaluate::variables::derived_columns(output, prefix) {
        cols.push(Column::new(name.into(), v));
    }
    let mut frame = DataFrame::new(rows, cols).map_err(|source| frames::FrameError::Polars {
        path: path.into(),
        source,
    })?;
    frames::write_parquet(&mut frame, path)?;
    Ok(())
}

/// Evaluates a model on the test split of an ingest frame and writes the
/// report folder; returns the evaluation. With `simulated` files (Delphes,
/// otus ROOT exports or frames), their detector-level events stand in for
/// D(z) in the simulation comparison: a simulated sample is compared with
/// the real test events by the same metrics.
pub fn evaluate_model(
    model: &SavedModel,
    card: &RunCard,
    frame_path: &Path,
    out_dir: &Path,
    spec: &EvaluateSpec,
    simulated: &[PathBuf],
) -> Result<evaluate::protocol::Evaluation, Error> {
    let frame = frames::read_parquet(frame_path)?;
    let (z, x) = load_split(&frame, frame_path, card, Some(Split::Test))?;
    let halves = evaluate::protocol::split_halves(&z, &x)?;
    let seed = model.manifest.train.seed;
    let encoded = crate::simulate::unfold(model, &halves.x_a, 1, seed)?;
    // D(z) and D(E(x)) inside the decoder's acceptance S only (all of them
    // without one), as the detector events they are compared with.
    let round_trip = crate::simulate::simulate(model, &encoded, 1, seed.wrapping_add(1))?;
    let round_trip = crate::simulate::accept(model, round_trip);
    let (simulated, simulated_from, simulated_rows) = if simulated.is_empty() {
        let all = crate::simulate::simulate(model, &halves.z_a, 1, seed)?;
        let kept = crate::simulate::accept(model, all);
        if let (Some(d), Some(r)) = (kept.dropped(), round_trip.dropped()) {
            log::info!("evaluate: detector acceptance: D(z) {d}; D(E(x)) {r}");
        }
        (kept.sample, None, kept.source)
    } else {
        let names: Vec<String> = simulated.iter().map(|p| name_of(p)).collect();
        let events = read_events(simulated, card, Space::Detector)?;
        (events.sample, Some(names.join(", ")), None)
    };
    let outputs = evaluate::protocol::ModelOutputs {
        encoded: Some(encoded),
        simulated: Some(simulated),
        round_trip: Some(round_trip.sample),
        simulated_from,
        simulated_rows,
    };
    let settings = evaluate::report::ReportSettings {
        evaluation: evaluate::protocol::EvaluationSettings {
            process: card.name.clone(),
            slices: spec.slices,
            seed: card.seed,
            ..Default::default()
        },
        bins: spec.bins,
        transport: spec.transport.clone().map(|[z, x]| (z, x)),
    };
    let (evaluation, _) = evaluate::report::write_report(out_dir, &halves, &outputs, &settings)?;
    Ok(evaluation)
}
