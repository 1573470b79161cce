//! Input readers.

pub mod root;
