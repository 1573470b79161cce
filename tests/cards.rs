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
