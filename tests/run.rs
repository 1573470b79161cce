//! `otus run` through the binary on one real Z -> ee chunk: every stage's
//! outputs exist and agree with each other, an unchanged second run skips
//! every stage, a changed evaluation setting re-runs only the evaluation, a
//! changed training setting retrains, and a run without `--out` takes its
//! unchanged stages from the newest earlier run folder. Also `otus card
//! init`.

mod common;

use std::path::{Path, PathBuf};

use common::{card_from, otus, stderr};
use otus::frames::{self, Space, Split};

/// zee.toml on `zee_0` only (1,348 selected events), two short epochs, a
/// light evaluation and two draws per exported event.
fn small_card(dir: &Path, learning_rate: &str, slices: u32) -> PathBuf {
    card_from("zee.toml", dir, |t| {
        let t = common::zee_0_only(&t.replace("profile = \"default\"", "profile = \"smoke\""));
        assert!(t.contains("\nrepeat = 1 ") && t.contains("\nslices = 1000 "));
        t.replace("\nrepeat = 1 ", "\nrepeat = 2 ")
            .replace("\nslices = 1000 ", &format!("\nslices = {slices} "))
            .replace("\nbins = 0 ", "\nbins = 20 ")
            + &format!(
                "\n[[train.profiles.smoke]]\nepochs = 2\nlearning_rate = {learning_rate}\n\
                 beta_e = 50.0\nbeta_d = 50.0\nbatch_size = 256\nslices = 32\n"
            )
    })
}

/// [`small_card`] whose runs go to `runs/` beside it (not `../out`, which
/// would be outside the test's folder).
fn small_card_into_runs(dir: &Path) -> PathBuf {
    let card = small_card(dir, "2e-3", 50);
    let text = std::fs::read_to_string(&card).unwrap();
    assert!(text.contains("seed = 0\n"));
    let text = text.replace("seed = 0\n", "seed = 0\noutput = \"runs\"\n");
    std::fs::write(&card, text).unwrap();
    card
}

fn run(card: &Path, out: Option<&Path>) -> String {
    let mut args = vec!["run", card.to_str().unwrap()];
    if let Some(out) = out {
        args.extend(["--out", out.to_str().unwrap()]);
    }
    let o = otus(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    stderr(&o)
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn said(log: &str, line: &str) -> bool {
    log.lines().any(|l| l.contains(line))
}

/// Checks that the stages' outputs in `dir` are there and consistent.
fn check_outputs(dir: &Path) {
    let record = json(&dir.join("run.json"));
    for stage in ["ingest", "train", "evaluate", "export"] {
        assert!(record["stages"][stage]["outputs"].is_string(), "{stage}");
    }

    // Ingest: the frame's rows per split are those of its sidecar.
    let frame_path = dir.join("events.parquet");
    let frame = frames::read_parquet(&frame_path).unwrap();
    let sidecar = json(&dir.join("events.json"));
    let rows: Vec<u64> = (0..3)
        .map(|i| sidecar["split_rows"][i].as_u64().unwrap())
        .collect();
    assert_eq!(frame.height() as u64, rows.iter().sum::<u64>());
    assert_eq!(
        sidecar["cutflow"]["total"]["aligned"].as_u64(),
        Some(frame.height() as u64),
        "{}",
        sidecar["cutflow"]
    );
    let objects = ["em".to_string(), "ep".to_string()];
    for c in frames::columns(Space::Parton, &objects)
        .into_iter()
        .chain(frames::columns(Space::Detector, &objects))
        .chain(["event", "file", "split", "weight"].map(String::from))
    {
        assert!(frame.column(&c).is_ok(), "the frame has column {c}");
    }
    let test = rows[2] as usize;
    assert!(test > 200, "{test} test events");

    // Train: two epochs logged, weights and the card beside them.
    let model = dir.join("model");
    let log = std::fs::read_to_string(model.join("train_log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 2);
    let manifest = json(&model.join("model.json"));
    assert_eq!(manifest["train_events"][0].as_u64(), Some(rows[0]));
    for f in [
        "encoder.bpk",
        "decoder.bpk",
        "card.json",
        "best/decoder.bpk",
    ] {
        assert!(model.join(f).is_file(), "model/{f}");
    }

    // Evaluate: two halves of the test split, three comparisons, and the
    // Markdown table naming them.
    let report = dir.join("report");
    let metrics = json(&report.join("metrics.json"));
    assert_eq!(metrics["events_per_half"].as_u64(), Some(test as u64 / 2));
    let comparisons = metrics["comparisons"].as_array().unwrap();
    assert_eq!(comparisons.len(), 3);
    let md = std::fs::read_to_string(report.join("metrics.md")).unwrap();
    for c in comparisons {
        let title = c["title"].as_str().unwrap();
        assert!(
            md.contains(&format!("## {title}")),
            "metrics.md has {title}"
        );
        assert!(c["global_sw"].as_f64().unwrap().is_finite());
        // e+ and e- four-momenta, pT, eta, phi, and M_ee in x.
        assert!(c["variables"].as_array().unwrap().len() >= 8, "{title}");
    }
    assert!(report.join("x_mass_ee.svg").is_file());
    assert!(
        std::fs::read_to_string(report.join("index.html"))
            .unwrap()
            .contains("x_mass_ee.svg")
    );

    // Export: two draws of D(z) per test event in the ROOT tree, less those
    // outside the card's acceptance, in the frame's order; two of E(x) per
    // test event in the LHE file.
    let sim = dir.join("export/simulated.root");
    let tree = otus::io::otus::read(&sim, "otus", &objects).unwrap();
    let (events, _) = frames::matrix(
        &frame,
        &["event".to_string()],
        Some(Split::Test),
        &frame_path,
    )
    .unwrap();
    let all: Vec<(i64, i64)> = events
        .iter()
        .flat_map(|&e| [(e as i64, 0), (e as i64, 1)])
        .collect();
    let kept: Vec<(i64, i64)> = tree
        .event
        .iter()
        .copied()
        .zip(tree.draw.iter().copied())
        .collect();
    let mut rest = all.iter();
    assert!(
        kept.iter().all(|k| rest.any(|a| a == k)),
        "the exported (event, draw) pairs are not the test draws in order"
    );
    assert!(
        kept.len() <= all.len() && 2 * kept.len() > all.len(),
        "{} of {}",
        kept.len(),
        all.len()
    );
    assert!(tree.values.iter().all(|v| v.is_finite()));
    let lhe = otus::io::lhe::LheReader::open(dir.join("export/unfolded.lhe.gz")).unwrap();
    let unfolded: Vec<_> = lhe.collect::<Result<_, _>>().unwrap();
    assert_eq!(unfolded.len(), 2 * test);
}

#[test]
fn run_writes_every_stage_and_skips_what_did_not_change() {
    let dir = tempfile::tempdir().unwrap();
    let card = small_card(dir.path(), "2e-3", 50);
    let out = dir.path().join("run");

    let log = run(&card, Some(&out));
    for stage in ["ingest", "train", "evaluate", "export"] {
        assert!(
            said(&log, &format!("{stage}: runs (no earlier output)")),
            "{log}"
        );
    }
    assert!(
        said(&log, "aligned (selected at both levels)"),
        "cut-flow: {log}"
    );
    assert!(said(&log, "epoch 1 stage 0"), "one line per epoch: {log}");
    check_outputs(&out);
    let weights = std::fs::read(out.join("model/decoder.bpk")).unwrap();
    let first = json(&out.join("run.json"));

    // Nothing changed: every stage is skipped and nothing is rewritten.
    let log = run(&card, Some(&out));
    for stage in ["ingest", "train", "evaluate", "export"] {
        assert!(said(&log, &format!("{stage}: skipped")), "{log}");
    }
    assert_eq!(json(&out.join("run.json")), first);

    // A new evaluation setting re-runs the evaluation only.
    small_card(dir.path(), "2e-3", 60);
    let log = run(&card, Some(&out));
    assert!(
        said(&log, "evaluate: runs (evaluate settings changed)"),
        "{log}"
    );
    for stage in ["ingest", "train", "export"] {
        assert!(said(&log, &format!("{stage}: skipped")), "{log}");
    }
    assert_eq!(json(&out.join("report/metrics.json"))["slices"], 60);

    // A new learning rate retrains, and what depends on the model follows.
    small_card(dir.path(), "1e-3", 60);
    let log = run(&card, Some(&out));
    assert!(said(&log, "ingest: skipped"), "{log}");
    assert!(said(&log, "train: runs (train settings changed)"), "{log}");
    assert!(
        said(&log, "evaluate: runs (the events or the model changed)"),
        "{log}"
    );
    assert!(
        said(&log, "export: runs (the events or the model changed)"),
        "{log}"
    );
    assert_ne!(
        std::fs::read(out.join("model/decoder.bpk")).unwrap(),
        weights
    );
    check_outputs(&out);

    // A removed output is noticed.
    std::fs::remove_file(out.join("export/unfolded.lhe.gz")).unwrap();
    let log = run(&card, Some(&out));
    assert!(said(&log, "export: runs (its outputs in"), "{log}");
    assert!(out.join("export/unfolded.lhe.gz").is_file());
}

#[test]
fn runs_without_out_get_new_folders_and_reuse_unchanged_stages() {
    let dir = tempfile::tempdir().unwrap();
    let card = small_card_into_runs(dir.path());

    run(&card, None);
    let log = run(&card, None);
    let mut folders: Vec<PathBuf> = std::fs::read_dir(dir.path().join("runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    folders.sort();
    assert_eq!(folders.len(), 2, "{folders:?}");
    for stage in ["ingest", "train", "evaluate", "export"] {
        assert!(said(&log, &format!("{stage}: unchanged since")), "{log}");
    }
    check_outputs(&folders[1]);
    assert_eq!(
        std::fs::read_to_string(folders[1].join("card.toml")).unwrap(),
        std::fs::read_to_string(&card).unwrap()
    );
}

#[test]
fn card_init_writes_a_card_that_loads_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    for study in ["zee", "ttbar"] {
        let path = dir.path().join(format!("{study}.toml"));
        let p = path.to_str().unwrap();
        let o = otus(&["card", "init", study, "-o", p]);
        assert!(o.status.success(), "{}", stderr(&o));
        let card = otus::card::RunCard::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(card.inputs.lhe.is_some());

        std::fs::write(&path, "keep").unwrap();
        let o = otus(&["card", "init", study, "-o", p]);
        assert_eq!(o.status.code(), Some(1));
        assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep");
        let o = otus(&["card", "init", study, "-o", p, "--force"]);
        assert!(o.status.success(), "{}", stderr(&o));
        otus::card::RunCard::load(&path).unwrap();
    }
}

/// `otus run --out` onto a full disk reuses the earlier run's stages by
/// copying them (hard links cannot cross file systems): the copy fails
/// with status 1 and leaves no stage output that looks complete.
#[test]
fn reusing_stages_onto_a_full_disk_leaves_nothing_that_looks_complete() {
    let dir = tempfile::tempdir().unwrap();
    let card = small_card_into_runs(dir.path());
    run(&card, None);
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let out = disk.join("run");
    let args = [
        "run",
        card.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    let Some((o, files)) = common::otus_in_sandbox(common::Sandbox::Full, &disk, &args, None)
    else {
        eprintln!("mount namespaces are not allowed here: skipping");
        return;
    };
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    for output in [
        "run/events.parquet",
        "run/model",
        "run/report",
        "run/export",
    ] {
        assert!(
            !files.iter().any(|f| f.starts_with(output)),
            "{output} left on the full disk: {files:?}"
        );
    }
    assert!(!files.iter().any(|f| f.ends_with(".part")), "{files:?}");
}
