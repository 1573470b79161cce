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

/// Whether this process may mount a tmpfs in a private mount namespace
/// (`unshare -m`: root or `CAP_SYS_ADMIN`).
pub fn mount_namespaces_allowed() -> bool {
    Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount -t tmpfs -o size=4k otus-probe /mnt",
        ])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// How [`otus_in_sandbox`] makes a folder unusable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sandbox {
    /// A filesystem of 64 KiB that fills up (`ENOSPC`).
    Full,
    /// A read-only filesystem (`EROFS`).
    ReadOnly,
}

/// Runs `otus args` with `dir` covered by a fresh tmpfs, full or read-only,
/// in a private mount namespace (`unshare -m`), so the rest of the system
/// sees nothing. Returns the output and the files left in `dir` as the
/// process saw them (relative paths, sorted); with `keep`, the folder's
/// content is copied there afterwards. `None` where mount namespaces are
/// not allowed (a non-root user, a container without `CAP_SYS_ADMIN`).
pub fn otus_in_sandbox(
    sandbox: Sandbox,
    dir: &Path,
    args: &[&str],
    keep: Option<&Path>,
) -> Option<(Output, Vec<String>)> {
    if !mount_namespaces_allowed() {
        return None;
    }
    let options = match sandbox {
        Sandbox::Full => "size=64k",
        Sandbox::ReadOnly => "ro,size=64k",
    };
    let scratch = tempfile::tempdir().unwrap();
    let listing = scratch.path().join("listing");
    let keep = keep
        .map(|k| k.to_str().unwrap().to_string())
        .unwrap_or_default();
    let script = r#"
        dir=$1 options=$2 listing=$3 keep=$4; shift 4
        mount -t tmpfs -o "$options" otus-test "$dir" || exit 97
        "$@"; rc=$?
        (cd "$dir" && find . -mindepth 1 | sort) > "$listing"
        [ -n "$keep" ] && cp -a "$dir/." "$keep/"
        exit $rc
    "#;
    let o = Command::new("unshare")
        .args(["-m", "sh", "-c", script, "sh"])
        .arg(dir)
        .arg(options)
        .arg(&listing)
        .arg(&keep)
        .arg(env!("CARGO_BIN_EXE_otus"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("unshare runs");
    assert_ne!(o.status.code(), Some(97), "mount failed: {}", stderr(&o));
    let files = std::fs::read_to_string(&listing)
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim_start_matches("./").to_string())
        .collect();
    Some((o, files))
}
