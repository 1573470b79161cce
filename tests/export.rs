//! ROOT and LHE output of `simulate` and `unfold` through the binary, on the
//! Z -> ee fixtures, read back with our own readers: values agree exactly
//! with the Parquet output of the same seed, large outputs are split into
//! parts that each open, exported trees are detector-level input of
//! `ingest`, `unfold` and `evaluate`, and bad requests leave no file.
//! (`scripts/crosscheck_export.py` reads the same outputs with uproot and
//! pylhe.)

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{card_from, fixture, otus, stderr};
use otus::export::root::{EVENT_DRAW, EVENT_NUMBER, EVENT_WEIGHT, KINEMATICS, branch};
use otus::frames;
use otus::io::lhe::LheReader;
use otus::io::root::RootFile;

/// A model trained for two epochs on the four Z -> ee chunks, shared by
/// the tests of this file.
struct Trained {
    dir: PathBuf,
    card: PathBuf,
    model: PathBuf,
}

fn trained() -> &'static Trained {
    static TRAINED: OnceLock<Trained> = OnceLock::new();
    TRAINED.get_or_init(|| {
        // One folder per run, in the target's scratch space (the static is
        // never dropped, so a temporary folder would be left in /tmp).
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("export_model");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let card = card_from("zee.toml", &dir, |t| {
            t.replace("profile = \"default\"", "profile = \"smoke\"")
                + "\n[[train.profiles.smoke]]\nepochs = 2\nlearning_rate = 2e-3\nbeta_e = 50.0\nbeta_d = 50.0\nbatch_size = 256\nslices = 32\n"
        });
        let out = dir.join("out");
        let o = otus(&["-q", "ingest", s(&card), "--out", s(&out)]);
        assert!(o.status.success(), "{}", stderr(&o));
        let model = out.join("model");
        let frame = out.join("events.parquet");
        let o = otus(&[
            "-q",
            "train",
            s(&card),
            "--frames",
            s(&frame),
            "--out",
            s(&model),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        Trained { dir, card, model }
    })
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs `otus simulate` or `unfold` with the shared model and asserts success.
fn map(command: &str, input: &Path, output: &Path, extra: &[&str]) -> String {
    let t = trained();
    let mut args = vec![command, "--model", s(&t.model), s(input), "-o", s(output)];
    args.extend_from_slice(extra);
    let o = otus(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    stderr(&o)
}

fn column(frame: &polars::prelude::DataFrame, name: &str, path: &Path) -> Vec<f64> {
    frames::matrix(frame, &[name.to_string()], None, path)
        .unwrap()
        .0
}

/// No hidden `.part` file is left in `dir`.
fn no_temporaries(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.ends_with(".part"), "temporary {name} left behind");
    }
}

#[test]
fn simulated_root_tree_reads_back_exactly_as_the_parquet_values() {
    let dir = tempfile::tempdir().unwrap();
    let lhe = fixture("zee_full_200.lhe.gz");
    let parquet = dir.path().join("sim.parquet");
    let root = dir.path().join("sim.root");
    map(
        "simulate",
        &lhe,
        &parquet,
        &["--repeat", "3", "--seed", "7"],
    );
    map("simulate", &lhe, &root, &["--repeat", "3", "--seed", "7"]);

    let frame = frames::read_parquet(&parquet).unwrap();
    let rows = frame.height();
    // 200 events x 3 draws, less the draws outside the card's acceptance
    // (electrons with pT > 10 GeV and |eta| < 2.5): the LHE file holds
    // every generated event, not only those the detector recorded.
    assert!(rows > 100 && rows < 600, "{rows} rows");
    let file = RootFile::open(&root).unwrap();
    let tree = file.tree("otus").unwrap();
    assert_eq!(tree.entries(), rows as u64);
    let all = 0..rows as u64;
    let read = |b: &str| tree.read_f64(b, all.clone()).unwrap().values;

    assert_eq!(read(EVENT_NUMBER), column(&frame, "event", &parquet));
    assert_eq!(read(EVENT_DRAW), column(&frame, "draw", &parquet));
    assert_eq!(read(EVENT_WEIGHT), column(&frame, "weight", &parquet));
    assert_eq!(read("Electron_size"), vec![2.0; rows]);
    for object in ["em", "ep"] {
        let mut p = Vec::new();
        for (q, c) in ["Px", "Py", "Pz", "E"].iter().zip(frames::COMPONENTS) {
            let want = column(&frame, &format!("x_{object}_{c}"), &parquet);
            let got = read(&branch(object, q));
            // The model's outputs are float32: stored as float, they are exact.
            assert_eq!(got, want, "{object}_{q}");
            p.push(got);
        }
        let pt = read(&branch(object, "PT"));
        let eta = read(&branch(object, "Eta"));
        let phi = read(&branch(object, "Phi"));
        for i in 0..rows {
            let v = otus::physics::FourVector::new(p[0][i], p[1][i], p[2][i], p[3][i]);
            assert_eq!(pt[i], v.pt() as f32 as f64);
            assert_eq!(eta[i], v.eta() as f32 as f64);
            assert_eq!(phi[i], v.phi() as f32 as f64);
        }
    }
    let names: Vec<String> = tree.branches().map(|b| b.name).collect();
    assert_eq!(names.len(), 3 + 1 + 2 * KINEMATICS.len(), "{names:?}");
    assert!(tree.branches().all(|b| b.readable && !b.jagged));
    no_temporaries(dir.path());
}

#[test]
fn a_large_output_is_split_into_parts_that_each_open() {
    let dir = tempfile::tempdir().unwrap();
    let lhe = fixture("zee_full_200.lhe.gz");
    let root = dir.path().join("big.root");
    let parquet = dir.path().join("big.parquet");
    let limit = 60_000u64;
    let log = map(
        "simulate",
        &lhe,
        &root,
        &["--repeat", "10", "--max-file-size", "60k"],
    );
    map("simulate", &lhe, &parquet, &["--repeat", "10"]);
    assert!(!root.exists(), "a split output has only numbered parts");

    let parts = otus::export::root::part_paths(&root, 2);
    let mut numbers = Vec::new();
    let mut k = 0;
    loop {
        let part = dir.path().join(format!("big_{k:03}.root"));
        if !part.exists() {
            break;
        }
        let bytes = std::fs::metadata(&part).unwrap().len();
        assert!(bytes <= limit, "{} has {bytes} bytes", part.display());
        let tree = RootFile::open(&part).unwrap().tree("otus").unwrap();
        assert!(tree.entries() > 0);
        numbers.extend(
            tree.read_i64(EVENT_NUMBER, 0..tree.entries())
                .unwrap()
                .values,
        );
        k += 1;
    }
    assert!(k >= 2, "split into {k} parts: {log}");
    assert_eq!(parts[1], dir.path().join("big_001.root"));
    let frame = frames::read_parquet(&parquet).unwrap();
    let want: Vec<i64> = column(&frame, "event", &parquet)
        .into_iter()
        .map(|v| v as i64)
        .collect();
    assert_eq!(numbers, want, "the parts hold every entry once, in order");
    no_temporaries(dir.path());
}

#[test]
fn an_exported_tree_is_detector_input_of_ingest_unfold_and_evaluate() {
    let t = trained();
    let dir = tempfile::tempdir().unwrap();
    let lhe = fixture("zee_0.lhe.gz");
    let root = dir.path().join("zee_0.root");
    let parquet = dir.path().join("zee_0.parquet");
    map("simulate", &lhe, &root, &["--repeat", "2"]);
    map("simulate", &lhe, &parquet, &["--repeat", "2"]);

    // ingest: the export stands where the Delphes file stood; draw 0 is kept.
    let card = card_from("zee.toml", dir.path(), |text| {
        let start = text.find("pairs = [").unwrap();
        let end = start + text[start..].find("]\n").unwrap() + 2;
        format!(
            "{}pairs = [{{ lhe = {:?}, delphes = {:?} }}]\n{}",
            &text[..start],
            s(&lhe),
            s(&root),
            &text[end..]
        )
    });
    let out = dir.path().join("ingest");
    let o = otus(&["ingest", s(&card), "--out", s(&out)]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("draws other than 0"), "{}", stderr(&o));
    let ingested = frames::read_parquet(&out.join("events.parquet")).unwrap();
    let sim = frames::read_parquet(&parquet).unwrap();
    let draw = column(&sim, "draw", &parquet);
    let first: Vec<f64> = column(&sim, "x_ep_e", &parquet)
        .into_iter()
        .zip(&draw)
        .filter(|(_, d)| **d == 0.0)
        .map(|(v, _)| v)
        .collect();
    assert_eq!(ingested.height(), first.len());
    assert_eq!(
        column(&ingested, "x_ep_e", &out.join("events.parquet")),
        first
    );

    // unfold: every draw of the export is an input event.
    let unfolded = dir.path().join("unf.parquet");
    map("unfold", &root, &unfolded, &[]);
    let f = frames::read_parquet(&unfolded).unwrap();
    assert_eq!(f.height(), sim.height());
    assert_eq!(
        column(&f, "x_em_px", &unfolded),
        column(&sim, "x_em_px", &parquet)
    );

    // evaluate: the export replaces D(z) in the simulation comparison.
    let report = dir.path().join("report");
    let o = otus(&[
        "evaluate",
        "--model",
        s(&t.model),
        "--out",
        s(&report),
        "--slices",
        "20",
        "--simulated",
        s(&root),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("metrics.json")).unwrap()).unwrap();
    let titles: Vec<&str> = metrics["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"simulation: x vs zee_0.root"),
        "{titles:?}"
    );
    assert!(!report.join("transport_learned.svg").exists());
    assert!(report.join("transport_true.svg").exists());
}

#[test]
fn unfolded_lhe_reads_back_with_the_partons_of_the_card() {
    let dir = tempfile::tempdir().unwrap();
    let delphes = fixture("zee_0.root");
    let lhe = dir.path().join("unf.lhe.gz");
    let parquet = dir.path().join("unf.parquet");
    let log = map("unfold", &delphes, &lhe, &["--repeat", "2", "--seed", "3"]);
    assert!(log.contains("<init> block from"), "{log}");
    map(
        "unfold",
        &delphes,
        &parquet,
        &["--repeat", "2", "--seed", "3"],
    );

    let frame = frames::read_parquet(&parquet).unwrap();
    let mut reader = LheReader::open(&lhe).unwrap();
    let info = reader.run_info().clone();
    assert_eq!(info.beam_energies, [6500.0, 6500.0], "init copied");
    assert!(info.header.contains("<otus>"), "{}", info.header);
    let columns: Vec<Vec<f64>> =
        frames::columns(frames::Space::Parton, &["em".into(), "ep".into()])
            .iter()
            .map(|c| column(&frame, c, &parquet))
            .collect();
    let mut n = 0;
    while let Some(e) = reader.next_event().unwrap() {
        assert_eq!(e.process_id, 9999);
        let pdg: Vec<(i32, i32)> = e.particles.iter().map(|p| (p.pdg, p.status)).collect();
        assert_eq!(pdg, vec![(11, 1), (-11, 1)]);
        for (k, p) in e.particles.iter().enumerate() {
            let m = p.momentum.to_array();
            for c in 0..4 {
                assert_eq!(m[c], columns[4 * k + c][n], "event {n} parton {k}");
            }
        }
        n += 1;
    }
    assert_eq!(n, frame.height());

    // A synthesized init block when no LHE is at hand.
    let synthetic = dir.path().join("synthetic.lhe");
    let objects = otus::export::objects_of(
        &otus::card::RunCard::load(&trained().card).unwrap(),
        frames::Space::Parton,
    );
    let values = otus::train::Sample::new(
        frames::columns(frames::Space::Parton, &["em".into(), "ep".into()]),
        vec![1.0, 2.0, 3.0, 3.75, -1.0, -2.0, -3.0, 3.75],
    )
    .unwrap();
    let exported = otus::export::Exported {
        space: frames::Space::Parton,
        objects: &objects,
        event: &[41],
        weight: &[0.5],
        repeat: 1,
        values: &values,
        source: None,
    };
    let init = otus::export::lhe::InitBlock::synthesized();
    otus::export::lhe::write(&synthetic, &exported, &init, "a <test> & more", false).unwrap();
    let mut reader = LheReader::open(&synthetic).unwrap();
    assert_eq!(reader.run_info().beam_ids, [2212, 2212]);
    let e = reader.next_event().unwrap().unwrap();
    assert_eq!(e.weight, 0.5);
    assert_eq!(e.particles[1].momentum.to_array(), [-1.0, -2.0, -3.0, 3.75]);
    assert!(reader.next_event().unwrap().is_none());
}

#[test]
fn bad_outputs_are_refused_before_any_file_is_written() {
    let t = trained();
    let dir = tempfile::tempdir().unwrap();
    let lhe = fixture("zee_full_200.lhe.gz");
    let cases: [(&str, &str, &[&str], &str); 4] = [
        ("simulate", "out.csv", &[], "unknown output format"),
        (
            "simulate",
            "out.lhe",
            &[],
            "LHE output is for `otus unfold`",
        ),
        (
            "simulate",
            "out.root",
            &["--max-file-size", "100"],
            "file size limit of 100 bytes",
        ),
        (
            "simulate",
            "out.root",
            &["--max-file-size", "3G"],
            "--max-file-size 3000000000: at most 2000000000 bytes",
        ),
    ];
    for (command, name, extra, message) in cases {
        let out = dir.path().join(name);
        let mut args = vec![command, "--model", s(&t.model), s(&lhe), "-o", s(&out)];
        args.extend_from_slice(extra);
        let o = otus(&args);
        assert_eq!(o.status.code(), Some(1), "{name}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{name}: {}", stderr(&o));
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
    let _ = &t.dir;
}

/// Every output of ingest, simulate and unfold, into a full disk and into a
/// read-only folder: status 1, an error naming the file and the system's
/// reason, and no file left behind (not even an empty or partial one).
#[test]
fn a_full_disk_or_a_read_only_folder_fails_every_output_cleanly() {
    use common::{Sandbox, otus_in_sandbox};
    let t = trained();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let o = |name: &str| out.join(name).to_str().unwrap().to_string();
    let (lhe, root) = (fixture("zee_0.lhe.gz"), fixture("zee_0.root"));
    let model = s(&t.model);
    // (the output that must not be left, the command line)
    let map = |command: &str, input: &Path, name: &str| -> (String, Vec<String>) {
        let args = [command, "--model", model, s(input), "-o", &o(name)];
        (o(name), args.map(String::from).to_vec())
    };
    let ingest = ["ingest", s(&t.card), "--out", &o("ingest")].map(String::from);
    let cases = [
        (o("ingest/events.parquet"), ingest.to_vec()),
        map("simulate", &lhe, "sim.root"),
        map("simulate", &lhe, "sim.parquet"),
        map("unfold", &root, "unf.lhe.gz"),
        map("unfold", &root, "unf.root"),
    ];
    for sandbox in [Sandbox::Full, Sandbox::ReadOnly] {
        for (path, args) in &cases {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let Some((output, files)) = otus_in_sandbox(sandbox, &out, &args, None) else {
                eprintln!("mount namespaces are not allowed here: skipping {sandbox:?}");
                return;
            };
            let err = stderr(&output);
            assert_eq!(output.status.code(), Some(1), "{sandbox:?} {path}: {err}");
            let reason = match sandbox {
                Sandbox::Full => "No space left on device",
                Sandbox::ReadOnly => "Read-only file system",
            };
            let last = err
                .lines()
                .rfind(|l| l.starts_with("error:"))
                .unwrap_or_default();
            assert!(last.contains(reason), "{sandbox:?} {path}: {err}");
            // The error names the output (or, read-only, the folder it
            // could not create).
            let named = if path.contains("ingest") {
                o("ingest")
            } else {
                path.clone()
            };
            assert!(last.contains(&named), "{sandbox:?} {path}: {err}");
            assert!(!last.contains("Os {"), "no debug formatting: {last}");
            let left: Vec<&String> = files.iter().filter(|f| !f.ends_with("ingest")).collect();
            assert!(left.is_empty(), "{sandbox:?} {path}: left {left:?}");
        }
    }
}
