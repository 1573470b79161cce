//! Delphes detector-level events (tree `Delphes`, split `TClonesArray`
//! collections; see the Delphes classes in `classes/DelphesClasses.h`), read
//! through our own TTree reader ([`crate::io::root`]) in chunks of entries so
//! that memory stays flat in the number of events.

use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::card::Collections;
use crate::io::root::{Jagged, RootError, RootFile, Tree};

/// Entries read per chunk.
pub const CHUNK_ENTRIES: u64 = 8192;

/// An error while reading a Delphes file.
#[derive(Debug, thiserror::Error)]
pub enum DelphesError {
    /// The ROOT layer failed.
    #[error(transparent)]
    Root(#[from] RootError),
    /// A collection the card asks for is not in the tree.
    #[error(
        "{path}: tree {tree:?} has no collection {name:?} (the card's `delphes.{key}`); collections present: {present}"
    )]
    MissingCollection {
        /// The file.
        path: PathBuf,
        /// The tree.
        tree: String,
        /// The card key naming it.
        key: &'static str,
        /// The missing name.
        name: String,
        /// Top-level branches of the tree.
        present: String,
    },
    /// Branches disagree with each other.
    #[error("{path}: entries {entries:?}: {message}")]
    Inconsistent {
        /// The file.
        path: PathBuf,
        /// Entry range.
        entries: Range<u64>,
        /// What disagrees.
        message: String,
    },
}

/// A reconstructed object: pT (GeV, >= 0), eta, phi (rad) and, for leptons,
/// the charge (-1 or +1; 0 otherwise).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Transverse momentum, GeV.
    pub pt: f64,
    /// Pseudorapidity.
    pub eta: f64,
    /// Azimuth, rad.
    pub phi: f64,
    /// Electric charge in units of e (leptons), 0 for neutral objects.
    pub charge: i32,
}

/// Missing transverse energy (`MissingET`): magnitude MET (GeV), the eta
/// Delphes stores for it, and its azimuth phi (rad).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MissingEt {
    /// Magnitude, GeV.
    pub met: f64,
    /// Eta of the negative vector sum of visible momenta (Delphes convention).
    pub eta: f64,
    /// Azimuth, rad.
    pub phi: f64,
}

/// One Delphes entry, holding the collections the card asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DetectorEvent {
    /// 0-based entry in the tree.
    pub entry: u64,
    /// `Event.Number`, if read.
    pub number: Option<i64>,
    /// Electrons.
    pub electrons: Vec<Candidate>,
    /// Muons.
    pub muons: Vec<Candidate>,
    /// Photons.
    pub photons: Vec<Candidate>,
    /// Jets.
    pub jets: Vec<Candidate>,
    /// Missing ET (the first, and in Delphes only, element).
    pub met: Option<MissingEt>,
}

/// Which collections to read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted {
    /// `Event.Number`.
    pub number: bool,
    /// Electrons.
    pub electrons: bool,
    /// Muons.
    pub muons: bool,
    /// Photons.
    pub photons: bool,
    /// Jets.
    pub jets: bool,
    /// Missing ET.
    pub met: bool,
}

/// Where a collection's candidates go in a [`DetectorEvent`].
type CollectionField = fn(&mut DetectorEvent) -> &mut Vec<Candidate>;

/// Reads Delphes entries chunk by chunk.
pub struct DelphesReader {
    path: PathBuf,
    tree: Tree,
    names: Collections,
    wanted: Wanted,
    next: u64,
}

impl DelphesReader {
    /// Opens `tree_name` (highest cycle) in `path` and checks that every
    /// wanted collection is present.
    pub fn open(
        path: impl AsRef<Path>,
        tree_name: &str,
        names: &Collections,
        wanted: Wanted,
    ) -> Result<Self, DelphesError> {
        let path = path.as_ref().to_path_buf();
        let file = RootFile::open(&path)?;
        let tree = file.tree(tree_name)?;
        let reader = Self {
            path,
            tree,
            names: names.clone(),
            wanted,
            next: 0,
        };
        let checks: [(bool, &'static str, &str, &str); 6] = [
            (wanted.number, "event", &names.event, "Number"),
            (wanted.electrons, "electron", &names.electron, "PT"),
            (wanted.muons, "muon", &names.muon, "PT"),
            (wanted.photons, "photon", &names.photon, "PT"),
            (wanted.jets, "jet", &names.jet, "PT"),
            (wanted.met, "missing_et", &names.missing_et, "MET"),
        ];
        for (on, key, name, member) in checks {
            if on && !reader.tree.has_branch(&format!("{name}.{member}")) {
                return Err(reader.missing(key, name));
            }
        }
        Ok(reader)
    }

    fn missing(&self, key: &'static str, name: &str) -> DelphesError {
        let mut present: Vec<String> = self
            .tree
            .branches()
            .map(|b| b.name.split('.').next().unwrap_or("").to_string())
            .collect();
        present.dedup();
        DelphesError::MissingCollection {
            path: self.path.clone(),
            tree: self.tree.name().to_string(),
            key,
            name: name.to_string(),
            present: if present.is_empty() {
                "none".into()
            } else {
                present.join(", ")
            },
        }
    }

    /// Number of entries in the tree.
    pub fn entries(&self) -> u64 {
        self.tree.entries()
    }

    /// The file being read.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the next chunk of at most [`CHUNK_ENTRIES`] entries; empty at the end.
    pub fn next_chunk(&mut self) -> Result<Vec<DetectorEvent>, DelphesError> {
        let start = self.next;
        let end = (start + CHUNK_ENTRIES).min(self.tree.entries());
        if start >= end {
            return Ok(Vec::new());
        }
        self.next = end;
        self.read(start..end)
    }

    /// Reads entries `range`.
    pub fn read(&self, range: Range<u64>) -> Result<Vec<DetectorEvent>, DelphesError> {
        let n = (range.end - range.start) as usize;
        let mut events: Vec<DetectorEvent> = (0..n)
            .map(|i| DetectorEvent {
                entry: range.start + i as u64,
                ..Default::default()
            })
            .collect();
        let w = self.wanted;
        if w.number {
            let numbers = self
                .tree
                .read_i64(&format!("{}.Number", self.names.event), range.clone())?;
            for (i, ev) in events.iter_mut().enumerate() {
                ev.number = numbers.entry(i).first().copied();
            }
        }
        let collections: [(bool, &str, bool, CollectionField); 4] = [
            (w.electrons, &self.names.electron, true, |e| {
                &mut e.electrons
            }),
            (w.muons, &self.names.muon, true, |e| &mut e.muons),
            (w.photons, &self.names.photon, false, |e| &mut e.photons),
            (w.jets, &self.names.jet, false, |e| &mut e.jets),
        ];
        for (on, name, charged, field) in collections {
            if !on {
                continue;
            }
            let pt = self.tree.read_f64(&format!("{name}.PT"), range.clone())?;
            let eta = self.tree.read_f64(&format!("{name}.Eta"), range.clone())?;
            let phi = self.tree.read_f64(&format!("{name}.Phi"), range.clone())?;
            let charge = if charged {
                Some(
                    self.tree
                        .read_i64(&format!("{name}.Charge"), range.clone())?,
                )
            } else {
                None
            };
            self.check_same_shape(&range, name, &pt, &[&eta, &phi])?;
            for (i, ev) in events.iter_mut().enumerate() {
                let q = charge.as_ref().map(|c| c.entry(i));
                let out = field(ev);
                for (k, ((&pt, &eta), &phi)) in pt
                    .entry(i)
                    .iter()
                    .zip(eta.entry(i))
                    .zip(phi.entry(i))
                    .enumerate()
                {
                    let charge = q.and_then(|q| q.get(k)).copied().unwrap_or(0) as i32;
                    out.push(Candidate {
                        pt,
                        eta,
                        phi,
                        charge,
                    });
                }
            }
        }
        if w.met {
            let name = &self.names.missing_et;
            let met = self.tree.read_f64(&format!("{name}.MET"), range.clone())?;
            let eta = self.tree.read_f64(&format!("{name}.Eta"), range.clone())?;
            let phi = self.tree.read_f64(&format!("{name}.Phi"), range.clone())?;
            self.check_same_shape(&range, name, &met, &[&eta, &phi])?;
            for (i, ev) in events.iter_mut().enumerate() {
                if let (Some(&m), Some(&e), Some(&p)) = (
                    met.entry(i).first(),
                    eta.entry(i).first(),
                    phi.entry(i).first(),
                ) {
                    ev.met = Some(MissingEt {
                        met: m,
                        eta: e,
                        phi: p,
                    });
                }
            }
        }
        Ok(events)
    }

    fn check_same_shape(
        &self,
        range: &Range<u64>,
        name: &str,
        first: &Jagged<f64>,
        others: &[&Jagged<f64>],
    ) -> Result<(), DelphesError> {
        if others.iter().all(|o| o.offsets == first.offsets) {
            return Ok(());
        }
        Err(DelphesError::Inconsistent {
            path: self.path.clone(),
            entries: range.clone(),
            message: format!("the members of {name} have different multiplicities"),
        })
    }
}
