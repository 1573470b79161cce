//! `otus ingest` on the real fixture files: counts that independent readers
//! found, exact values, and failures that must be clean.
//!
//! Independent counts come from the shared data set's PROVENANCE.md, made
//! with uproot: in `zee_0` to `zee_3`, 13.48%, 13.54%, 13.98% and 14.12% of
//! the 10,000 Delphes entries of each hold exactly one e- and one e+ and no
//! muon, photon or jet (1,348 + 1,354 + 1,398 + 1,412 = 5,512); in `ttbar_0`, 13.13%
//! hold exactly one e- (no other electron) and exactly four jets with
//! PT > 20 GeV (1,313).

mod common;

use std::path::Path;

use common::{card_from, fixture, ingest, otus, stderr};
use otus::frames::{self, Space, Split};

fn sidecar(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("events.json")).unwrap()).unwrap()
}

#[test]
fn zee_fixture_selects_and_aligns_the_provenance_count() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = otus(&["ingest", "cards/zee.toml", "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty(), "ingest writes no data to stdout");
    assert!(stderr(&o).contains("aligned"), "the cut-flow is logged");

    let total = &sidecar(&out)["cutflow"]["total"];
    assert_eq!(total["lhe_events"], 40_000);
    let all = "every Z -> ee event has its e- and e+";
    assert_eq!(total["lhe_selected"], 40_000, "{all}");
    assert_eq!(total["delphes_entries"], 40_000);
    assert_eq!(total["delphes_selected"], 5_512);
    assert_eq!(total["aligned"], 5_512);
    let pairs = sidecar(&out)["cutflow"]["pairs"].clone();
    let aligned = |p: &serde_json::Value| p["aligned"].as_u64().unwrap();
    let per_pair: Vec<u64> = pairs.as_array().unwrap().iter().map(aligned).collect();
    assert_eq!(per_pair, vec![1_348, 1_354, 1_398, 1_412]);
    assert_eq!(total["unmatched_entries"], 0);

    let path = out.join("events.parquet");
    let frame = frames::read_parquet(&path).unwrap();
    assert_eq!(frame.height(), 5_512);
    let z = frames::columns(Space::Parton, &["em".into(), "ep".into()]);
    let x = frames::columns(Space::Detector, &["em".into(), "ep".into()]);
    let (zv, rows) = frames::matrix(&frame, &z, None, &path).unwrap();
    let (xv, _) = frames::matrix(&frame, &x, None, &path).unwrap();
    for r in 0..rows {
        for k in 0..2 {
            let p = &zv[r * 8 + 4 * k..r * 8 + 4 * k + 4];
            let m2 = p[3] * p[3] - p[0] * p[0] - p[1] * p[1] - p[2] * p[2];
            assert!(m2.abs() < 1e-9 * p[3] * p[3], "massless z: {p:?}");
            let q = &xv[r * 8 + 4 * k..r * 8 + 4 * k + 4];
            assert!(q[3] > 0.0 && q.iter().all(|v| v.is_finite()));
        }
    }
    let (_, train) = frames::matrix(&frame, &z[..1], Some(Split::Train), &path).unwrap();
    let (_, val) = frames::matrix(&frame, &z[..1], Some(Split::Validation), &path).unwrap();
    let (_, test) = frames::matrix(&frame, &z[..1], Some(Split::Test), &path).unwrap();
    assert_eq!(train + val + test, 5_512);
    assert!(
        (val as f64 / 5_512.0 - 0.1).abs() < 0.015,
        "validation fraction {val}"
    );
    assert!(
        (test as f64 / 5_512.0 - 0.2).abs() < 0.015,
        "test fraction {test}"
    );
}

#[test]
fn ingest_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    for out in [&a, &b] {
        let o = otus(&[
            "-q",
            "ingest",
            "cards/zee.toml",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let fa = frames::read_parquet(&a.join("events.parquet")).unwrap();
    let fb = frames::read_parquet(&b.join("events.parquet")).unwrap();
    assert!(
        fa.equals(&fb),
        "same card and seed give the same frame and splits"
    );
}

#[test]
fn ttbar_fixture_without_vetoes_matches_provenance_count() {
    let dir = tempfile::tempdir().unwrap();
    let card = card_from("ttbar_semilep.toml", dir.path(), |t| {
        t.replace("muon = { count = 0 }", "")
            .replace("photon = { count = 0 }", "")
    });
    let out = dir.path().join("out");
    let o = ingest(&card, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let total = &sidecar(&out)["cutflow"]["total"];
    assert_eq!(total["delphes_selected"], 1_313);
    // 0.4% of the events have t -> W s or W d instead of a b quark.
    let lhe_selected = total["lhe_selected"].as_u64().unwrap();
    assert!((9_900..10_000).contains(&lhe_selected), "{lhe_selected}");
    let aligned = total["aligned"].as_u64().unwrap();
    assert!((1_300..=1_313).contains(&aligned), "{aligned}");

    let path = out.join("events.parquet");
    let frame = frames::read_parquet(&path).unwrap();
    let jets: Vec<String> = (1..=4).map(|i| format!("jet{i}")).collect();
    let cols = frames::columns(Space::Detector, &jets);
    let (v, rows) = frames::matrix(&frame, &cols, None, &path).unwrap();
    for r in 0..rows {
        let pt: Vec<f64> = (0..4)
            .map(|j| v[r * 16 + 4 * j].hypot(v[r * 16 + 4 * j + 1]))
            .collect();
        assert!(
            pt.windows(2).all(|w| w[0] >= w[1]),
            "jets by descending pT: {pt:?}"
        );
        assert!(pt[3] > 20.0);
    }
    let met = frames::columns(Space::Detector, &["met".into()]);
    let (m, _) = frames::matrix(&frame, &met, None, &path).unwrap();
    assert!(
        m.chunks(4)
            .all(|c| c[2] == 0.0 && (c[3] - c[0].hypot(c[1])).abs() < 1e-9)
    );
    let b = frames::columns(Space::Parton, &["b".into()]);
    let (bv, _) = frames::matrix(&frame, &b, None, &path).unwrap();
    for c in bv.chunks(4) {
        let m = (c[3] * c[3] - c[0] * c[0] - c[1] * c[1] - c[2] * c[2]).sqrt();
        assert!((m - 4.7).abs() < 1e-6, "b mass from the card: {m}");
    }
}

#[test]
fn shorter_lhe_file_aligns_what_matches_and_reports_the_rest() {
    // The first 5,000 events of zee_0.lhe.gz against all 10,000 Delphes entries.
    let dir = tempfile::tempdir().unwrap();
    let text = {
        use std::io::Read;
        let mut s = String::new();
        flate2::read::GzDecoder::new(std::fs::File::open(fixture("zee_0.lhe.gz")).unwrap())
            .read_to_string(&mut s)
            .unwrap();
        s
    };
    let mut cut = String::new();
    let mut events = 0;
    for line in text.lines() {
        if line.starts_with("<event") {
            events += 1;
            if events > 5_000 {
                break;
            }
        }
        cut.push_str(line);
        cut.push('\n');
    }
    cut.push_str("</LesHouchesEvents>\n");
    std::fs::write(dir.path().join("zee_0.lhe"), cut).unwrap();
    let lhe = dir.path().join("zee_0.lhe");
    // Both runs read chunk 0 alone: once with the whole LHE file, once cut.
    let whole = card_from("zee.toml", dir.path(), |t| common::zee_0_only(&t));
    let full_card = dir.path().join("full.toml");
    std::fs::rename(&whole, &full_card).unwrap();
    let card = card_from("zee.toml", dir.path(), |t| {
        common::zee_0_only(&t.replace(
            fixture("zee_0.lhe.gz").to_str().unwrap(),
            lhe.to_str().unwrap(),
        ))
    });
    let full = dir.path().join("full");
    let o = otus(&[
        "-q",
        "ingest",
        full_card.to_str().unwrap(),
        "--out",
        full.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = dir.path().join("out");
    let o = ingest(&card, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("differ"),
        "the mismatch is reported: {}",
        stderr(&o)
    );

    let total = &sidecar(&out)["cutflow"]["total"];
    assert_eq!(total["lhe_events"], 5_000);
    let frame = frames::read_parquet(&full.join("events.parquet")).unwrap();
    let events = frame.column("event").unwrap().i64().unwrap().clone();
    let expected = events.iter().flatten().filter(|e| *e < 5_000).count() as u64;
    assert_eq!(total["aligned"].as_u64().unwrap(), expected);
    let unmatched = total["unmatched_entries"].as_u64().unwrap();
    assert_eq!(
        unmatched,
        1_348 - expected,
        "selected entries past the LHE file are reported"
    );
}

#[test]
fn missing_collection_lists_what_the_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let card = card_from("zee.toml", dir.path(), |t| {
        t.replace("jet = \"Jet\"", "jet = \"JetPUPPI\"")
    });
    let out = dir.path().join("out");
    let o = ingest(&card, &out);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("JetPUPPI") && err.contains("zee_0.root"),
        "{err}"
    );
    assert!(
        err.contains("Electron") && err.contains("MissingET"),
        "lists the collections: {err}"
    );
    assert!(
        !out.join("events.parquet").exists(),
        "nothing written on error"
    );
}

#[test]
fn empty_root_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let empty = fixture("coffea_bad_delphes_empty.root");
    let card = card_from("zee.toml", dir.path(), |t| {
        t.replace(
            fixture("zee_0.root").to_str().unwrap(),
            empty.to_str().unwrap(),
        )
    });
    let out = dir.path().join("out");
    let o = ingest(&card, &out);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("coffea_bad_delphes_empty.root") && err.contains("Delphes"),
        "{err}"
    );
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
}

#[test]
fn truncated_gzip_and_non_lhe_text_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("zee_0.lhe.gz")).unwrap();
    let truncated = dir.path().join("zee_0.lhe.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let o = otus(&["inspect", truncated.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("zee_0.lhe.gz") && err.contains("line"),
        "{err}"
    );
    assert!(
        err.contains("ends early") || err.contains("truncated"),
        "{err}"
    );

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "these are my analysis notes\n").unwrap();
    let o = otus(&["inspect", text.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("notes.txt") && err.contains("not an LHE file") && err.contains("line 1"),
        "{err}"
    );
}

#[test]
fn unknown_card_key_is_an_error_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let card = card_from("zee.toml", dir.path(), |t| {
        t.replace("validation = 0.1", "validaton = 0.1")
    });
    let o = otus(&["ingest", card.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("did you mean `validation`"), "{err}");
}

#[test]
fn ttbar_masses_peak_at_the_top_and_w_masses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = otus(&[
        "-q",
        "ingest",
        "cards/ttbar_semilep.toml",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let path = out.join("events.parquet");
    let frame = frames::read_parquet(&path).unwrap();
    let median = |space: &str, names: &[&str], var: &str| {
        let objects: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let sp = if space == "z" {
            Space::Parton
        } else {
            Space::Detector
        };
        let cols = frames::columns(sp, &objects);
        let (values, _) = frames::matrix(&frame, &cols, None, &path).unwrap();
        let sample = otus::evaluate::Sample::new(cols, values).unwrap();
        let derived = otus::evaluate::variables::default_derived();
        let vars = otus::evaluate::variables::variables_of(&sample, space, &derived);
        let column = vars
            .iter()
            .find(|v| v.variable.name == format!("{space}_{var}"))
            .unwrap();
        let mut v = column.values.clone();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let z = ["em", "nu", "b", "bbar", "u", "dbar"];
    let x = ["em", "met", "jet1", "jet2", "jet3", "jet4"];
    // Partons: the true assignment gives the generated masses.
    assert!((median("z", &z, "mass_t_had") - 172.5).abs() < 2.0);
    assert!((median("z", &z, "mass_t_lep") - 172.5).abs() < 2.0);
    assert!((median("z", &z, "mass_w_had") - 80.4).abs() < 1.5);
    // Detector: resolution and combinatorics widen the peaks, the medians stay near.
    let t_had = median("x", &x, "mass_t_had");
    let w_had = median("x", &x, "mass_w_had");
    assert!(
        (150.0..195.0).contains(&t_had),
        "hadronic top median {t_had}"
    );
    assert!((65.0..95.0).contains(&w_had), "hadronic W median {w_had}");
    assert!(median("x", &x, "mass_tt") > 2.0 * 172.5 * 0.9);
}

/// A selection that keeps nothing (partons of a PDG id the files do not
/// hold) is an error that shows the cut-flow, not an empty frame.
#[test]
fn a_selection_that_keeps_nothing_is_an_error_with_the_cutflow() {
    let dir = tempfile::tempdir().unwrap();
    let card = common::card_from("zee.toml", dir.path(), |t| {
        t.replace("pdg = 11\n", "pdg = 13\n")
            .replace("pdg = -11\n", "pdg = -13\n")
    });
    let out = dir.path().join("out");
    let o = common::ingest(&card, &out);
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("no event passed the selection at both levels"),
        "{err}"
    );
    assert!(err.contains("parton em: no pdg 13 status 1"), "{err}");
    assert!(!out.join("events.parquet").exists());
}

/// A glob that matches no file is an error naming the card key and the
/// path it looked for.
#[test]
fn a_glob_matching_nothing_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    // zee_full.toml's globs, relative to a folder where nothing matches.
    let card = common::card_from("zee_full.toml", dir.path(), |t| t);
    let o = common::ingest(&card, &dir.path().join("out"));
    let err = common::stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("inputs.lhe: the glob \"../../shared/data/zee/zee_?.lhe.gz\" matches no file"),
        "{err}"
    );
}

/// LHE events that no Delphes entry carries (dropped between generation and
/// detector simulation; here 500 events appended to `zee_0.lhe.gz`, past
/// the Delphes file's 10,000 entries) are counted in the cut-flow and the
/// sidecar, and alignment by number keeps every matching event.
#[test]
fn lhe_events_without_a_delphes_entry_are_counted() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture("zee_0.lhe.gz")).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let first = text.find("<event").unwrap();
    let mut extra = String::new();
    let mut rest = &text[first..];
    for _ in 0..500 {
        let end = rest.find("</event>").unwrap() + "</event>\n".len();
        extra.push_str(&rest[..end]);
        rest = rest[end..].trim_start_matches(|c: char| c != '<');
    }
    let close = text.rfind("</LesHouchesEvents>").unwrap();
    let longer = format!("{}{extra}{}", &text[..close], &text[close..]);
    let lhe = dir.path().join("zee_0.lhe");
    std::fs::write(&lhe, longer).unwrap();
    let card = card_from("zee.toml", dir.path(), |t| {
        common::zee_0_only(&t).replace(
            fixture("zee_0.lhe.gz").to_str().unwrap(),
            lhe.to_str().unwrap(),
        )
    });
    let out = dir.path().join("out");
    let o = ingest(&card, &out);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("500 LHE events have no Delphes entry"),
        "{err}"
    );
    assert!(err.contains("LHE events with no Delphes entry"), "{err}");
    let total = &sidecar(&out)["cutflow"]["total"];
    assert_eq!(total["lhe_events"], 10_500);
    assert_eq!(total["lhe_without_entry"], 500);
    assert_eq!(total["duplicate_entries"], 0);
    assert_eq!(total["aligned"], 1_348);
}
