//! Flat ROOT trees of simulated (detector-level) or unfolded (parton-level)
//! events, written with oxyroot 0.1.25.
//!
//! # Layout
//!
//! One TTree (name from the card's `export.tree`, default `otus`), one entry
//! per output event, scalar branches only:
//!
//! | branch | type | meaning |
//! |---|---|---|
//! | `Event_Number` | `Long64_t` | event number of the input event (LHE position, Delphes `Event.Number`) |
//! | `Event_Draw` | `Int_t` | draw index for `--repeat` (0 to repeat - 1) |
//! | `Event_Weight` | `Double_t` | nominal weight of the input event (1 for Delphes input) |
//! | `<Collection>_size` | `Int_t` | detector level only: objects of that Delphes collection in the entry (`Electron_size`, `Jet_size`, `MissingET_size`) |
//! | `<obj>_PT`, `_Eta`, `_Phi` | `Float_t` | transverse momentum (GeV), pseudorapidity, azimuth (rad, in (-pi, pi]) |
//! | `<obj>_Px`, `_Py`, `_Pz`, `_E` | `Float_t` | four-momentum, GeV |
//!
//! `<obj>` is the card's object (detector level) or parton (parton level)
//! name. The four-momentum branches hold the model's float32 outputs
//! exactly; PT, Eta and Phi are computed from them in double precision and
//! rounded to float (Delphes' convention; Eta is +/-inf for an object along
//! the beam).
//!
//! # Workarounds for oxyroot 0.1.25
//!
//! * Its `std::vector` branches carry the type name `vector<int32_t>`, which
//!   uproot cannot read, so every branch is a scalar and the fixed
//!   multiplicities of our events are written as `_size` branches.
//! * Files over about 2 GB come out corrupt without an error (its 32-bit
//!   seeks), so an output larger than a limit (default
//!   [`DEFAULT_MAX_FILE_BYTES`]) is split into numbered files, each below it
//!   (`sim.root` becomes `sim_000.root`, `sim_001.root`, ...).
//! * A file is complete on disk only once the `RootFile` is dropped (its
//!   buffered writer flushes on drop and drops errors), so every part is
//!   closed, dropped, synced and read back with our reader (entry count and
//!   last event number) before any part is renamed into place.
//! * It writes baskets uncompressed: about 4 bytes per float per entry.
//!
//! Parts are written as hidden `.part` files in the destination folder and
//! renamed together at the end, so an interrupted export leaves no file that
//! looks complete.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::{ExportError, ExportObject, Exported, folder_of};
use crate::frames::Space;
use crate::physics::FourVector;

/// Branch of the event number (`Long64_t`).
pub const EVENT_NUMBER: &str = "Event_Number";
/// Branch of the draw index (`Int_t`).
pub const EVENT_DRAW: &str = "Event_Draw";
/// Branch of the nominal weight (`Double_t`).
pub const EVENT_WEIGHT: &str = "Event_Weight";
/// The per-object quantities, in branch order (all `Float_t`).
pub const KINEMATICS: [&str; 7] = ["PT", "Eta", "Phi", "Px", "Py", "Pz", "E"];

/// Default size limit of one output file, bytes (1 GB, half of where
/// oxyroot's files break).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 1_000_000_000;
/// The largest limit accepted, bytes: below 2^31, where oxyroot's 32-bit
/// seeks overflow.
pub const MAX_FILE_BYTES: u64 = 2_000_000_000;
/// A written part larger than this is refused as corrupt.
const CORRUPT_ABOVE: u64 = (1 << 31) - 1;
/// oxyroot's basket size, bytes.
const BASKET_BYTES: f64 = 32_768.0;

/// Settings of a ROOT export.
#[derive(Debug, Clone)]
pub struct RootSettings {
    /// TTree name (the card's `export.tree`).
    pub tree: String,
    /// Largest size of one file, bytes, from the smallest file's size (a few
    /// kB) to [`MAX_FILE_BYTES`]; larger outputs are split.
    pub max_file_bytes: u64,
}

/// The branch of one quantity of an object: `em_PT`.
pub fn branch(object: &str, quantity: &str) -> String {
    format!("{object}_{quantity}")
}

/// The multiplicity branch of a collection: `Jet_size`.
pub fn size_branch(collection: &str) -> String {
    format!("{collection}_size")
}

/// The distinct collections of the objects, in order of first use, with
/// how many objects each holds.
pub fn collections(objects: &[ExportObject]) -> Vec<(String, i32)> {
    let mut out: Vec<(String, i32)> = Vec::new();
    for c in objects.iter().filter_map(|o| o.collection.as_ref()) {
        match out.iter_mut().find(|(name, _)| name == c) {
            Some((_, n)) => *n += 1,
            None => out.push((c.clone(), 1)),
        }
    }
    out
}

/// The branches of a layout with their size in bytes per entry, in order.
fn layout(events: &Exported) -> Vec<(String, usize)> {
    let mut b = vec![
        (EVENT_NUMBER.to_string(), 8),
        (EVENT_DRAW.to_string(), 4),
        (EVENT_WEIGHT.to_string(), 8),
    ];
    if events.space == Space::Detector {
        b.extend(
            collections(events.objects)
                .into_iter()
                .map(|(c, _)| (size_branch(&c), 4)),
        );
    }
    for o in events.objects {
        b.extend(KINEMATICS.iter().map(|q| (branch(&o.name, q), 4)));
    }
    b
}

/// Estimated bytes per entry and fixed bytes per file: the values, plus
/// per basket its key and its place in the branch record.
fn estimate(events: &Exported, tree: &str) -> (f64, f64) {
    let branches = layout(events);
    let per_entry = branches
        .iter()
        .map(|(name, s)| {
            let per_basket = 200.0 + 2.0 * (name.len() + tree.len()) as f64;
            *s as f64 * (1.0 + per_basket / (BASKET_BYTES - 1024.0))
        })
        .sum();
    let fixed = 8192.0
        + branches
            .iter()
            .map(|(name, _)| 1024.0 + 4.0 * name.len() as f64)
            .sum::<f64>();
    (per_entry, fixed)
}

/// Writes `events` as one or more ROOT files and returns their paths: `path`
/// itself when one file holds them all, otherwise `<stem>_000.root`,
/// `<stem>_001.root`, ... beside it, each below `settings.max_file_bytes`.
pub fn write(
    path: &Path,
    events: &Exported,
    settings: &RootSettings,
) -> Result<Vec<PathBuf>, ExportError> {
    events.check(path)?;
    let invalid = |message: String| ExportError::Invalid {
        path: path.into(),
        message,
    };
    if path.to_str().is_none() {
        return Err(invalid("the ROOT writer needs a UTF-8 path".into()));
    }
    let (per_entry, fixed) = estimate(events, &settings.tree);
    let smallest = (fixed + per_entry).ceil() as u64;
    if settings.max_file_bytes > MAX_FILE_BYTES || settings.max_file_bytes < smallest {
        return Err(invalid(format!(
            "a file size limit of {} bytes: expected {smallest} (one entry of this layout) to \
             {MAX_FILE_BYTES} bytes",
            settings.max_file_bytes
        )));
    }
    let rows = events.rows();
    let per_part = (((settings.max_file_bytes as f64 - fixed) / per_entry).floor() as usize).max(1);
    let parts = rows.div_ceil(per_part).max(1);
    let targets = part_paths(path, parts);

    let dir = folder_of(path);
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Io {
        path: dir.into(),
        source,
    })?;
    let mut written = Vec::with_capacity(parts);
    for (k, target) in targets.iter().enumerate() {
        let range = k * per_part..((k + 1) * per_part).min(rows);
        let tmp = write_part(target, events, &settings.tree, range.clone())?;
        let bytes = tmp.as_file().metadata().map(|m| m.len()).unwrap_or(0);
        log::info!(
            "ROOT part {}/{parts}: {} entries, {bytes} bytes ({:.1} bytes/entry)",
            k + 1,
            range.len(),
            bytes as f64 / range.len().max(1) as f64
        );
        written.push(tmp);
    }
    for (tmp, target) in written.into_iter().zip(&targets) {
        tmp.persist(target).map_err(|e| ExportError::Io {
            path: target.clone(),
            source: e.error,
        })?;
    }
    let next = part_paths(path, parts + 1);
    if let Some(stale) = next.last().filter(|p| parts > 1 && p.exists()) {
        log::warn!(
            "{} is left from an earlier, larger export; it is not part of this one",
            stale.display()
        );
    }
    Ok(targets)
}

/// `path` for one part; `<stem>_000.root`, ... for several (at least three
/// digits, more when needed, so names sort in order).
pub fn part_paths(path: &Path, parts: usize) -> Vec<PathBuf> {
    if parts <= 1 {
        return vec![path.to_path_buf()];
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (stem, ext) = match name.len().checked_sub(5) {
        Some(i) if name.is_char_boundary(i) && name[i..].eq_ignore_ascii_case(".root") => {
            (name[..i].to_string(), name[i..].to_string())
        }
        _ => (name.clone(), ".root".to_string()),
    };
    let width = (parts - 1).to_string().len().max(3);
    (0..parts)
        .map(|k| path.with_file_name(format!("{stem}_{k:0width$}{ext}")))
        .collect()
}

/// Writes rows `range` into a temporary file beside `target`, closes it,
/// syncs it and reads it back; returns the temporary file.
fn write_part(
    target: &Path,
    events: &Exported,
    tree: &str,
    range: Range<usize>,
) -> Result<tempfile::NamedTempFile, ExportError> {
    let io = |source| ExportError::Io {
        path: target.into(),
        source,
    };
    let root = |message: String| ExportError::Root {
        path: target.into(),
        message,
    };
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".part")
        .tempfile_in(folder_of(target))
        .map_err(io)?;
    let tmp_path = tmp.path().to_path_buf();

    let columns = Columns::of(events, range.clone());
    let tree_name = tree.to_string();
    // oxyroot signals some failures by panicking; they become errors here.
    let outcome = crate::catch_panic(move || -> Result<(), String> {
        let mut file = oxyroot::RootFile::create(&tmp_path).map_err(oxyroot_message)?;
        let mut t = oxyroot::WriterTree::new(&tree_name);
        columns.add_to(&mut t);
        t.write(&mut file).map_err(oxyroot_message)?;
        file.close().map_err(oxyroot_message)?;
        drop(file); // flushes the buffered writer: only now is the file complete
        Ok(())
    });
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(root(e)),
        Err(what) => return Err(root(format!("the writer (oxyroot) panicked: {what}"))),
    }
    tmp.as_file().sync_all().map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::Permissions::from_mode(0o644);
        tmp.as_file().set_permissions(mode).map_err(io)?;
    }
    verify(&tmp, target, events, tree, range)?;
    Ok(tmp)
}

/// An oxyroot error in words. oxyroot 0.1.25 displays its errors in their
/// `Debug` form (`IO/Root Error: Io(Os { code: 28, kind: StorageFull, .. })`)
/// and keeps their type private, so an operating-system error, the kind a
/// user acts on (a full disk, a read-only folder), is recovered from that
/// text and given as the system's message; other errors keep oxyroot's text.
fn oxyroot_message(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    let code = text
        .split("Os { code: ")
        .nth(1)
        .and_then(|rest| rest.split(',').next())
        .and_then(|c| c.trim().parse::<i32>().ok());
    match code {
        Some(code) => std::io::Error::from_raw_os_error(code).to_string(),
        None => text,
    }
}

/// Reads a written part back: its size, entry count and last event number.
fn verify(
    tmp: &tempfile::NamedTempFile,
    target: &Path,
    events: &Exported,
    tree: &str,
    range: Range<usize>,
) -> Result<(), ExportError> {
    let root = |message: String| ExportError::Root {
        path: target.into(),
        message,
    };
    let bytes = tmp.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    if bytes > CORRUPT_ABOVE {
        return Err(root(format!(
            "a part of {bytes} bytes came out; ROOT files over 2 GiB written by oxyroot are \
             corrupt: lower the file size limit"
        )));
    }
    let readback =
        |e: crate::io::root::RootError| root(format!("the written file does not read back: {e}"));
    let file = crate::io::root::RootFile::open(tmp.path()).map_err(readback)?;
    let t = file.tree(tree).map_err(readback)?;
    if t.entries() != range.len() as u64 {
        return Err(root(format!(
            "the written tree holds {} entries, expected {}",
            t.entries(),
            range.len()
        )));
    }
    if let Some(last) = range.len().checked_sub(1) {
        let got = t
            .read_i64(EVENT_NUMBER, last as u64..last as u64 + 1)
            .map_err(readback)?;
        let want = events.identity(range.end - 1).0;
        if got.values != [want] {
            return Err(root(format!(
                "the last entry's {EVENT_NUMBER} reads back as {:?}, expected {want}",
                got.values
            )));
        }
    }
    Ok(())
}

/// The branch values of a range of rows, owned (oxyroot consumes `'static`
/// iterators).
struct Columns {
    number: Vec<i64>,
    draw: Vec<i32>,
    weight: Vec<f64>,
    sizes: Vec<(String, i32)>,
    rows: usize,
    /// Per object: its name and the seven quantities of [`KINEMATICS`].
    kinematics: Vec<(String, [Vec<f32>; 7])>,
}

impl Columns {
    fn of(events: &Exported, range: Range<usize>) -> Self {
        let n = range.len();
        let mut c = Columns {
            number: Vec::with_capacity(n),
            draw: Vec::with_capacity(n),
            weight: Vec::with_capacity(n),
            sizes: match events.space {
                Space::Detector => collections(events.objects),
                Space::Parton => Vec::new(),
            },
            rows: n,
            kinematics: Vec::with_capacity(events.objects.len()),
        };
        for i in range.clone() {
            let (e, d, w) = events.identity(i);
            c.number.push(e);
            c.draw.push(d);
            c.weight.push(w);
        }
        for (k, o) in events.objects.iter().enumerate() {
            let mut q: [Vec<f32>; 7] = Default::default();
            for v in q.iter_mut() {
                v.reserve(n);
            }
            for i in range.clone() {
                let [px, py, pz, e] = events.momentum(i, k);
                let p = FourVector::new(px, py, pz, e);
                let values = [p.pt(), p.eta(), p.phi(), px, py, pz, e];
                for (v, x) in q.iter_mut().zip(values) {
                    v.push(x as f32);
                }
            }
            c.kinematics.push((o.name.clone(), q));
        }
        c
    }

    fn add_to(self, t: &mut oxyroot::WriterTree) {
        t.new_branch(EVENT_NUMBER, self.number.into_iter());
        t.new_branch(EVENT_DRAW, self.draw.into_iter());
        t.new_branch(EVENT_WEIGHT, self.weight.into_iter());
        for (c, n) in self.sizes {
            t.new_branch(size_branch(&c), std::iter::repeat_n(n, self.rows));
        }
        for (name, q) in self.kinematics {
            for (values, quantity) in q.into_iter().zip(KINEMATICS) {
                t.new_branch(branch(&name, quantity), values.into_iter());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn oxyroot_os_errors_are_put_in_words() {
        let io = std::io::Error::from_raw_os_error(28);
        let debug = format!("IO/Root Error: Io({io:?})");
        assert!(debug.contains("Os { code: 28"), "{debug}");
        assert_eq!(
            super::oxyroot_message(&debug),
            "No space left on device (os error 28)"
        );
        let other = "IO/Root Error: KeyNotInFile { key: \"t\" }";
        assert_eq!(super::oxyroot_message(other), other);
    }

    use super::*;

    #[test]
    fn parts_are_numbered_beside_the_target() {
        assert_eq!(
            part_paths(Path::new("d/sim.root"), 1),
            vec![PathBuf::from("d/sim.root")]
        );
        let p = part_paths(Path::new("d/sim.root"), 2);
        assert_eq!(p[1], PathBuf::from("d/sim_001.root"));
        let p = part_paths(Path::new("sim.ROOT"), 1001);
        assert_eq!(p[0], PathBuf::from("sim_0000.ROOT"));
        assert_eq!(p[1000], PathBuf::from("sim_1000.ROOT"));
    }

    #[test]
    fn collections_count_their_objects_in_order() {
        let o = |name: &str, c: &str| ExportObject {
            name: name.into(),
            collection: Some(c.into()),
            pdg: 0,
            status: 0,
            mass: 0.0,
        };
        let objects = [
            o("em", "Electron"),
            o("met", "MissingET"),
            o("j1", "Jet"),
            o("j2", "Jet"),
        ];
        assert_eq!(
            collections(&objects),
            vec![
                ("Electron".to_string(), 1),
                ("MissingET".to_string(), 1),
                ("Jet".to_string(), 2)
            ]
        );
    }
}
