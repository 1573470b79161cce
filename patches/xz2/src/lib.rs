//! xz2 0.1's public modules, re-exported from the `liblzma` crate.
//!
//! oxyroot 0.1.25 uses only `xz2::read::XzDecoder`; the other modules are
//! re-exported so that any xz2 user in the graph keeps compiling.
pub use liblzma::{bufread, read, stream, write};
