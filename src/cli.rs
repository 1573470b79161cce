//! Command-line types (clap) of the `otus` binary.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Learn a fast detector simulator and unfolder from unpaired parton-level
/// (LHE) and detector-level (Delphes) events (OTUS).
#[derive(Debug, Parser)]
#[command(name = "otus", version, about, max_term_width = 100)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). Logs go to stderr.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less log output (-q warnings only, -qq errors only).
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read the card's LHE and Delphes files, select, align and write
    /// `events.parquet` and `events.json` into the output folder.
    Ingest(IngestArgs),
    /// Print what LHE or ROOT files hold (generator, events, weights; trees,
    /// branches and types).
    Inspect(InspectArgs),
}

/// Arguments of `otus ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The run card (TOML).
    pub card: PathBuf,
    /// Output folder; default: the card's `output`, or `out/<name>`.
    #[arg(short, long)]
    pub out: Option<PathBuf>,
}

/// Arguments of `otus inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// LHE (plain or gzipped) or ROOT files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print JSON (one object per file, one per line) instead of text.
    #[arg(long)]
    pub json: bool,
}
