//! Training killed with SIGKILL mid-run: the checkpoint on disk is always
//! complete, `otus train --resume` continues from it, and the finished log
//! holds every epoch once, with the losses of an uninterrupted run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{card_from, ingest, otus, stderr};

/// zee.toml on `zee_0` with a 100-epoch profile of small batches (about
/// 15 ms per epoch here, each epoch ending in a checkpoint).
fn card(dir: &Path) -> std::path::PathBuf {
    card_from("zee.toml", dir, |t| {
        let t = common::zee_0_only(&t.replace("profile = \"default\"", "profile = \"long\""));
        t + "\n[[train.profiles.long]]\nepochs = 100\nlearning_rate = 1e-3\n\
             batch_size = 256\nslices = 16\n"
    })
}

fn train_args<'a>(card: &'a str, frames: &'a str, out: &'a str) -> Vec<&'a str> {
    vec!["-q", "train", card, "--frames", frames, "--out", out]
}

fn log_epochs(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("train_log.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Ingests the card's events into `dir/ingest` and trains the whole,
/// uninterrupted run into `dir/whole`; returns the card, the frames and
/// that run's folder.
fn ingest_and_train_whole(dir: &Path) -> (String, String, PathBuf) {
    let card = card(dir);
    let ingested = dir.join("ingest");
    let o = ingest(&card, &ingested);
    assert!(o.status.success(), "{}", stderr(&o));
    let frames = ingested.join("events.parquet");
    let (card, frames) = (
        card.to_str().unwrap().to_string(),
        frames.to_str().unwrap().to_string(),
    );
    let whole = dir.join("whole");
    let o = otus(&train_args(&card, &frames, whole.to_str().unwrap()));
    assert!(o.status.success(), "{}", stderr(&o));
    (card, frames, whole)
}

/// Runs `otus train --resume` on `model` and checks that the finished log
/// holds every epoch once with the losses of the uninterrupted run
/// `whole`, and that no partial checkpoint or weights are left.
fn resumes_to_the_uninterrupted_losses(
    card: &str,
    frames: &str,
    model: &Path,
    whole: &Path,
    after: &str,
) {
    let mut args = train_args(card, frames, model.to_str().unwrap());
    args.push("--resume");
    let o = otus(&args);
    assert!(o.status.success(), "resume after {after}: {}", stderr(&o));
    let got = log_epochs(model);
    let want = log_epochs(whole);
    assert_eq!(got.len(), 100, "after {after}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g["epoch"].as_u64(), Some(i as u64));
        for key in ["loss", "val_sw_x", "val_sw_z"] {
            assert_eq!(g[key], w[key], "epoch {i} {key} after {after}");
        }
    }
    for leftover in [
        "checkpoint.new",
        "checkpoint.old",
        ".writing",
        "best/.writing",
    ] {
        assert!(
            !model.join(leftover).exists(),
            "{leftover} left behind after {after}"
        );
    }
}

#[test]
fn sigkill_during_training_resumes_from_a_complete_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let (card, frames, whole) = ingest_and_train_whole(dir.path());
    let (card, frames) = (card.as_str(), frames.as_str());

    // Kill at four points: soon after the first checkpoint, and 0.12 s,
    // 0.25 s and 0.4 s later (wherever in an epoch, a checkpoint or weight
    // write or a log append the run then is).
    for delay_ms in [0u64, 120, 250, 400] {
        let killed = dir.path().join(format!("killed_{delay_ms}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_otus"))
            .args(train_args(card, frames, killed.to_str().unwrap()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let state = killed.join("checkpoint/state.json");
        let started = Instant::now();
        while !state.exists() && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        let epochs_before = log_epochs(&killed).len();
        eprintln!("killed at +{delay_ms} ms after {epochs_before} epochs");
        assert!(epochs_before < 100, "the run ended before the kill");
        if delay_ms == 0 {
            // The weights of a stopped run are usable, with a warning.
            let sim = dir.path().join("early.parquet");
            let o = otus(&[
                "simulate",
                "--model",
                killed.to_str().unwrap(),
                common::fixture("zee_full_200.lhe.gz").to_str().unwrap(),
                "-o",
                sim.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            assert!(
                stderr(&o).contains("of the profile's 100 epochs (stopped early"),
                "{}",
                stderr(&o)
            );
        }

        let after = format!("a kill at +{delay_ms} ms ({status}, {epochs_before} epochs logged)");
        resumes_to_the_uninterrupted_losses(card, frames, &killed, &whole, &after);
    }
}

/// The disk fills while training runs (a 16 MiB tmpfs in a private mount
/// namespace, filled by another process after the first checkpoint): the
/// training stops with status 1 and the system's message naming the file,
/// and after space is freed `--resume` continues from the last complete
/// checkpoint to the losses of an uninterrupted run.
#[test]
fn a_disk_that_fills_during_training_keeps_a_checkpoint_that_resumes() {
    if !common::mount_namespaces_allowed() {
        eprintln!("mount namespaces are not allowed here: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (card, frames, whole) = ingest_and_train_whole(dir.path());
    let (card, frames) = (card.as_str(), frames.as_str());

    let disk = dir.path().join("disk");
    let kept = dir.path().join("kept");
    std::fs::create_dir_all(&disk).unwrap();
    std::fs::create_dir_all(&kept).unwrap();
    let script = r#"
        disk=$1 kept=$2; shift 2
        mount -t tmpfs -o size=16m otus-test "$disk" || exit 97
        "$@" 2> "$kept.stderr" & pid=$!
        # Wait for the first checkpoint, at most 60 s, and not for a run that ended.
        n=0
        while [ ! -e "$disk/model/checkpoint/state.json" ] && [ $n -lt 12000 ] \
              && kill -0 $pid 2>/dev/null; do sleep 0.005; n=$((n+1)); done
        dd if=/dev/zero of="$disk/filler" bs=64k 2>/dev/null
        wait $pid; rc=$?
        rm "$disk/filler"
        cp -a "$disk/model/." "$kept/"
        exit $rc
    "#;
    let model = disk.join("model");
    let o = Command::new("unshare")
        .args(["-m", "sh", "-c", script, "sh"])
        .arg(&disk)
        .arg(&kept)
        .arg(env!("CARGO_BIN_EXE_otus"))
        .args(train_args(card, frames, model.to_str().unwrap()))
        .output()
        .unwrap();
    let err = std::fs::read_to_string(dir.path().join("kept.stderr")).unwrap();
    assert_eq!(o.status.code(), Some(1), "{err}");
    let last = err.lines().rfind(|l| l.starts_with("error:")).unwrap();
    assert!(
        last.contains("No space left on device") && last.contains(model.to_str().unwrap()),
        "{err}"
    );
    let before = log_epochs(&kept).len();
    eprintln!("after {before} epochs: {last}");
    assert!(
        before < 100,
        "the disk filled before the run ended ({before} epochs)"
    );

    resumes_to_the_uninterrupted_losses(card, frames, &kept, &whole, "the disk filled");
}
