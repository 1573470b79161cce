//! otus library crate.

pub mod io;
