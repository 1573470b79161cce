//! The exit status scheme of README ("Subcommands"): 0 success, 1 bad input
//! or usage, 2 an internal error (a panic, which is a bug).

mod common;

use std::process::Command;

use common::{otus, stderr};

#[test]
fn help_and_version_succeed_on_stdout() {
    for flag in ["--help", "--version"] {
        let o = otus(&[flag]);
        assert_eq!(o.status.code(), Some(0), "{flag}");
        assert!(!o.stdout.is_empty(), "{flag} prints to stdout");
    }
    let o = otus(&["simulate", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--repeat"));
}

#[test]
fn usage_errors_exit_1_with_the_parsers_message() {
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "simulate", "--model", "m", "x.lhe", "-o", "y.root", "--repeat", "0",
            ],
            "0 is not in 1..=1000",
        ),
        (
            &[
                "unfold",
                "--model",
                "m",
                "x.root",
                "-o",
                "y.root",
                "--repeat",
                "99999999999",
            ],
            "not in 1..=1000",
        ),
        (&[], "Usage"),
        (&["simulat"], "unrecognized subcommand 'simulat'"),
        (&["ingest"], "required arguments were not provided"),
        (
            &["ingest", "cards/zee.toml", "--frobnicate"],
            "unexpected argument '--frobnicate'",
        ),
        (
            &[
                "simulate", "--model", "m", "x.lhe", "-o", "y.root", "--repeat", "many",
            ],
            "invalid value 'many'",
        ),
    ];
    for (args, message) in cases {
        let o = otus(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn bad_input_exits_1_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("card.toml");
    std::fs::write(&card, "name = \"t\"\nseed = \"zero\"\n").unwrap();
    let o = otus(&["ingest", card.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("card.toml") && err.contains("line 2"), "{err}");
    let o = otus(&["inspect", dir.path().join("missing.root").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("missing.root"), "{}", stderr(&o));
    // An empty file and a folder where a file belongs.
    let empty = dir.path().join("empty.root");
    std::fs::write(&empty, b"").unwrap();
    let o = otus(&["inspect", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("empty.root: the file is empty; expected an LHE or a ROOT file"),
        "{}",
        stderr(&o)
    );
    let err = otus::io::lhe::LheReader::open(&empty)
        .err()
        .unwrap()
        .to_string();
    assert!(
        !err.contains("line 0") && err.contains("the file is empty"),
        "{err}"
    );
    let o = otus(&["inspect", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("Is a directory"), "{}", stderr(&o));
    let card = common::card_from("zee.toml", dir.path(), |t| {
        common::zee_0_only(&t).replace("/zee_0.lhe.gz", "")
    });
    let o = otus(&[
        "ingest",
        card.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("fixtures is a folder; expected a file"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_stdout_that_cannot_be_written_is_an_error_but_a_closed_pipe_is_not() {
    let full = std::fs::File::create("/dev/full").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_otus"))
        .args(["inspect", "fixtures/zee_0.lhe.gz"])
        .current_dir(common::root())
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("stdout: No space left on device"),
        "{}",
        stderr(&o)
    );
    // A reader that stops early (`| head -1`).
    let mut child = Command::new(env!("CARGO_BIN_EXE_otus"))
        .args([
            "inspect",
            "fixtures/zee_0.lhe.gz",
            "fixtures/zee_1.lhe.gz",
            "fixtures/zee_2.lhe.gz",
        ])
        .current_dir(common::root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_internal_error_exits_2_and_says_it_is_a_bug() {
    let o = Command::new(env!("CARGO_BIN_EXE_otus"))
        .args(["inspect", "fixtures/zee_0.lhe.gz"])
        .current_dir(common::root())
        .env("OTUS_TEST_INTERNAL_ERROR", "1")
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.starts_with("internal error: otus "), "{err}");
    assert!(
        err.contains("This is a bug in otus") && err.contains("RUST_BACKTRACE=1"),
        "{err}"
    );
    assert!(
        !err.contains("thread 'main' panicked"),
        "our hook replaces the default text: {err}"
    );
    assert!(o.stdout.is_empty());
}
