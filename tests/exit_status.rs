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
    let cases: [(&[&str], &str); 5] = [
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
