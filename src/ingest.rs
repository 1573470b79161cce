//! The ingest stage: read every input pair, select, align and write the
//! frame `events.parquet` with its sidecar `events.json` (cut-flow, resolved
//! card, columns).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::card::{Align, InputPair, ResolvedInputs, RunCard};
use crate::frames::{self, EventTable, Split};
use crate::io::delphes::DelphesReader;
use crate::io::lhe::LheReader;
use crate::select::{CutFlow, PairCutFlow, Selection};
use crate::{Error, Progress};

/// File name of the ingest frame inside the output folder.
pub const FRAME_FILE: &str = "events.parquet";
/// File name of the ingest sidecar inside the output folder.
pub const SIDECAR_FILE: &str = "events.json";

/// What an ingest wrote.
#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    /// The frame.
    pub frame: PathBuf,
    /// The sidecar.
    pub sidecar: PathBuf,
    /// Counts of every step.
    pub cutflow: CutFlow,
    /// Rows per split: train, val, test.
    pub split_rows: [u64; 3],
}

#[derive(Serialize)]
struct Sidecar<'a> {
    otus_version: &'a str,
    card: &'a RunCard,
    inputs: &'a ResolvedInputs,
    z_columns: Vec<String>,
    x_columns: Vec<String>,
    split_rows: [u64; 3],
    cutflow: &'a CutFlow,
}

/// One aligned event.
struct Row {
    event: u64,
    weight: f64,
    z: Vec<f64>,
    x: Vec<f64>,
}

/// Runs the ingest stage into `out_dir`.
pub fn ingest(
    card: &RunCard,
    inputs: &ResolvedInputs,
    out_dir: &Path,
    progress: &dyn Progress,
) -> Result<IngestReport, Error> {
    let selection = Selection::new(card);
    progress.start("ingest", 2 * inputs.pairs.len() as u64);
    let results: Vec<Result<(PairCutFlow, Vec<Row>), Error>> = inputs
        .pairs
        .par_iter()
        .map(|pair| read_pair(card, &selection, pair, progress))
        .collect();
    let mut table = EventTable {
        partons: card.parton_names(),
        objects: card.object_names(),
        ..Default::default()
    };
    let mut flows = Vec::new();
    for (file_index, result) in results.into_iter().enumerate() {
        let (flow, rows) = result?;
        let name = file_name(&inputs.pairs[file_index].lhe);
        for row in rows {
            table.event.push(row.event as i64);
            table.file.push(name.clone());
            table.split.push(Split::Train);
            table.weight.push(row.weight);
            table.z.extend(row.z);
            table.x.extend(row.x);
        }
        flows.push(flow);
    }
    assign_splits(card, inputs, &mut table);
    let cutflow = CutFlow::from_pairs(flows);
    if table.is_empty() {
        return Err(Error::Alignment(format!(
            "no event passed the selection at both levels, so there is nothing to write:\n{}",
            cutflow.summary()
        )));
    }
    let mut split_rows = [0u64; 3];
    for s in &table.split {
        split_rows[*s as usize] += 1;
    }

    let frame_path = out_dir.join(FRAME_FILE);
    let mut frame = table
        .to_frame()
        .map_err(|source| frames::FrameError::Polars {
            path: frame_path.clone(),
            source,
        })?;
    frames::write_parquet(&mut frame, &frame_path)?;
    let sidecar = Sidecar {
        otus_version: env!("CARGO_PKG_VERSION"),
        card,
        inputs,
        z_columns: frames::columns(frames::Space::Parton, &table.partons),
        x_columns: frames::columns(frames::Space::Detector, &table.objects),
        split_rows,
        cutflow: &cutflow,
    };
    let sidecar_path = out_dir.join(SIDECAR_FILE);
    let json = serde_json::to_vec_pretty(&sidecar).map_err(std::io::Error::other);
    frames::write_atomic(&sidecar_path, |f| std::io::Write::write_all(f, &json?))?;
    Ok(IngestReport {
        frame: frame_path,
        sidecar: sidecar_path,
        cutflow,
        split_rows,
    })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Test split: the last `test_last` rows, or a seeded fraction; validation a
/// seeded fraction of the rest. Rows are in input order (pair, then event).
fn assign_splits(card: &RunCard, inputs: &ResolvedInputs, table: &mut EventTable) {
    let s = &card.splits;
    let n = table.len();
    let test_from = s.test_last.map(|k| n.saturating_sub(k as usize));
    let file_index: HashMap<String, u64> = inputs
        .pairs
        .iter()
        .enumerate()
        .map(|(i, p)| (file_name(&p.lhe), i as u64))
        .collect();
    for i in 0..n {
        let fi = file_index.get(&table.file[i]).copied().unwrap_or(0);
        let u = frames::event_uniform(card.seed, fi, table.event[i] as u64);
        table.split[i] = match test_from {
            Some(start) if i >= start => Split::Test,
            Some(_) if u < s.validation => Split::Validation,
            Some(_) => Split::Train,
            None if u < s.test => Split::Test,
            None if u < s.test + s.validation => Split::Validation,
            None => Split::Train,
        };
    }
}

/// Reads one pair: both files in parallel, then aligns them.
fn read_pair(
    card: &RunCard,
    selection: &Selection,
    pair: &InputPair,
    progress: &dyn Progress,
) -> Result<(PairCutFlow, Vec<Row>), Error> {
    let (partons, detector) = rayon::join(
        || {
            let r = read_partons(selection, &pair.lhe);
            progress.advance(1);
            r
        },
        || {
            let r = read_detector(card, selection, &pair.delphes);
            progress.advance(1);
            r
        },
    );
    let partons = partons?;
    let detector = detector?;
    let mut flow = PairCutFlow {
        lhe: pair.lhe.display().to_string(),
        delphes: pair.delphes.display().to_string(),
        lhe_events: partons.events,
        lhe_selected: partons.selected.len() as u64,
        lhe_dropped: partons.dropped,
        delphes_entries: detector.entries,
        delphes_selected: detector.selected.len() as u64,
        delphes_dropped: detector.dropped,
        ..Default::default()
    };
    if card.inputs.align == Align::Entry && partons.events != detector.entries {
        return Err(Error::Alignment(format!(
            "{} holds {} events but {} holds {} entries: alignment by entry needs equal counts; \
             use `align = \"event-number\"` if the Delphes file has Event.Number",
            pair.lhe.display(),
            partons.events,
            pair.delphes.display(),
            detector.entries
        )));
    }
    if let Some(numbers) = &detector.numbers {
        let mut seen = vec![false; partons.events as usize];
        for &n in numbers {
            if n >= 0 && (n as u64) < partons.events {
                let s = &mut seen[n as usize];
                if *s {
                    flow.duplicate_entries += 1;
                }
                *s = true;
            }
        }
        flow.lhe_without_entry = seen.iter().filter(|&&s| !s).count() as u64;
    }
    let mut by_number = partons.selected;
    let mut rows = Vec::with_capacity(detector.selected.len());
    for (number, x) in detector.selected {
        if number < 0 || number as u64 >= partons.events {
            flow.unmatched_entries += 1;
            continue;
        }
        if let Some((weight, z)) = by_number.remove(&(number as u64)) {
            rows.push(Row {
                event: number as u64,
                weight,
                z,
                x,
            });
        }
    }
    rows.sort_by_key(|r| r.event);
    flow.aligned = rows.len() as u64;
    if flow.unmatched_entries > 0 || partons.events != detector.entries {
        log::warn!(
            "{} ({} events) and {} ({} entries) differ: {} selected Delphes entries name no LHE \
             event, {} LHE events have no Delphes entry; aligned what matches",
            pair.lhe.display(),
            partons.events,
            pair.delphes.display(),
            detector.entries,
            flow.unmatched_entries,
            flow.lhe_without_entry
        );
    }
    if flow.duplicate_entries > 0 {
        log::warn!(
            "{}: {} entries repeat an earlier entry's Event.Number; only the first is used",
            pair.delphes.display(),
            flow.duplicate_entries
        );
    }
    log::debug!("{}: {} aligned events", pair.lhe.display(), flow.aligned);
    Ok((flow, rows))
}

struct PartonSide {
    events: u64,
    selected: HashMap<u64, (f64, Vec<f64>)>,
    dropped: std::collections::BTreeMap<String, u64>,
}

fn read_partons(selection: &Selection, path: &Path) -> Result<PartonSide, Error> {
    let mut reader = LheReader::open(path)?;
    let mut side = PartonSide {
        events: 0,
        selected: HashMap::new(),
        dropped: Default::default(),
    };
    while let Some(event) = reader.next_event()? {
        side.events += 1;
        match selection.partons(&event) {
            Ok(z) => {
                side.selected.insert(event.index, (event.weight, z));
            }
            Err(reason) => *side.dropped.entry(reason).or_default() += 1,
        }
    }
    Ok(side)
}

struct DetectorSide {
    entries: u64,
    selected: Vec<(i64, Vec<f64>)>,
    dropped: std::collections::BTreeMap<String, u64>,
    /// The event number of every entry, selected or not, for Delphes input
    /// aligned by event number (`None` otherwise). Empty for a tree with no
    /// entry, which leaves every LHE event without one.
    numbers: Option<Vec<i64>>,
}

fn read_detector(
    card: &RunCard,
    selection: &Selection,
    path: &Path,
) -> Result<DetectorSide, Error> {
    if is_export(card, path) {
        let e = read_exported(card, selection, path, true)?;
        return Ok(DetectorSide {
            entries: e.entries,
            selected: e.number.into_iter().zip(e.x).collect(),
            dropped: e.dropped,
            numbers: None,
        });
    }
    let mut reader =
        DelphesReader::open(path, &card.inputs.tree, &card.delphes, selection.wanted())?;
    let mut side = DetectorSide {
        entries: reader.entries(),
        selected: Vec::new(),
        dropped: Default::default(),
        numbers: (card.inputs.align == Align::EventNumber).then(Vec::new),
    };
    loop {
        let chunk = reader.next_chunk()?;
        if chunk.is_empty() {
            break;
        }
        for event in chunk {
            let number = match card.inputs.align {
                Align::EventNumber => event.number.unwrap_or(-1),
                Align::Entry => event.entry as i64,
            };
            if let Some(numbers) = &mut side.numbers {
                numbers.push(number);
            }
            match selection.objects(&event) {
                Ok(x) => side.selected.push((number, x)),
                Err(reason) => *side.dropped.entry(reason).or_default() += 1,
            }
        }
    }
    Ok(side)
}

/// Whether `path` is an otus ROOT export (tree `export.tree`, no tree
/// `inputs.tree`) rather than a Delphes file.
pub(crate) fn is_export(card: &RunCard, path: &Path) -> bool {
    crate::io::otus::is_export(path, &card.export.tree, &card.inputs.tree)
}

/// Entries of an otus export that pass the card's pT and |eta| cuts.
pub(crate) struct ExportedSide {
    /// Entries in the tree.
    pub entries: u64,
    /// `Event_Number` of each selected entry.
    pub number: Vec<i64>,
    /// `Event_Weight` of each selected entry.
    pub weight: Vec<f64>,
    /// x of each selected entry.
    pub x: Vec<Vec<f64>>,
    /// Entries dropped, by reason.
    pub dropped: std::collections::BTreeMap<String, u64>,
}

/// Reads an otus export as detector-level events: the card's objects by
/// name, with the card's pT and |eta| cuts applied
/// ([`Selection::exported`]). With `first_draw_only`, entries of draws
/// other than 0 are dropped (counted as such): ingest pairs each LHE event
/// with one detector outcome.
pub(crate) fn read_exported(
    card: &RunCard,
    selection: &Selection,
    path: &Path,
    first_draw_only: bool,
) -> Result<ExportedSide, Error> {
    let names = card.object_names();
    let e = crate::io::otus::read(path, &card.export.tree, &names)?;
    let mut side = ExportedSide {
        entries: e.event.len() as u64,
        number: Vec::new(),
        weight: Vec::new(),
        x: Vec::new(),
        dropped: Default::default(),
    };
    let width = 4 * names.len();
    for (i, x) in e.values.chunks(width.max(1)).enumerate() {
        if first_draw_only && e.draw[i] != 0 {
            *side
                .dropped
                .entry("draws other than 0 (ingest keeps draw 0)".to_string())
                .or_default() += 1;
            continue;
        }
        match selection.exported(x) {
            Ok(()) => {
                side.number.push(e.event[i]);
                side.weight.push(e.weight[i]);
                side.x.push(x.to_vec());
            }
            Err(reason) => *side.dropped.entry(reason).or_default() += 1,
        }
    }
    Ok(side)
}
