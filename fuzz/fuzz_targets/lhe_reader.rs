//! The LHE reader on arbitrary bytes: open them as an LHE file (plain or
//! gzipped), read the run information and every event. Errors are expected;
//! a panic, a hang or a large allocation is a finding.

#![no_main]

use libfuzzer_sys::fuzz_target;
use otus::io::lhe::LheReader;

fuzz_target!(|data: &[u8]| {
    let Ok(reader) = LheReader::from_reader("fuzz.lhe", std::io::Cursor::new(data.to_vec())) else {
        return;
    };
    let info = reader.run_info();
    std::hint::black_box((info.processes.len(), info.header.len(), &info.generator));
    // Past errors too: the iterator must end on any input.
    for event in reader {
        if let Ok(e) = event {
            std::hint::black_box((e.particles.len(), e.alt_weights.len(), e.weight));
        }
    }
});
