//! The semileptonic ttbar study through the binary on the embedded chunk
//! (`fixtures/ttbar_0`): the residual model with the restricted decoder
//! trains, the decoder-only fine-tune leaves the encoder alone, P_D(S) is
//! logged, and `otus run`'s export and evaluation keep only D(z) inside S.

mod common;

use std::path::Path;

use common::{card_from, otus, stderr};

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Floor on P_D(S) at the end of the short training: the acceptance keeps
/// at least this fraction of the validation D(z) (measured 0.661; the
/// paper reports about 0.6 for its trained model).
const P_IN_S_FLOOR: f64 = 0.5;

/// Factor by which validation SW(x, D(z)) must fall from initialization
/// (measured 1.62, from 2,529 to 1,563 GeV^2; the untrained decoder is
/// already close to the identity, so the room is the gap between partons
/// and jets).
const SW_FACTOR: f64 = 1.4;

#[test]
fn short_ttbar_training_with_the_restricted_decoder() {
    let dir = tempfile::tempdir().unwrap();
    // A third of the events for validation (about 390) keeps the
    // validation distance's own noise well below the change measured.
    let card = card_from("ttbar_semilep.toml", dir.path(), |t| {
        let t = t.replace("profile = \"default\"", "profile = \"smoke\"");
        assert!(t.contains("\nslices = 1000\n") && t.contains("\nvalidation = 0.1\n"));
        t.replace("\nslices = 1000\n", "\nslices = 64\n")
            .replace("\nvalidation = 0.1\n", "\nvalidation = 0.3\n")
            + "\n[[train.profiles.smoke]]\nepochs = 30\nlearning_rate = 3e-3\nlambda = 20.0\n\
               batch_size = 256\nslices = 64\n\
               \n[[train.profiles.smoke]]\nepochs = 40\nlearning_rate = 1e-3\nrecon = 0.0\n\
               lambda = 0.0\ndecoder_sw = 1.0\nfreeze = \"encoder\"\nbatch_size = 256\nslices = 64\n"
    });
    let out = dir.path().join("run");
    let o = otus(&[
        "run",
        card.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let log = stderr(&o);
    assert!(o.status.success(), "{log}");

    // Training: SW(x, D(z)) falls by SW_FACTOR, P_D(S) is logged in [0, 1]
    // for every epoch and ends above the floor.
    let model = out.join("model");
    let manifest = json(&model.join("model.json"));
    let initial = manifest["initial_val_sw_x"].as_f64().unwrap();
    let records: Vec<serde_json::Value> = std::fs::read_to_string(model.join("train_log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 70);
    let last = records.last().unwrap();
    let final_sw = last["val_sw_x"].as_f64().unwrap();
    let p_in_s = last["val_p_in_s"].as_f64().unwrap();
    eprintln!(
        "validation SW(x, D(z)): initial {initial:.1}, final {final_sw:.1} GeV^2 \
         (factor {:.2}); P_D(S) {p_in_s:.3}",
        initial / final_sw
    );
    assert!(
        final_sw < initial / SW_FACTOR,
        "initial {initial}, final {final_sw}"
    );
    assert!(p_in_s > P_IN_S_FLOOR, "P_D(S) {p_in_s}");
    for r in &records {
        for key in ["p_in_s", "val_p_in_s"] {
            let p = r[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&p), "{key} {p} in {r}");
        }
    }

    // The fine-tune (stage 1) freezes the encoder and runs no term of it:
    // validation SW(z, E(x)) (fixed noise and directions) stays exactly
    // where the joint stage left it, while SW(x, D(z)) still moves.
    let fine: Vec<&serde_json::Value> = records.iter().filter(|r| r["stage"] == 1).collect();
    assert_eq!(fine.len(), 40);
    let joint_end = &records[29];
    for r in &fine {
        assert_eq!(r["val_sw_z"], joint_end["val_sw_z"], "encoder moved: {r}");
        assert_eq!(r["recon"].as_f64(), Some(0.0));
    }
    assert_ne!(fine[39]["val_sw_x"], joint_end["val_sw_x"]);

    // Export: the simulated tree holds only the draws inside S, fewer than
    // the test events (a third of D(z) falls outside after this short
    // training), and the log says how many.
    let sidecar = json(&out.join("events.json"));
    let test = sidecar["split_rows"][2].as_u64().unwrap() as usize;
    let objects: Vec<String> = ["em", "met", "jet1", "jet2", "jet3", "jet4"]
        .map(String::from)
        .to_vec();
    let tree = otus::io::otus::read(&out.join("export/simulated.root"), "otus", &objects).unwrap();
    let kept = tree.event.len();
    assert!(
        kept < test && kept as f64 > P_IN_S_FLOOR * test as f64,
        "{kept} of {test}"
    );
    assert!(
        log.contains(&format!(
            "export: detector acceptance kept {kept} of {test} draws"
        )),
        "{log}"
    );
    let pt = |k: usize, i: usize| {
        let at = 4 * (6 * i + k);
        tree.values[at].hypot(tree.values[at + 1])
    };
    for i in 0..kept {
        // Missing ET is transverse, as in the training data: pz is the
        // constant 0 and E is pT.
        let met = 4 * (6 * i + 1);
        assert_eq!(tree.values[met + 2], 0.0, "event {i} MET pz");
        assert!((tree.values[met + 3] - pt(1, i)).abs() < 1e-3 * pt(1, i).max(1.0));
        for k in 2..6 {
            assert!(
                pt(k, i) > 20.0 - 1e-3,
                "event {i} jet {} pT {}",
                k - 1,
                pt(k, i)
            );
        }
        assert!(pt(0, i) > 10.0 - 1e-3);
    }

    // Ingest: the frame carries the four masses at both levels. At parton
    // level they are those of the true assignment: the hadronic W and the
    // two tops peak at their masses (Pythia's 80.4 and 172.5 GeV, with
    // widths of 2 and 1.4 GeV).
    let frame = otus::frames::read_parquet(&out.join("events.parquet")).unwrap();
    let column = |name: &str| -> Vec<f64> {
        let c = frame.column(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        c.f64().unwrap().into_no_null_iter().collect()
    };
    let median = |mut v: Vec<f64>| {
        v.retain(|m| m.is_finite());
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (name, mass) in [
        ("z_mass_w_had", 80.4),
        ("z_mass_t_lep", 172.5),
        ("z_mass_t_had", 172.5),
    ] {
        let m = median(column(name));
        assert!((m - mass).abs() < 2.0, "{name}: median {m} GeV");
    }
    assert!(median(column("z_mass_tt")) > 345.0);
    for name in ["x_mass_tt", "x_mass_w_had", "x_mass_t_lep", "x_mass_t_had"] {
        let v = column(name);
        let finite = v.iter().filter(|m| m.is_finite()).count();
        assert!(
            finite * 10 >= v.len() * 9,
            "{name}: {finite} of {} finite",
            v.len()
        );
    }

    // Evaluation: the four ttbar masses of the study are in the report.
    let metrics = json(&out.join("report/metrics.json"));
    let simulation = metrics["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "simulation")
        .unwrap();
    let names: Vec<&str> = simulation["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    for m in ["x_mass_tt", "x_mass_w_had", "x_mass_t_lep", "x_mass_t_had"] {
        assert!(names.contains(&m), "{m} in {names:?}");
    }
}
