//! Helpers shared by the integration tests: run the built binary, find fixtures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file in `fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    root().join("fixtures").join(name)
}

/// Runs `otus` with the arguments and returns its output.
pub fn otus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_otus"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the otus binary runs")
}

/// Runs `otus ingest CARD --out OUT`.
pub fn ingest(card: &Path, out: &Path) -> Output {
    otus(&[
        "ingest",
        card.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
}

/// Stderr as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes a card into `dir` from `template` (a card in `cards/`) with its
/// relative fixture paths made absolute and `edit` applied to the text.
pub fn card_from(template: &str, dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join("cards").join(template)).unwrap();
    let fixtures = root().join("fixtures");
    let text = text.replace("../fixtures", fixtures.to_str().unwrap());
    let path = dir.join(template);
    std::fs::write(&path, edit(text)).unwrap();
    path
}

/// `cards/zee.toml`'s text with the input pairs of chunks 1 to 3 removed,
/// so that it reads `zee_0` alone (1,348 selected events).
pub fn zee_0_only(text: &str) -> String {
    let other = |l: &&str| ["zee_1.", "zee_2.", "zee_3."].iter().any(|c| l.contains(c));
    let mut kept: String = text
        .lines()
        .filter(|l| !other(l))
        .collect::<Vec<_>>()
        .join("\n");
    kept.push('\n');
    kept
}
