//! The stages after ingest through the binary, on the Z -> ee fixture:
//! train a few epochs, simulate from an LHE file, unfold a Delphes file,
//! evaluate on the test split, and resume a training.

mod common;

use common::{card_from, fixture, otus, stderr};
use otus::frames;

fn smoke_card(dir: &std::path::Path) -> std::path::PathBuf {
    card_from("zee.toml", dir, |t| {
        t.replace("profile = \"default\"", "profile = \"smoke\"")
            + "\n[[train.profiles.smoke]]\nepochs = 4\nlearning_rate = 2e-3\nbeta_e = 50.0\nbeta_d = 50.0\nbatch_size = 256\nslices = 32\n"
    })
}

#[test]
fn train_simulate_unfold_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let card = smoke_card(dir.path());
    let out = dir.path().join("out");
    let frame = out.join("events.parquet");
    let (card_s, out_s, frame_s) = (
        card.to_str().unwrap(),
        out.to_str().unwrap(),
        frame.to_str().unwrap(),
    );
    let o = otus(&["-q", "ingest", card_s, "--out", out_s]);
    assert!(o.status.success(), "{}", stderr(&o));

    let model = out.join("model");
    let model_s = model.to_str().unwrap();
    let o = otus(&["train", card_s, "--frames", frame_s, "--out", model_s]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("epoch 3 stage 0"),
        "one log line per epoch: {}",
        stderr(&o)
    );
    let log = std::fs::read_to_string(model.join("train_log.jsonl")).unwrap();
    assert_eq!(log.lines().count(), 4);
    for f in [
        "model.json",
        "card.json",
        "encoder.bpk",
        "decoder.bpk",
        "best",
    ] {
        assert!(model.join(f).exists(), "model folder holds {f}");
    }

    // Simulate from raw LHE: 200 Z -> ee events, each with its e- and e+.
    let sim = dir.path().join("sim.parquet");
    let lhe = fixture("zee_full_200.lhe.gz");
    let o = otus(&[
        "simulate",
        "--model",
        model_s,
        lhe.to_str().unwrap(),
        "-o",
        sim.to_str().unwrap(),
        "--repeat",
        "2",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The draws inside the card's acceptance (both electrons with pT > 10
    // GeV and |eta| < 2.5) remain, as the log says.
    let f = frames::read_parquet(&sim).unwrap();
    let kept = f.height();
    assert!(
        stderr(&o).contains(&format!(
            "detector acceptance: {kept} of 400 draws inside S"
        )),
        "{}",
        stderr(&o)
    );
    assert!(kept > 0 && kept < 400, "{kept}");
    let x_cols = frames::columns(frames::Space::Detector, &["em".into(), "ep".into()]);
    let (x, _) = frames::matrix(&f, &x_cols, None, &sim).unwrap();
    let (draw, _) = frames::matrix(&f, &["draw".to_string()], None, &sim).unwrap();
    let (event, _) = frames::matrix(&f, &["event".to_string()], None, &sim).unwrap();
    let both = (1..kept)
        .find(|&i| event[i] == event[i - 1])
        .expect("an event with both draws kept");
    assert_eq!((draw[both - 1], draw[both]), (0.0, 1.0));
    assert_ne!(
        &x[8 * (both - 1)..8 * both],
        &x[8 * both..8 * both + 8],
        "two draws of one event differ"
    );
    for r in x.chunks(4) {
        let v = otus::physics::FourVector::new(r[0], r[1], r[2], r[3]);
        assert!(v.pt() > 10.0 && v.eta().abs() < 2.5, "outside S: {r:?}");
        let m2 = r[3] * r[3] - r[0] * r[0] - r[1] * r[1] - r[2] * r[2];
        assert!(
            m2.abs() <= 1e-3 * r[3] * r[3] + 1e-3,
            "massless electrons: {r:?}"
        );
    }

    // Unfold the Delphes file: the 1,348 selected entries.
    let unf = dir.path().join("unf.parquet");
    let root = fixture("zee_0.root");
    let o = otus(&[
        "unfold",
        "--model",
        model_s,
        root.to_str().unwrap(),
        "-o",
        unf.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let f = frames::read_parquet(&unf).unwrap();
    assert_eq!(f.height(), 1_348);
    assert!(f.column("z_em_px").is_ok() && f.column("x_em_px").is_ok());

    // Input of another process, a ROOT file given to simulate, and a bad
    // --slices are refused with a message naming what is wrong.
    let nothing = dir.path().join("nothing.parquet");
    let ttbar = fixture("ttbar_0.lhe.gz");
    let o = otus(&[
        "simulate",
        "--model",
        model_s,
        ttbar.to_str().unwrap(),
        "-o",
        nothing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("no event passes") && !nothing.exists(),
        "{}",
        stderr(&o)
    );
    let o = otus(&[
        "simulate",
        "--model",
        model_s,
        root.to_str().unwrap(),
        "-o",
        nothing.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("a ROOT file") && !nothing.exists(),
        "{}",
        stderr(&o)
    );
    let o = otus(&["evaluate", "--model", model_s, "--slices", "0"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--slices 0"), "{}", stderr(&o));

    let report = dir.path().join("report");
    let o = otus(&[
        "evaluate",
        "--model",
        model_s,
        "--out",
        report.to_str().unwrap(),
        "--slices",
        "50",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let metrics: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(metrics["comparisons"].as_array().unwrap().len(), 3);
    assert!(metrics["events_per_half"].as_u64().unwrap() > 100);
    let index = std::fs::read_to_string(report.join("index.html")).unwrap();
    assert!(index.contains("x_mass_ee.svg") && report.join("x_mass_ee.svg").exists());
}

#[test]
fn training_without_a_frame_says_to_ingest_first() {
    let dir = tempfile::tempdir().unwrap();
    let card = smoke_card(dir.path());
    let missing = dir.path().join("nothing.parquet");
    let o = otus(&[
        "train",
        card.to_str().unwrap(),
        "--frames",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("otus ingest"), "{}", stderr(&o));
}
