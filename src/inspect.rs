//! What a file holds: an LHE file's generator, processes, events and
//! weights, or a ROOT file's keys, trees and branches.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::Path;

use serde::Serialize;

use crate::Error;
use crate::io::lhe::LheReader;
use crate::io::root::RootFile;

/// A summary of one file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "format", rename_all = "lowercase")]
pub enum Inspection {
    /// A Les Houches Event file.
    Lhe(LheSummary),
    /// A ROOT file.
    Root(RootSummary),
}

/// What an LHE file holds.
#[derive(Debug, Clone, Serialize)]
pub struct LheSummary {
    /// The file.
    pub path: String,
    /// LHEF version.
    pub version: String,
    /// Generator, when the header names it.
    pub generator: Option<String>,
    /// Beam PDG ids.
    pub beams: [i32; 2],
    /// Beam energies, GeV.
    pub beam_energies: [f64; 2],
    /// IDWTUP.
    pub weight_strategy: i32,
    /// Declared processes: (LPRUP, XSECUP pb, XERRUP pb).
    pub processes: Vec<(i32, f64, f64)>,
    /// Events read.
    pub events: u64,
    /// Events per process id (IDRUP).
    pub events_per_process: BTreeMap<i32, u64>,
    /// Sum of nominal weights.
    pub weight_sum: f64,
    /// Smallest and largest nominal weight.
    pub weight_range: (f64, f64),
    /// Events with a negative nominal weight.
    pub negative_weights: u64,
    /// Alternative weights per event (of the first event).
    pub alt_weights: usize,
    /// Final-state (status 1) particles by PDG id, summed over events.
    pub final_state: BTreeMap<i32, u64>,
}

/// What a ROOT file holds.
#[derive(Debug, Clone, Serialize)]
pub struct RootSummary {
    /// The file.
    pub path: String,
    /// Top-level keys: (name, class, cycle).
    pub keys: Vec<(String, String, u16)>,
    /// Trees with their entries and branches.
    pub trees: Vec<TreeSummary>,
}

/// One tree.
#[derive(Debug, Clone, Serialize)]
pub struct TreeSummary {
    /// Tree name.
    pub name: String,
    /// Entries.
    pub entries: u64,
    /// Branches: (full name, type).
    pub branches: Vec<(String, String)>,
}

/// Reads a file and summarizes it; ROOT is recognized by its magic bytes,
/// anything else is read as LHE.
pub fn inspect(path: &Path) -> Result<Inspection, Error> {
    let mut magic = [0u8; 4];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut magic))
        .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    if n == 0 {
        return Err(Error::Other(format!(
            "{}: the file is empty; expected an LHE or a ROOT file",
            path.display()
        )));
    }
    if n == 4 && &magic == b"root" {
        return inspect_root(path).map(Inspection::Root);
    }
    inspect_lhe(path).map(Inspection::Lhe)
}

fn inspect_lhe(path: &Path) -> Result<LheSummary, Error> {
    let mut reader = LheReader::open(path)?;
    let info = reader.run_info().clone();
    let mut s = LheSummary {
        path: path.display().to_string(),
        version: info.version,
        generator: info.generator,
        beams: info.beam_ids,
        beam_energies: info.beam_energies,
        weight_strategy: info.weight_strategy,
        processes: info.processes,
        events: 0,
        events_per_process: BTreeMap::new(),
        weight_sum: 0.0,
        weight_range: (f64::INFINITY, f64::NEG_INFINITY),
        negative_weights: 0,
        alt_weights: 0,
        final_state: BTreeMap::new(),
    };
    while let Some(e) = reader.next_event()? {
        if s.events == 0 {
            s.alt_weights = e.alt_weights.len();
        }
        s.events += 1;
        *s.events_per_process.entry(e.process_id).or_default() += 1;
        s.weight_sum += e.weight;
        s.weight_range.0 = s.weight_range.0.min(e.weight);
        s.weight_range.1 = s.weight_range.1.max(e.weight);
        s.negative_weights += u64::from(e.weight < 0.0);
        for p in e.particles.iter().filter(|p| p.status == 1) {
            *s.final_state.entry(p.pdg).or_default() += 1;
        }
    }
    Ok(s)
}

fn inspect_root(path: &Path) -> Result<RootSummary, Error> {
    let file = RootFile::open(path)?;
    let keys: Vec<(String, String, u16)> = file
        .keys()
        .iter()
        .map(|k| (k.name.clone(), k.class_name.clone(), k.cycle))
        .collect();
    let mut trees = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (name, class, _) in &keys {
        if class == "TTree" && seen.insert(name.clone()) {
            let tree = file.tree(name)?;
            trees.push(TreeSummary {
                name: name.clone(),
                entries: tree.entries(),
                branches: tree
                    .branches()
                    .map(|b| (b.name.clone(), b.type_name.clone()))
                    .collect(),
            });
        }
    }
    Ok(RootSummary {
        path: path.display().to_string(),
        keys,
        trees,
    })
}

impl fmt::Display for Inspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Inspection::Lhe(s) => {
                writeln!(f, "{}: LHE {}", s.path, s.version)?;
                writeln!(
                    f,
                    "  generator      {}",
                    s.generator.as_deref().unwrap_or("unknown")
                )?;
                writeln!(
                    f,
                    "  beams          {} ({} GeV) x {} ({} GeV)",
                    s.beams[0], s.beam_energies[0], s.beams[1], s.beam_energies[1]
                )?;
                writeln!(f, "  IDWTUP         {}", s.weight_strategy)?;
                for (id, xs, err) in &s.processes {
                    writeln!(f, "  process {id:<6} sigma = {xs:.6e} +- {err:.3e} pb")?;
                }
                writeln!(f, "  events         {}", s.events)?;
                for (id, n) in &s.events_per_process {
                    writeln!(f, "    IDRUP {id:<8} {n}")?;
                }
                writeln!(
                    f,
                    "  weights        sum {:.6e}, min {:.6e}, max {:.6e}, negative {}, alternatives {}",
                    s.weight_sum,
                    s.weight_range.0,
                    s.weight_range.1,
                    s.negative_weights,
                    s.alt_weights
                )?;
                let fs: Vec<String> = s
                    .final_state
                    .iter()
                    .map(|(k, v)| format!("{k}:{v}"))
                    .collect();
                writeln!(f, "  final state    {}", fs.join(" "))
            }
            Inspection::Root(s) => {
                writeln!(f, "{}: ROOT file", s.path)?;
                if s.keys.is_empty() {
                    writeln!(f, "  (no objects)")?;
                }
                for (name, class, cycle) in &s.keys {
                    writeln!(f, "  {name};{cycle}  {class}")?;
                }
                for t in &s.trees {
                    writeln!(
                        f,
                        "tree {} ({} entries, {} branches)",
                        t.name,
                        t.entries,
                        t.branches.len()
                    )?;
                    for (b, ty) in &t.branches {
                        writeln!(f, "  {b:<40} {ty}")?;
                    }
                }
                Ok(())
            }
        }
    }
}
