//! Reading speed of our LHE and Delphes readers over one or more files:
//! `cargo bench --bench read -- lhe FILE...` or `-- delphes FILE...`.
//! Prints `events seconds checksum` on stdout; `scripts/bench_read.py` runs
//! it alternately with pylhe and uproot and measures peak memory.

use std::time::Instant;

use otus::card::Collections;
use otus::io::delphes::{DelphesReader, Wanted};
use otus::io::lhe::LheReader;

/// The allocator of the `otus` binary, so the bench measures what it does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (kind, paths) = match args.as_slice() {
        [k, p @ ..] if !p.is_empty() => (k.as_str(), p),
        _ => {
            eprintln!("usage: read (lhe|delphes) FILE...");
            std::process::exit(1);
        }
    };
    let start = Instant::now();
    let mut events = 0u64;
    let mut checksum = 0.0f64;
    for path in paths {
        read(kind, path, &mut events, &mut checksum);
    }
    println!(
        "{events} {:.6} {checksum:.6e}",
        start.elapsed().as_secs_f64()
    );
}

fn read(kind: &str, path: &str, events: &mut u64, checksum: &mut f64) {
    match kind {
        "lhe" => {
            for e in LheReader::open(path).expect("open") {
                let e = e.expect("event");
                *events += 1;
                *checksum += e.particles.iter().map(|p| p.momentum.px).sum::<f64>();
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
                *events += chunk.len() as u64;
                *checksum += chunk
                    .iter()
                    .flat_map(|e| &e.jets)
                    .map(|j| j.pt)
                    .sum::<f64>();
            }
        }
        other => {
            eprintln!("unknown kind {other}: expected lhe or delphes");
            std::process::exit(1);
        }
    }
}
