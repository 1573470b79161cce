//! `otus`: learn a fast detector simulator (decoder, z -> x) and an unfolder
//! (encoder, x -> z) from unpaired parton-level and detector-level events.
//!
//! The method is OTUS: J. N. Howard, S. Mandt, D. Whiteson, Y. Yang,
//! "Learning to simulate high energy particle collisions from unlabeled data",
//! Sci. Rep. 12, 7567 (2022), arXiv:2101.08944.
//!
//! - [`model`]: the encoder and decoder networks (burn modules) and their
//!   card settings.
//! - [`train`]: the loss (sliced Wasserstein, reconstruction, anchors), the
//!   staged training loop, checkpoints and the training log.
//! - [`simulate`]: apply a trained decoder or encoder to new events.
#![warn(missing_docs)]

pub mod model;
pub mod simulate;
pub mod train;
