//! Reads the real Delphes fixtures with `otus::io::root` and compares with uproot.
//!
//! Expected values were produced with uproot 5.7.7 / awkward 2.14.0 / numpy 2.4.6:
//!
//! ```text
//! python3 -m venv .venv && .venv/bin/pip install uproot awkward numpy
//! .venv/bin/python scripts/root_reference.py fixtures/*.root
//! ```
//!
//! Sums are float64 sums of the values converted to float64; they are compared
//! with a relative tolerance (summation order differs), first/last values exactly.

use std::path::PathBuf;

use otus::io::root::{RootError, RootFile, Tree};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn delphes(name: &str) -> Tree {
    let f = RootFile::open(fixture(name)).unwrap();
    f.tree("Delphes").unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// (branch, number of values, sum, first values, last value)
type Ref = (&'static str, usize, f64, &'static [f64], f64);

fn check_refs(t: &Tree, refs: &[Ref]) {
    for &(name, n, sum, first, last) in refs {
        let j = t.read_f64(name, 0..t.entries()).unwrap();
        assert_eq!(j.offsets.len() as u64, t.entries() + 1, "{name}");
        assert_eq!(j.values.len(), n, "{name}");
        assert_eq!(*j.offsets.last().unwrap(), n, "{name}");
        let s: f64 = j.values.iter().sum();
        assert!(close(s, sum), "{name}: sum {s} != {sum}");
        assert_eq!(&j.values[..first.len()], first, "{name}");
        assert_eq!(*j.values.last().unwrap(), last, "{name}");
    }
}

const COFFEA_REFS: &[Ref] = &[
    (
        "Electron.PT",
        5,
        141.34827589988708,
        &[0.8121088743209839, 0.7714945077896118, 3.2489101886749268],
        38.40117645263672,
    ),
    (
        "Electron.Eta",
        5,
        -4.947364270687103,
        &[-4.4217634201049805, -4.392181873321533, 2.271299362182617],
        0.9162229895591736,
    ),
    (
        "Electron.Phi",
        5,
        0.02532374858856201,
        &[1.66933274269104, -3.0794317722320557, -1.4655429124832153],
        0.657773494720459,
    ),
    ("Electron.Charge", 5, 1.0, &[-1.0, 1.0, 1.0], 1.0),
    ("Event.Number", 25, 300.0, &[0.0, 1.0, 2.0], 24.0),
    (
        "MissingET.MET",
        25,
        579.665739774704,
        &[6.30783748626709, 3.925973653793335, 11.557560920715332],
        37.51899337768555,
    ),
    (
        "MissingET.Eta",
        25,
        24.006568670272827,
        &[-7.482032775878906, 8.033625602722168, -7.865078449249268],
        6.254993438720703,
    ),
    (
        "MissingET.Phi",
        25,
        -2.377132624387741,
        &[2.2961931228637695, -0.9937376379966736, -2.5800273418426514],
        1.8459858894348145,
    ),
    (
        "Jet.PT",
        106,
        6508.656610488892,
        &[41.71662902832031, 30.29816246032715, 56.05992889404297],
        31.960325241088867,
    ),
    ("Jet.BTag", 106, 21.0, &[1.0, 0.0, 0.0], 0.0),
    ("Jet.FracPt[5]", 530, 0.0, &[0.0, 0.0, 0.0], 0.0),
    (
        "Jet.Tau[5]",
        530,
        80.62944411142962,
        &[
            0.19747085869312286,
            0.14838312566280365,
            0.09647262841463089,
        ],
        0.03557569533586502,
    ),
];

#[test]
fn zee_slim_chunk() {
    let f = RootFile::open(fixture("zee_0.root")).unwrap();
    let names: Vec<_> = f
        .keys()
        .iter()
        .map(|k| (k.name.as_str(), k.class_name.as_str(), k.cycle))
        .collect();
    assert_eq!(
        names,
        [("ProcessID0", "TProcessID", 1), ("Delphes", "TTree", 1)]
    );
    let t = f.tree("Delphes").unwrap();
    assert_eq!(t.entries(), 10000);
    assert_eq!(t.branches().count(), 149);
    assert!(t.branches().all(|b| b.name != "Jet.Constituents"));
    check_refs(
        &t,
        &[
            (
                "Electron.PT",
                8343,
                324475.00891685486,
                &[20.923856735229492, 31.96375846862793, 30.373123168945312],
                13.002497673034668,
            ),
            (
                "Electron.Eta",
                8343,
                -53.49250298012339,
                &[
                    0.6124868988990784,
                    -0.16442525386810303,
                    -0.19271473586559296,
                ],
                2.1303563117980957,
            ),
            (
                "Electron.Phi",
                8343,
                -157.17891713709105,
                &[-1.7579810619354248, 2.043039560317993, 0.437295526266098],
                0.5608838796615601,
            ),
            ("Electron.Charge", 8343, 105.0, &[1.0, 1.0, 1.0], 1.0),
            ("Event.Number", 10000, 49995000.0, &[0.0, 1.0, 2.0], 9999.0),
            (
                "MissingET.MET",
                10000,
                115476.01288354024,
                &[5.404946327209473, 12.78083610534668, 24.744192123413086],
                18.331771850585938,
            ),
            (
                "MissingET.Eta",
                10000,
                -319.4835690509062,
                &[-5.71135950088501, -5.349521160125732, -5.438545227050781],
                -2.8461363315582275,
            ),
            (
                "MissingET.Phi",
                10000,
                -344.228260912525,
                &[1.967888593673706, -1.1698955297470093, -1.4777355194091797],
                -1.993004560470581,
            ),
            (
                "Jet.PT",
                12772,
                545363.3573513031,
                &[25.91351318359375, 51.857112884521484, 31.60782814025879],
                39.452423095703125,
            ),
            ("Jet.BTag", 12772, 289.0, &[0.0, 0.0, 0.0], 0.0),
            ("Jet.FracPt[5]", 63860, 0.0, &[0.0, 0.0, 0.0], 0.0),
        ],
    );
    // Counts: the TClonesArray top branch and the X_size leaf agree.
    let c = t.read_counts("Electron", 0..10000).unwrap();
    assert_eq!(c.iter().map(|&x| x as u64).sum::<u64>(), 8343);
    assert_eq!(&c[..10], &[1, 0, 0, 0, 1, 1, 0, 2, 0, 1]);
    assert_eq!(c, t.read_counts("Electron_size", 0..10000).unwrap());
    assert_eq!(c, t.read_counts("Electron.PT", 0..10000).unwrap());
    let jc = t.read_counts("Jet", 0..10000).unwrap();
    assert_eq!(jc.iter().map(|&x| x as u64).sum::<u64>(), 12772);
    assert_eq!(&jc[..10], &[1, 3, 2, 2, 1, 2, 0, 0, 1, 1]);
    let mc = t.read_counts("Muon", 0..10000).unwrap();
    assert_eq!(mc.iter().sum::<u32>(), 1);
    // Integers exactly.
    let num = t.read_i64("Event.Number", 0..10000).unwrap();
    assert!(num.values.iter().enumerate().all(|(i, &v)| v == i as i64));
    assert!(t.read_i64("Electron.PT", 0..10).is_err());
    // A partial range crossing basket boundaries (Electron.PT[3333:5834] in uproot).
    let part = t.read_f64("Electron.PT", 3333..5834).unwrap();
    assert_eq!(part.offsets.len(), 5834 - 3333 + 1);
    assert_eq!(part.values.len(), 2104);
    assert!(close(part.values.iter().sum(), 82572.54543018341));
    // Reading in chunks gives the same as one read.
    let all = t.read_f64("Jet.PT", 0..10000).unwrap();
    let mut chunked = Vec::new();
    for s in (0..10000).step_by(777) {
        chunked.extend(
            t.read_f64("Jet.PT", s..(s + 777).min(10000))
                .unwrap()
                .values,
        );
    }
    assert_eq!(chunked, all.values);
    // Empty range.
    let e = t.read_f64("Jet.PT", 5..5).unwrap();
    assert_eq!((e.offsets, e.values.len()), (vec![0], 0));
    // Type descriptions.
    let info = |n: &str| t.branches().find(|b| b.name == n).unwrap();
    assert_eq!(info("Jet.PT").type_name, "float[]");
    assert_eq!(info("Electron.Charge").type_name, "int32[]");
    assert_eq!(info("Event.Number").type_name, "int64[]");
    assert_eq!(info("Jet.FracPt[5]").type_name, "float[][5]");
    assert_eq!(info("Jet.FracPt[5]").fixed, 5);
    assert_eq!(info("Jet_size").type_name, "int32");
    assert!(info("Jet").readable);
    assert!(!info("Muon.fBits").readable);
    assert!(t.has_branch("Jet.FracPt"));
    assert!(t.has_branch("Jet.FracPt[5]"));
    assert!(!t.has_branch("Jet.Nope"));
}

#[test]
fn coffea_full_and_slim() {
    for name in [
        "coffea_vjets_25ev_delphes.root",
        "coffea_vjets_25ev_delphes_slim.root",
    ] {
        let t = delphes(name);
        assert_eq!(t.entries(), 25);
        check_refs(&t, COFFEA_REFS);
        let c = t.read_counts("Jet", 0..25).unwrap();
        assert_eq!(c.iter().sum::<u32>(), 106);
        assert_eq!(&c[..10], &[2, 2, 3, 3, 8, 3, 4, 6, 2, 4]);
        let e = t.read_counts("Electron", 0..25).unwrap();
        assert_eq!(e.iter().sum::<u32>(), 5);
        let p = t.read_f64("Electron.PT", 8..15).unwrap();
        assert_eq!(p.values.len(), 4);
        assert!(close(p.values.iter().sum(), 140.5361670255661));
    }
    let t = delphes("coffea_vjets_25ev_delphes.root");
    assert_eq!(t.branches().count(), 1138);
    let cons = t.branches().find(|b| b.name == "Jet.Constituents").unwrap();
    assert!(!cons.readable, "{cons:?}");
    assert!(cons.type_name.contains("unsupported"));
    let err = t
        .read_f64("Jet.Constituents", 0..25)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("Jet.Constituents") && err.contains("coffea_vjets"),
        "{err}"
    );
    assert_eq!(
        delphes("coffea_vjets_25ev_delphes_slim.root")
            .branches()
            .count(),
        140
    );
}

#[test]
fn zee_full_file() {
    let t = delphes("zee_full_200.root");
    assert_eq!(t.entries(), 200);
    assert_eq!(t.branches().count(), 455);
    check_refs(
        &t,
        &[
            (
                "Electron.PT",
                155,
                5738.75931930542,
                &[45.31011962890625, 44.230308532714844, 77.199462890625],
                49.27244186401367,
            ),
            (
                "Electron.Eta",
                155,
                13.573695716448128,
                &[0.04403412714600563, 2.318275213241577, -1.5579816102981567],
                0.5342413783073425,
            ),
            (
                "Electron.Phi",
                155,
                -1.27247721911408,
                &[-1.5122811794281006, -2.2447011470794678, 1.0844035148620605],
                -1.2578206062316895,
            ),
            ("Electron.Charge", 155, 5.0, &[-1.0, 1.0, 1.0], -1.0),
            ("Event.Number", 200, 19900.0, &[0.0, 1.0, 2.0], 199.0),
            (
                "MissingET.MET",
                200,
                2293.521788775921,
                &[22.871036529541016, 8.076310157775879, 7.231546401977539],
                5.536749362945557,
            ),
            (
                "MissingET.Eta",
                200,
                -98.37268197536469,
                &[4.517316818237305, -5.7161970138549805, -3.7793469429016113],
                -6.936774253845215,
            ),
            (
                "MissingET.Phi",
                200,
                -21.078692234121263,
                &[-1.6830636262893677, -2.0960164070129395, 0.9351670742034912],
                -0.28141939640045166,
            ),
            (
                "Jet.PT",
                271,
                11189.778245925903,
                &[50.52428436279297, 43.5688591003418, 34.287532806396484],
                45.858482360839844,
            ),
            ("Jet.BTag", 271, 6.0, &[0.0, 0.0, 0.0], 0.0),
            ("Jet.FracPt[5]", 1355, 0.0, &[0.0, 0.0, 0.0], 0.0),
        ],
    );
    let c = t.read_counts("Electron", 0..200).unwrap();
    assert_eq!(&c[..10], &[0, 0, 1, 1, 0, 0, 2, 0, 0, 0]);
    let p = t.read_f64("Electron.PT", 66..117).unwrap();
    assert_eq!(p.values.len(), 43);
    assert!(close(p.values.iter().sum(), 1619.0420408248901));
    // Particle.fBits has 6-byte entries for referenced objects: listed, refused.
    assert!(
        !t.branches()
            .find(|b| b.name == "Particle.fBits")
            .unwrap()
            .readable
    );
    assert!(t.read_f64("Particle.fBits", 0..1).is_err());
}

#[test]
fn empty_file_lists_nothing() {
    let f = RootFile::open(fixture("coffea_bad_delphes_empty.root")).unwrap();
    assert!(f.keys().is_empty());
    let err = f.tree("Delphes").unwrap_err();
    assert!(matches!(err, RootError::NoSuchTree { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains("coffea_bad_delphes_empty.root") && msg.contains("no objects"),
        "{msg}"
    );
}

#[test]
fn errors_name_file_tree_branch_and_range() {
    let f = RootFile::open(fixture("coffea_vjets_25ev_delphes_slim.root")).unwrap();
    let msg = f.tree("Nope").unwrap_err().to_string();
    assert!(
        msg.contains("Delphes;1 (TTree)") && msg.contains("ProcessID0"),
        "{msg}"
    );
    // Explicit cycles.
    assert_eq!(f.tree("Delphes;1").unwrap().entries(), 25);
    assert!(matches!(
        f.tree("Delphes;2"),
        Err(RootError::NoSuchTree { .. })
    ));
    assert!(matches!(
        f.tree("ProcessID0"),
        Err(RootError::NoSuchTree { .. })
    ));
    let t = f.tree("Delphes").unwrap();
    let msg = t.read_f64("Jet.PTT", 0..1).unwrap_err().to_string();
    assert!(msg.contains("Jet.PT") && msg.contains("Delphes"), "{msg}");
    let msg = t.read_f64("Jet.PT", 0..26).unwrap_err().to_string();
    assert!(msg.contains("0..26") && msg.contains("25 entries"), "{msg}");
    assert!(matches!(
        t.read_f64("Jet.PT", std::ops::Range { start: 5, end: 4 }),
        Err(RootError::BadRange { .. })
    ));
}

#[test]
fn bad_files_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    // Not ROOT.
    let p = dir.path().join("notroot.root");
    std::fs::write(&p, b"this is not a ROOT file at all").unwrap();
    assert!(matches!(RootFile::open(&p), Err(RootError::NotRoot { .. })));
    // Empty file.
    let p = dir.path().join("empty.root");
    std::fs::write(&p, b"").unwrap();
    assert!(RootFile::open(&p).is_err());
    // Missing file.
    assert!(matches!(
        RootFile::open(dir.path().join("missing.root")),
        Err(RootError::Io { .. })
    ));
    // Truncated copies at many lengths: opening or reading fails cleanly.
    let full = std::fs::read(fixture("coffea_vjets_25ev_delphes_slim.root")).unwrap();
    for cut in [
        10,
        60,
        100,
        300,
        1000,
        5000,
        20000,
        40000,
        60000,
        full.len() - 1,
    ] {
        let p = dir.path().join(format!("cut{cut}.root"));
        std::fs::write(&p, &full[..cut]).unwrap();
        let err = RootFile::open(&p)
            .and_then(|f| f.tree("Delphes"))
            .map(|t| t.read_f64("Jet.PT", 0..25));
        match err {
            Err(e) => {
                let e = e.to_string();
                assert!(e.contains(&format!("cut{cut}.root")), "{e}");
                // Each context is said once.
                assert!(e.matches("TTree 'Delphes' (cycle").count() <= 1, "{e}");
                assert!(e.matches("file header").count() <= 1, "{e}");
            }
            Ok(r) => panic!(
                "truncated at {cut} should fail, got {:?}",
                r.map(|j| j.values.len())
            ),
        }
    }
    // Corrupted basket: the file structure is intact but the compressed
    // payload of the Jet.PT basket is garbage -> a Basket error naming the
    // file, branch and entry range. The basket's key holds the class name,
    // branch name and tree name as TStrings, then the 19-byte TBasket header.
    let needle = b"\x07TBasket\x06Jet.PT\x07Delphes";
    let at = full
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let payload = at + needle.len() + 19;
    assert_eq!(&full[payload..payload + 2], b"ZL");
    let mut bad = full.clone();
    for b in &mut bad[payload + 11..payload + 40] {
        *b ^= 0x5A;
    }
    let p = dir.path().join("corrupt.root");
    std::fs::write(&p, &bad).unwrap();
    let t = RootFile::open(&p).unwrap().tree("Delphes").unwrap();
    let e = t.read_f64("Jet.PT", 0..25).unwrap_err();
    let m = e.to_string();
    assert!(matches!(&e, RootError::Basket(b) if b.basket == 0), "{m}");
    assert!(
        m.contains("corrupt.root") && m.contains("Jet.PT") && m.contains("0..25"),
        "{m}"
    );
    // Other branches still read.
    assert_eq!(t.read_f64("Jet.Eta", 0..25).unwrap().values.len(), 106);

    // A corrupted TTree record (its key: class, name and title as
    // TStrings, then the compressed record): the error says once what was
    // being read.
    let needle = b"\x05TTree\x07Delphes\x0dAnalysis tree";
    let at = full
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let record = at + needle.len();
    assert_eq!(&full[record..record + 2], b"ZL");
    let mut bad = full.clone();
    for b in &mut bad[record + 20..record + 60] {
        *b ^= 0x5A;
    }
    let p = dir.path().join("corrupt_tree.root");
    std::fs::write(&p, &bad).unwrap();
    let m = RootFile::open(&p)
        .unwrap()
        .tree("Delphes")
        .unwrap_err()
        .to_string();
    assert!(m.contains("corrupt_tree.root") && m.contains("zlib"), "{m}");
    assert_eq!(m.matches("TTree 'Delphes' (cycle").count(), 1, "{m}");
}

/// `RootFile::from_bytes` of a fixture lists the same keys and reads the same
/// values from every readable branch as `RootFile::open` of the file, and its
/// errors name the given name.
#[test]
fn from_bytes_reads_what_open_reads() {
    let path = fixture("coffea_vjets_25ev_delphes_slim.root");
    let disk = RootFile::open(&path).unwrap();
    let mem = RootFile::from_bytes("in-memory.root", std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(mem.path(), std::path::Path::new("in-memory.root"));
    assert_eq!(mem.keys(), disk.keys());
    assert_eq!(mem.root_version(), disk.root_version());
    let (td, tm) = (disk.tree("Delphes").unwrap(), mem.tree("Delphes").unwrap());
    assert_eq!(tm.entries(), 25);
    let jet_pt = tm.read_f64("Jet.PT", 0..25).unwrap();
    assert!(!jet_pt.values.is_empty());
    assert_eq!(jet_pt, td.read_f64("Jet.PT", 0..25).unwrap());
    let branches: Vec<_> = tm.branches().collect();
    assert_eq!(branches, td.branches().collect::<Vec<_>>());
    for b in branches.iter().filter(|b| b.readable) {
        assert_eq!(
            tm.read_f64(&b.name, 0..25).unwrap(),
            td.read_f64(&b.name, 0..25).unwrap(),
            "{}",
            b.name
        );
    }
    let msg = tm.read_f64("Jet.PT", 0..26).unwrap_err().to_string();
    assert!(msg.contains("in-memory.root"), "{msg}");
    let msg = RootFile::from_bytes("junk.root", b"root".to_vec())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("junk.root"), "{msg}");
}
