//! # otus
//!
//! Learn a fast detector simulator (and an unfolder) from unpaired
//! parton-level and detector-level events, following OTUS (J. N. Howard,
//! S. Mandt, D. Whiteson, Y. Yang, "Learning to simulate high energy particle
//! collisions from unlabeled data", Sci. Rep. 12, 7567 (2022)).
//!
//! The modules follow the pipeline:
//! - [`io`]: LHE and Delphes (ROOT) readers;
//! - [`card`]: run cards;
//! - [`select`]: final-state selection, alignment and cut-flow;
//! - [`frames`]: column names and Parquet frames;
//! - [`ingest`]: the ingest stage, from files to a frame;
//! - [`model`]: the encoder and decoder networks;
//! - [`train`]: the loss, the staged schedule, checkpoints and the log;
//! - [`simulate`]: the decoder and encoder applied to new events;
//! - [`study`]: the stages after ingest driven by a run card;
//! - [`export`]: simulated and unfolded events as ROOT trees and LHE files;
//! - [`evaluate`]: metrics (sliced Wasserstein, W2, KS, chi-square) and SVG figures;
//! - [`run`]: the whole study from one card, skipping unchanged stages;
//! - [`starter`]: commented starter cards (`otus card init`);
//! - [`inspect`]: what a file holds;
//! - [`physics`]: four-vectors and invariant masses.
//!
//! The library never prints; it logs through the `log` facade and reports
//! progress through [`Progress`].
#![warn(missing_docs)]

pub mod card;
pub mod evaluate;
pub mod export;
pub mod frames;
pub mod ingest;
pub mod inspect;
pub mod io;
pub mod model;
pub mod physics;
pub mod run;
pub mod select;
pub mod simulate;
pub mod starter;
pub mod study;
pub mod train;

thread_local! {
    static CATCHING_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` and turns a panic in it into `Err(message)`, for dependencies
/// that report some failures by panicking (oxyroot). While `f` runs,
/// [`panic_is_caught`] is true on this thread.
pub(crate) fn catch_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    let before = CATCHING_PANIC.with(|c| c.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    CATCHING_PANIC.with(|c| c.set(before));
    outcome.map_err(|panic| panic_message(panic.as_ref()))
}

/// The message of a panic's payload (`panic!` gives a `&str` or a
/// `String`), or `(no message)`.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// Whether a panic on this thread now happens inside the library's own
/// [`catch_panic`], which turns it into an error: a panic hook should then
/// stay quiet, since the panic is not a bug that ends the program.
pub fn panic_is_caught() -> bool {
    CATCHING_PANIC.with(|c| c.get())
}

/// Any error of the library; every variant names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A run card.
    #[error(transparent)]
    Card(#[from] card::CardError),
    /// An LHE file.
    #[error(transparent)]
    Lhe(#[from] io::lhe::LheError),
    /// A Delphes file.
    #[error(transparent)]
    Delphes(#[from] io::delphes::DelphesError),
    /// A ROOT file.
    #[error(transparent)]
    Root(#[from] io::root::RootError),
    /// A frame.
    #[error(transparent)]
    Frame(#[from] frames::FrameError),
    /// Training, saving or loading a model.
    #[error(transparent)]
    Train(#[from] train::Error),
    /// Evaluation.
    #[error(transparent)]
    Evaluate(#[from] evaluate::EvaluateError),
    /// Writing ROOT or LHE output.
    #[error(transparent)]
    Export(#[from] export::ExportError),
    /// Inputs that cannot be aligned.
    #[error("{0}")]
    Alignment(String),
    /// Anything else, with its context.
    #[error("{0}")]
    Other(String),
}

/// Receives progress of long work (the binary shows a bar or log lines).
pub trait Progress: Sync {
    /// A stage starts with `total` units of work.
    fn start(&self, stage: &str, total: u64);
    /// `units` more are done.
    fn advance(&self, units: u64);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
}

#[cfg(test)]
mod tests {
    #[test]
    fn caught_panics_become_errors_and_are_flagged_only_inside() {
        assert!(!super::panic_is_caught());
        let inside = super::catch_panic(super::panic_is_caught);
        assert_eq!(inside, Ok(true));
        let err = super::catch_panic(|| -> u8 { panic!("oxyroot says no") });
        assert_eq!(err, Err("oxyroot says no".to_string()));
        assert!(!super::panic_is_caught(), "the flag is reset after a panic");
    }
}
