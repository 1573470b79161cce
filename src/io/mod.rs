//! Readers of the input formats.

pub mod delphes;
pub mod lhe;
pub mod otus;
pub mod root;
