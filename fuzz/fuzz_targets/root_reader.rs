//! The ROOT reader on arbitrary bytes: open them as a ROOT file, list its
//! keys, open every `TTree` key (and `Delphes`), and read every branch that
//! `branches()` reports as readable with `read_f64`, `read_i64` and
//! `read_counts`, over at most the first 1000 entries (a file may claim any
//! entry count). Errors are expected; a panic, a hang or a large allocation
//! is a finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otus::io::root::{RootFile, Tree};

/// The most entries read per branch.
const MAX_ENTRIES: u64 = 1000;

fn read_all(tree: &Tree) {
    let range = 0..tree.entries().min(MAX_ENTRIES);
    let branches: Vec<_> = tree.branches().collect();
    for b in branches.iter().filter(|b| b.readable) {
        if let Ok(j) = tree.read_f64(&b.name, range.clone()) {
            std::hint::black_box(j.values.len());
        }
        if let Ok(j) = tree.read_i64(&b.name, range.clone()) {
            std::hint::black_box(j.values.len());
        }
        if let Ok(c) = tree.read_counts(&b.name, range.clone()) {
            std::hint::black_box(c.len());
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(file) = RootFile::from_bytes("fuzz.root", data.to_vec()) else {
        return;
    };
    std::hint::black_box(file.root_version());
    let mut names = vec!["Delphes".to_string()];
    names.extend(
        file.keys()
            .iter()
            .filter(|k| k.class_name == "TTree")
            .map(|k| format!("{};{}", k.name, k.cycle)),
    );
    for name in &names {
        if let Ok(tree) = file.tree(name) {
            read_all(&tree);
        }
    }
});
