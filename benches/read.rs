//! Reading speed of our LHE and Delphes readers, one file per run:
//! `cargo bench --bench read -- lhe FILE` or `-- delphes FILE`.
//! Prints `events seconds` on stdout; `scripts/bench_read.py` runs it
//! alternately with pylhe and uproot and measures peak memory.

use std::time::Instant;

use otus::card::Collections;
use otus::io::delphes::{DelphesReader, Wanted};
use otus::io::lhe::LheReader;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (kind, path) = match args.as_slice() {
        [k, p, ..] => (k.as_str(), p.as_str()),
        _ => {
            eprintln!("usage: read (lhe|delphes) FILE");
            return;
        }
    };
    let start = Instant::now();
    let mut events = 0u64;
    let mut checksum = 0.0f64;
    match kind {
        "lhe" => {
            for e in LheReader::open(path).expect("open") {
                let e = e.expect("event");
                events += 1;
                checksum += e.particles.iter().map(|p| p.momentum.px).sum::<f64>();
            }
        }
        "delphes" => {
            let wanted = Wanted {
                number: true,
                electrons: true,
                muons: true,
                photons: true,
                jets: true,
                met: true,
            };
            let mut r = DelphesReader::open(path, "Delphes", &Collections::default(), wanted)
                .expect("open");
            loop {
                let chunk = r.next_chunk().expect("chunk");
                if chunk.is_empty() {
                    break;
                }
                events += chunk.len() as u64;
                checksum += chunk
                    .iter()
                    .flat_map(|e| &e.jets)
                    .map(|j| j.pt)
                    .sum::<f64>();
            }
        }
        other => panic!("unknown kind {other}"),
    }
    println!(
        "{events} {:.6} {checksum:.6e}",
        start.elapsed().as_secs_f64()
    );
}
