//! The shipped cards load and validate, and README's card reference names
//! every key they can hold.

mod common;

use otus::card::RunCard;

fn keys(value: &toml::Value, out: &mut Vec<String>) {
    match value {
        toml::Value::Table(t) => {
            for (k, v) in t {
                out.push(k.clone());
                keys(v, out);
            }
        }
        toml::Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[test]
fn every_shipped_card_validates() {
    let dir = common::root().join("cards");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            RunCard::load(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 4, "found {n} cards");
}

#[test]
fn readme_documents_every_card_key() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let mut names = Vec::new();
    for card in ["zee.toml", "ttbar_semilep.toml"] {
        let card = RunCard::load(common::root().join("cards").join(card)).unwrap();
        let mut card = card.clone();
        card.splits.test_last = Some(1);
        card.output = Some("x".into());
        card.detector.electron.as_mut().unwrap().eta_max = Some(2.5);
        keys(&toml::Value::try_from(&card).unwrap(), &mut names);
    }
    names.sort();
    names.dedup();
    let documented = |k: &String| {
        [
            format!("`{k}`"),
            format!(".{k}`"),
            format!("`{k}."),
            format!("[[{k}]]"),
            format!(" {k}`"),
        ]
        .iter()
        .any(|form| readme.contains(form.as_str()))
    };
    let missing: Vec<&String> = names.iter().filter(|k| !documented(k)).collect();
    assert!(missing.is_empty(), "README lacks card keys {missing:?}");
}

#[test]
fn zee_card_restates_the_built_in_profiles() {
    let card = RunCard::load(common::root().join("cards/zee.toml")).unwrap();
    let restated = card.train_settings().unwrap().profiles;
    let builtin = otus::train::TrainSettings::builtin_profiles();
    assert_eq!(restated, builtin, "cards/zee.toml and train::config differ");
}

/// The full-sample cards and the starter cards of `otus card init` are the
/// embedded cards with other inputs: every other setting agrees, so a
/// change to one card cannot silently leave the others behind.
#[test]
fn full_and_starter_cards_differ_from_the_embedded_ones_only_in_their_inputs() {
    // Everything but name, inputs and output, with [model] and [train]
    // resolved (a card may restate a default or leave it out).
    let settings = |path: std::path::PathBuf| {
        let card = RunCard::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let mut value = toml::Value::try_from(&card).unwrap();
        let table = value.as_table_mut().unwrap();
        for key in ["name", "inputs", "output", "model", "train"] {
            table.remove(key);
        }
        let model = card.model_settings().unwrap();
        let mut train = card.train_settings().unwrap();
        let anchor = train.anchor.clone().unwrap_or(card.partons[0].name.clone());
        let mut stages = Vec::new();
        for profile in ["default", "paper"] {
            train.profile = profile.into();
            stages.push(train.stages().unwrap());
        }
        train.profile = String::new();
        train.profiles.clear();
        train.anchor = None;
        (value, model, train, anchor, stages)
    };
    let dir = tempfile::tempdir().unwrap();
    for (process, embedded, full) in [
        ("zee", "zee.toml", "zee_full.toml"),
        ("ttbar", "ttbar_semilep.toml", "ttbar_semilep_full.toml"),
    ] {
        let cards = common::root().join("cards");
        let reference = settings(cards.join(embedded));
        assert_eq!(
            settings(cards.join(full)),
            reference,
            "{full} vs {embedded}"
        );
        let starter = dir.path().join(format!("{process}.toml"));
        let o = common::otus(&["card", "init", process, "-o", starter.to_str().unwrap()]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        assert_eq!(
            settings(starter),
            reference,
            "otus card init {process} vs {embedded}"
        );
    }
}

#[test]
fn a_starter_card_keeps_its_runs_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    // `card init` takes its file as `-o`, `--output` or `--out` (the same
    // option; `tests/exit_status.rs` does not repeat this for each command).
    for (process, name, flag) in [
        ("zee", "zee", "-o"),
        ("ttbar", "ttbar_semilep", "--out"),
        ("zee", "zee", "--output"),
    ] {
        let path = dir.path().join(format!("{process}{flag}.toml"));
        let o = common::otus(&["card", "init", process, flag, path.to_str().unwrap()]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        let card = RunCard::load(&path).unwrap();
        assert_eq!(
            card.output_dir(dir.path()),
            dir.path().join("out").join(name),
            "{process}"
        );
    }
}
