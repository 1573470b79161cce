//! Error type of the ROOT reader.

use std::ops::Range;
use std::path::PathBuf;

/// Everything that can go wrong while reading a ROOT file.
///
/// Every message names the file; messages about tree data also name the tree,
/// the branch and the entry range (and the basket where one is involved).
#[derive(Debug, thiserror::Error)]
pub enum RootError {
    /// The operating system failed to open or read the file.
    #[error("{path}: cannot read file: {source}")]
    Io {
        /// File path.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the ROOT magic bytes.
    #[error("{path}: not a ROOT file (expected the magic bytes \"root\" at offset 0)")]
    NotRoot {
        /// File path.
        path: PathBuf,
    },
    /// A structure in the file is inconsistent or truncated.
    #[error("{path}: malformed ROOT file while reading {context}: {detail}")]
    Malformed {
        /// File path.
        path: PathBuf,
        /// What was being read.
        context: String,
        /// What was expected and what was found.
        detail: String,
    },
    /// The file uses a feature this reader deliberately does not implement.
    #[error("{path}: unsupported ROOT feature in {context}: {detail}")]
    Unsupported {
        /// File path.
        path: PathBuf,
        /// What was being read.
        context: String,
        /// What is unsupported and why.
        detail: String,
    },
    /// No tree of that name among the file's keys.
    #[error("{path}: no TTree named '{name}' in this file; the file holds {available}")]
    NoSuchTree {
        /// File path.
        path: PathBuf,
        /// Requested tree name.
        name: String,
        /// Human-readable list of the keys present.
        available: String,
    },
    /// No branch of that name in the tree.
    #[error("{path}: tree '{tree}' has no branch '{branch}'{hint}")]
    NoSuchBranch {
        /// File path.
        path: PathBuf,
        /// Tree name.
        tree: String,
        /// Requested branch name.
        branch: String,
        /// Suggestions (may be empty).
        hint: String,
    },
    /// The branch exists but cannot be read the way it was asked.
    #[error("{path}: tree '{tree}', branch '{branch}' ({type_name}): {detail}")]
    BranchType {
        /// File path.
        path: PathBuf,
        /// Tree name.
        tree: String,
        /// Branch name.
        branch: String,
        /// Type description of the branch.
        type_name: String,
        /// What was expected.
        detail: String,
    },
    /// The requested entry range is outside the tree.
    #[error(
        "{path}: tree '{tree}', branch '{branch}': entry range {start}..{end} is invalid (the tree has {entries} entries)"
    )]
    BadRange {
        /// File path.
        path: PathBuf,
        /// Tree name.
        tree: String,
        /// Branch name.
        branch: String,
        /// Requested start.
        start: u64,
        /// Requested end (exclusive).
        end: u64,
        /// Entries in the tree.
        entries: u64,
    },
    /// A basket could not be read, decompressed or decoded.
    #[error("{0}")]
    Basket(Box<BasketError>),
}

/// Details of a [`RootError::Basket`] (boxed to keep `RootError` small).
#[derive(Debug)]
pub struct BasketError {
    /// File path.
    pub path: PathBuf,
    /// Tree name.
    pub tree: String,
    /// Branch name.
    pub branch: String,
    /// Basket index within the branch.
    pub basket: usize,
    /// Entries held by the basket.
    pub basket_entries: Range<u64>,
    /// Entries requested.
    pub entries: Range<u64>,
    /// What went wrong.
    pub detail: String,
}

impl std::fmt::Display for BasketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: tree '{}', branch '{}', basket {} (entries {}..{}), reading entries {}..{}: {}",
            self.path.display(),
            self.tree,
            self.branch,
            self.basket,
            self.basket_entries.start,
            self.basket_entries.end,
            self.entries.start,
            self.entries.end,
            self.detail
        )
    }
}
