//! Reading back the flat trees `otus simulate` writes
//! ([`crate::export::root`]), so that an exported sample can stand where a
//! Delphes file stands: as the detector-level input of `ingest`, `unfold`
//! and `evaluate --simulated`.
//!
//! An exported tree holds the card's objects by name, already selected, so
//! no collection is searched: each object's (Px, Py, Pz, E) is read from its
//! branches (float32, widened exactly to f64).

use std::path::Path;

use crate::export::root::{EVENT_DRAW, EVENT_NUMBER, EVENT_WEIGHT, branch};
use crate::io::root::{RootError, RootFile};

/// The four-momentum branches of an object, in column order (px, py, pz, E).
pub const MOMENTUM: [&str; 4] = ["Px", "Py", "Pz", "E"];

/// Whether `path` is a ROOT file whose tree `tree` is an otus export (it
/// has an `Event_Draw` branch) and holds no tree named `delphes_tree`.
/// Files that cannot be opened are not exports (the Delphes reader then
/// reports why).
pub fn is_export(path: &Path, tree: &str, delphes_tree: &str) -> bool {
    let Ok(file) = RootFile::open(path) else {
        return false;
    };
    let has = |name: &str| {
        file.keys()
            .iter()
            .any(|k| k.name == name && k.class_name == "TTree")
    };
    !has(delphes_tree)
        && has(tree)
        && file
            .tree(tree)
            .is_ok_and(|t| t.has_branch(EVENT_DRAW) && t.has_branch(EVENT_NUMBER))
}

/// The entries of an exported tree.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExportedEvents {
    /// `Event_Number` of each entry.
    pub event: Vec<i64>,
    /// `Event_Draw` of each entry.
    pub draw: Vec<i64>,
    /// `Event_Weight` of each entry.
    pub weight: Vec<f64>,
    /// (px, py, pz, E) of each requested object, row-major, GeV.
    pub values: Vec<f64>,
}

/// Reads every entry of tree `tree` in `path` for the objects `names`, in
/// that order. A missing branch is an error naming it and the closest ones.
pub fn read(path: &Path, tree: &str, names: &[String]) -> Result<ExportedEvents, RootError> {
    let t = RootFile::open(path)?.tree(tree)?;
    let all = 0..t.entries();
    let event = t.read_i64(EVENT_NUMBER, all.clone())?.values;
    let draw = t.read_i64(EVENT_DRAW, all.clone())?.values;
    let weight = t.read_f64(EVENT_WEIGHT, all.clone())?.values;
    let n = event.len();
    // Every branch must hold one value per entry; a shorter one (a file
    // not written by otus, or damaged) is an error naming it.
    let check = |name: &str, len: usize| {
        if len == n {
            Ok(())
        } else {
            Err(RootError::Malformed {
                path: path.into(),
                context: format!("tree {tree}, branch {name}"),
                detail: format!("{len} values for {n} entries of {EVENT_NUMBER}"),
            })
        }
    };
    check(EVENT_DRAW, draw.len())?;
    check(EVENT_WEIGHT, weight.len())?;
    let mut columns = Vec::with_capacity(4 * names.len());
    for name in names {
        for q in MOMENTUM {
            let b = branch(name, q);
            let values = t.read_f64(&b, all.clone())?.values;
            check(&b, values.len())?;
            columns.push(values);
        }
    }
    let mut values = Vec::with_capacity(n * columns.len());
    for i in 0..n {
        values.extend(columns.iter().map(|c| c[i]));
    }
    Ok(ExportedEvents {
        event,
        draw,
        weight,
        values,
    })
}
