//! Speed of the fast simulator: decoder events per second, and export
//! events per second to ROOT and to Parquet, on the parton events of one
//! LHE file drawn `REPEAT` times.
//!
//! `cargo bench --bench simulate -- MODEL_DIR LHE REPEAT OUT_DIR` (a model
//! folder written by `otus train`); `scripts/bench_all.py` trains a small
//! Z -> ee model and runs it. Prints one JSON line on stdout.

use std::path::{Path, PathBuf};
use std::time::Instant;

use otus::frames::Space;
use otus::simulate;
use otus::study::{self, OutputOptions};
use otus::train::SavedModel;

/// The allocator of the `otus` binary, so the bench measures what it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [model_dir, lhe, repeat, out_dir] = args.as_slice() else {
        eprintln!("usage: simulate MODEL_DIR LHE REPEAT OUT_DIR");
        std::process::exit(1);
    };
    let repeat: usize = repeat.parse().expect("REPEAT is a positive integer");
    let model_dir = Path::new(model_dir);
    let card = study::model_card(model_dir).expect("the model's card");
    let model = SavedModel::load(model_dir).expect("the model");
    let input = study::read_events(&[PathBuf::from(lhe)], &card, Space::Parton).expect("LHE");

    let start = Instant::now();
    let output = simulate::simulate(&model, &input.sample, repeat, 0).expect("simulate");
    let decode = start.elapsed().as_secs_f64();
    let events = output.rows();

    let mut seconds = Vec::new();
    for name in ["bench.root", "bench.parquet"] {
        let path = Path::new(out_dir).join(name);
        let start = Instant::now();
        let files = study::write_output(
            &path,
            &input,
            &output,
            repeat,
            None,
            &card,
            &OutputOptions::default(),
        )
        .expect("export");
        seconds.push(start.elapsed().as_secs_f64());
        let bytes: u64 = files
            .iter()
            .map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0))
            .sum();
        seconds.push(bytes as f64 / events as f64);
    }
    println!(
        "{{\"events\": {events}, \"decode_s\": {decode:.4}, \"root_s\": {:.4}, \"root_bytes_per_event\": {:.1}, \
         \"parquet_s\": {:.4}, \"parquet_bytes_per_event\": {:.1}}}",
        seconds[0], seconds[1], seconds[2], seconds[3]
    );
}
