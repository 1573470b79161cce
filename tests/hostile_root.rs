//! Unusual but valid ROOT layouts, written by ROOT 6.40 itself
//! (`scripts/make_root_fixtures.py`, files in `fixtures/hostile/`): every
//! compression algorithm, a basket over 16 MiB, two cycles of a tree, a tree
//! with no entry, a tree with no electron, and another Delphes card's
//! collection names. Values are compared with the original file
//! `zee_full_200.root` read by the same reader, whose values
//! `tests/root_reader.rs` checks against uproot.

mod common;

use std::path::{Path, PathBuf};

use common::{card_from, fixture, ingest, stderr};
use otus::frames;
use otus::io::root::{Jagged, RootFile, Tree};
use polars::prelude::DataFrame;

const ALGORITHMS: [&str; 4] = ["zlib", "lz4", "zstd", "lzma"];

fn hostile(name: &str) -> PathBuf {
    fixture("hostile").join(name)
}

fn tree(path: &Path, name: &str) -> Tree {
    RootFile::open(path).unwrap().tree(name).unwrap()
}

fn original() -> Tree {
    tree(&fixture("zee_full_200.root"), "Delphes")
}

/// Every readable branch of `t`, with its values over all entries.
fn all_values(t: &Tree) -> Vec<(String, Jagged<f64>)> {
    let names: Vec<String> = t
        .branches()
        .filter(|b| b.readable)
        .map(|b| b.name)
        .collect();
    assert!(names.len() > 100, "{} readable branches", names.len());
    names
        .into_iter()
        .map(|n| {
            let v = t.read_f64(&n, 0..t.entries()).unwrap();
            (n, v)
        })
        .collect()
}

/// Entry `i` of `j`, for the entries listed.
fn pick(j: &Jagged<f64>, entries: &[usize]) -> Vec<Vec<f64>> {
    entries.iter().map(|&i| j.entry(i).to_vec()).collect()
}

fn rows(j: &Jagged<f64>) -> Vec<Vec<f64>> {
    (0..j.len()).map(|i| j.entry(i).to_vec()).collect()
}

#[test]
fn every_compression_algorithm_reads_the_original_values() {
    let orig = original();
    for alg in ALGORITHMS {
        let t = tree(&hostile(&format!("zee200_{alg}.root")), "Delphes");
        assert_eq!(t.entries(), 200, "{alg}");
        for (name, values) in all_values(&t) {
            let want = orig.read_f64(&name, 0..200).unwrap();
            // NaN-safe comparison: bit patterns.
            let bits = |j: &Jagged<f64>| j.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(values.offsets, want.offsets, "{alg}: {name}");
            assert_eq!(bits(&values), bits(&want), "{alg}: {name}");
        }
    }
}

#[test]
fn a_basket_over_16_mib_reads_across_its_compressed_blocks() {
    // One basket of 100 entries x 50,000 floats (20 MB uncompressed), which
    // ROOT stores as a 16 MiB block and a 4 MB block.
    let expected = |e: usize, i: usize| ((e * 50_000 + i) % 1000) as f64 * 0.5;
    for alg in ALGORITHMS {
        let path = hostile(&format!("big_basket_{alg}.root"));
        let t = tree(&path, "big");
        assert_eq!(t.entries(), 100);
        let n = t.read_i64("n", 0..100).unwrap();
        assert!(n.values.iter().all(|&v| v == 50_000), "{alg}");
        let x = t.read_f64("x", 0..100).unwrap();
        assert_eq!(x.values.len(), 5_000_000, "{alg}");
        for e in [0, 1, 50, 83, 84, 99] {
            let row = x.entry(e);
            assert_eq!(row.len(), 50_000);
            assert!(
                row.iter().enumerate().all(|(i, &v)| v == expected(e, i)),
                "{alg}: entry {e}"
            );
        }
        // Entry 83 straddles the 16 MiB block boundary (83.9 entries of
        // 200,000 bytes fill 16 MiB); a range inside the basket reads the same.
        let part = t.read_f64("x", 83..85).unwrap();
        assert_eq!(
            rows(&part),
            vec![x.entry(83).to_vec(), x.entry(84).to_vec()]
        );
    }
}

#[test]
fn a_file_with_two_cycles_reads_the_highest_unless_one_is_named() {
    let path = hostile("zee200_two_cycles.root");
    let f = RootFile::open(&path).unwrap();
    let mut cycles: Vec<u16> = f
        .keys()
        .iter()
        .filter(|k| k.name == "Delphes")
        .map(|k| k.cycle)
        .collect();
    cycles.sort();
    assert_eq!(cycles, vec![1, 2]);
    let latest = f.tree("Delphes").unwrap();
    assert_eq!(latest.entries(), 200);
    let first = f.tree("Delphes;1").unwrap();
    assert_eq!(first.entries(), 50);
    let orig = original();
    for name in ["Electron.PT", "Jet.Eta", "MissingET.MET", "Event.Number"] {
        let all = orig.read_f64(name, 0..200).unwrap();
        assert_eq!(latest.read_f64(name, 0..200).unwrap(), all, "{name}");
        let head = orig.read_f64(name, 0..50).unwrap();
        assert_eq!(first.read_f64(name, 0..50).unwrap(), head, "{name}");
    }

    // Ingest reads the highest cycle, or the one the card names.
    let dir = tempfile::tempdir().unwrap();
    let frame = |tree: &str| {
        let edit = format!("tree = \"{tree}\"");
        ingest_frame(dir.path(), &path, &[("tree = \"Delphes\"", &edit)])
    };
    let events = |f: &DataFrame| -> Vec<i64> {
        f.column("event")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    let latest = events(&frame("Delphes"));
    let first = events(&frame("Delphes;1"));
    assert!(latest.len() > first.len() && !first.is_empty());
    let head: Vec<i64> = latest.iter().copied().filter(|&e| e < 50).collect();
    assert_eq!(first, head);
}

#[test]
fn a_tree_with_no_entry_reads_as_empty_and_ingest_reports_every_event_missing() {
    let path = hostile("zee200_zero_entries.root");
    let t = tree(&path, "Delphes");
    assert_eq!(t.entries(), 0);
    let full = tree(&hostile("zee200_zlib.root"), "Delphes");
    assert_eq!(t.branches().count(), full.branches().count());
    let e = t.read_f64("Electron.PT", 0..0).unwrap();
    assert_eq!(e.offsets, vec![0]);
    assert!(t.read_f64("Electron.PT", 0..1).is_err());

    let err = ingest_fails(&path, &[]);
    assert!(
        err.contains("zee200_zero_entries.root (0 entries)"),
        "{err}"
    );
    assert!(
        line_with(&err, "LHE events with no Delphes entry").ends_with(" 200"),
        "{err}"
    );
}

#[test]
fn a_tree_where_no_event_has_an_electron_reads_and_selects_nothing() {
    let path = hostile("zee200_no_electrons.root");
    let t = tree(&path, "Delphes");
    assert_eq!(t.entries(), 84);
    assert!(
        t.read_counts("Electron", 0..84)
            .unwrap()
            .iter()
            .all(|&c| c == 0)
    );
    let pt = t.read_f64("Electron.PT", 0..84).unwrap();
    assert!(pt.values.is_empty() && pt.offsets == vec![0; 85]);

    // The same events as the original's electron-less entries, branch by branch.
    let orig = original();
    let kept: Vec<usize> = orig
        .read_counts("Electron", 0..200)
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, c)| **c == 0)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(kept.len(), 84);
    for name in [
        "Event.Number",
        "Jet.PT",
        "Jet.Phi",
        "Muon.PT",
        "MissingET.MET",
    ] {
        let all = orig.read_f64(name, 0..200).unwrap();
        assert_eq!(
            rows(&t.read_f64(name, 0..84).unwrap()),
            pick(&all, &kept),
            "{name}"
        );
    }

    let err = ingest_fails(&path, &[]);
    assert!(err.contains("no event passed the selection"), "{err}");
    assert!(
        line_with(&err, "electrons: not exactly 2").contains("-84"),
        "{err}"
    );
    assert!(
        line_with(&err, "LHE events with no Delphes entry").ends_with(" 116"),
        "{err}"
    );
}

#[test]
fn other_delphes_cards_collection_names_select_the_same_events() {
    let dir = tempfile::tempdir().unwrap();
    let want = ingest_frame(dir.path(), &fixture("zee_full_200.root"), &[]);
    assert!(want.height() > 20, "{} events", want.height());

    let renamed = [
        ("electron = \"Electron\"", "electron = \"ElectronMedium\""),
        ("jet = \"Jet\"", "jet = \"JetPUPPI\""),
        (
            "missing_et = \"MissingET\"",
            "missing_et = \"PuppiMissingET\"",
        ),
    ];
    let got = ingest_frame(dir.path(), &hostile("zee200_puppi.root"), &renamed);
    assert!(got.equals(&want), "{got}\n{want}");

    // With the default names, the error lists what the file holds.
    let err = ingest_fails(&hostile("zee200_puppi.root"), &[]);
    assert!(
        err.contains("no collection \"Electron\"")
            && err.contains("ElectronMedium")
            && err.contains("JetPUPPI")
            && err.contains("PuppiMissingET"),
        "{err}"
    );

    // Every compression algorithm ingests to the same frame.
    for alg in ALGORITHMS {
        let got = ingest_frame(dir.path(), &hostile(&format!("zee200_{alg}.root")), &[]);
        assert!(got.equals(&want), "{alg}");
    }
}

/// Ingests [`pair_card`]`(delphes, edits)` in a new folder under `dir` and
/// returns the frame it wrote.
fn ingest_frame(dir: &Path, delphes: &Path, edits: &[(&str, &str)]) -> DataFrame {
    let d = tempfile::tempdir_in(dir).unwrap().keep();
    let card = pair_card(&d, delphes, edits);
    let o = ingest(&card, &d.join("out"));
    assert!(o.status.success(), "{}: {}", delphes.display(), stderr(&o));
    frames::read_parquet(&d.join("out/events.parquet")).unwrap()
}

/// Ingests [`pair_card`]`(delphes, edits)`, which must fail with status 1
/// and write no frame; returns its stderr.
fn ingest_fails(delphes: &Path, edits: &[(&str, &str)]) -> String {
    let d = tempfile::tempdir().unwrap();
    let card = pair_card(d.path(), delphes, edits);
    let out = d.path().join("out");
    let o = ingest(&card, &out);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        !out.join("events.parquet").exists(),
        "nothing written on error"
    );
    stderr(&o)
}

/// `cards/zee.toml` reading the one pair `zee_full_200.lhe.gz` + `delphes`,
/// with `edits` applied, written into `dir`.
fn pair_card(dir: &Path, delphes: &Path, edits: &[(&str, &str)]) -> PathBuf {
    card_from("zee.toml", dir, |text| {
        let start = text.find("pairs = [").unwrap();
        let end = start + text[start..].find("\n]\n").unwrap() + 3;
        let pair = format!(
            "pairs = [ {{ lhe = {:?}, delphes = {:?} }} ]\n",
            fixture("zee_full_200.lhe.gz"),
            delphes
        );
        let mut t = format!("{}{pair}{}", &text[..start], &text[end..]);
        for (from, to) in edits {
            assert!(t.contains(from), "{from}");
            t = t.replace(from, to);
        }
        t
    })
}

/// The first line of `text` that contains `what`, trimmed.
fn line_with<'a>(text: &'a str, what: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(what))
        .unwrap_or_else(|| panic!("no line with {what:?} in:\n{text}"))
        .trim()
}

#[test]
fn a_corrupted_basket_of_any_algorithm_is_an_error_naming_the_branch() {
    let dir = tempfile::tempdir().unwrap();
    for alg in ALGORITHMS {
        let full = std::fs::read(hostile(&format!("zee200_{alg}.root"))).unwrap();
        // The basket's key holds its class, branch and tree names, then the
        // 19-byte TBasket header, then the compressed block.
        let needle = b"\x07TBasket\x0bElectron.PT\x07Delphes";
        let at = full
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap_or_else(|| panic!("{alg}: no Electron.PT basket"));
        let block = at + needle.len() + 19;
        let csize = usize::from(full[block + 3])
            | usize::from(full[block + 4]) << 8
            | usize::from(full[block + 5]) << 16;
        // zlib (adler32), LZ4 (xxhash64) and xz (CRC) check their data, so
        // bytes changed in the middle are caught. ROOT writes ZSTD frames
        // without the optional checksum (frame header bit 2), so only a
        // change that breaks decoding can be caught there: its frame header.
        let at = if alg == "zstd" {
            let frame = &full[block + 9..];
            assert_eq!(&frame[..4], &[0x28, 0xb5, 0x2f, 0xfd], "zstd magic");
            assert_eq!(frame[4] & 0b100, 0, "ROOT's zstd frames carry no checksum");
            block + 9
        } else {
            block + 9 + csize / 2
        };
        let mut bad = full.clone();
        for b in &mut bad[at..at + 4] {
            *b ^= 0x5A;
        }
        let p = dir.path().join(format!("corrupt_{alg}.root"));
        std::fs::write(&p, &bad).unwrap();
        let t = tree(&p, "Delphes");
        let err = t.read_f64("Electron.PT", 0..200).unwrap_err().to_string();
        assert!(
            err.contains(&format!("corrupt_{alg}.root"))
                && err.contains("Electron.PT")
                && err.contains("entries 0..200"),
            "{alg}: {err}"
        );
        // Other branches still read.
        assert_eq!(t.read_f64("Jet.PT", 0..200).unwrap().len(), 200, "{alg}");
    }
}

#[test]
fn an_export_whose_event_draw_is_short_is_an_error_naming_the_branch() {
    // `Event_Draw[n]` holds a value in even entries only: 5 values for 10
    // entries, which would misalign every draw index after the first gap.
    let path = hostile("export_short_draw.root");
    assert!(otus::io::otus::is_export(&path, "otus", "Delphes"));
    let err = otus::io::otus::read(&path, "otus", &["em".to_string()])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("export_short_draw.root")
            && err.contains("branch Event_Draw")
            && err.contains("5 values for 10 entries of Event_Number"),
        "{err}"
    );
}
