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
    /// The whole study from one card: ingest, train, evaluate and export
    /// into one run folder, skipping the stages whose settings and inputs
    /// have not changed.
    Run(RunArgs),
    /// Run cards: `otus card init zee|ttbar` writes a commented starter card.
    Card(CardArgs),
    /// Read the card's LHE and Delphes files, select, align and write
    /// `events.parquet` and `events.json` into the output folder.
    Ingest(IngestArgs),
    /// Print what LHE or ROOT files hold (generator, events, weights; trees,
    /// branches and types).
    Inspect(InspectArgs),
    /// Train the OTUS encoder and decoder on the ingest frame of a card.
    /// Ctrl-C saves a checkpoint and exits; `--resume` continues.
    Train(TrainArgs),
    /// Decode parton-level events (LHE files or frames) into detector-level
    /// events with a trained model: the fast simulator.
    Simulate(MapArgs),
    /// Encode detector-level events (Delphes files or frames) into
    /// parton-level events with a trained model: the unfolder.
    Unfold(MapArgs),
    /// Compare a trained model with the test split: metrics tables and
    /// SVG figures in a report folder.
    Evaluate(EvaluateArgs),
}

/// Arguments of `otus run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The run card (TOML).
    pub card: PathBuf,
    /// Run folder; default: a new `<output>/<UTC time>` folder (the card's
    /// `output`, default `out/<name>`), taking unchanged stages from the
    /// newest earlier one. An existing run folder is updated in place.
    #[arg(short, long, visible_alias = "output")]
    pub out: Option<PathBuf>,
    /// Run every stage, even those whose settings and inputs are unchanged.
    #[arg(long)]
    pub fresh: bool,
}

/// Arguments of `otus card`.
#[derive(Debug, Args)]
pub struct CardArgs {
    /// What to do with cards.
    #[command(subcommand)]
    pub command: CardCommand,
}

/// The subcommands of `otus card`.
#[derive(Debug, Subcommand)]
pub enum CardCommand {
    /// Write a commented starter card for a study.
    Init(CardInitArgs),
}

/// The studies `otus card init` has a starter for.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StudyArg {
    /// Z -> e+ e-.
    Zee,
    /// Semileptonic t tbar.
    Ttbar,
}

/// Arguments of `otus card init`.
#[derive(Debug, Args)]
pub struct CardInitArgs {
    /// The study.
    pub study: StudyArg,
    /// The card file to write; default `zee.toml` or `ttbar.toml`; `-` for
    /// stdout.
    #[arg(short, long, visible_alias = "out")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Arguments of `otus train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The run card (TOML).
    pub card: PathBuf,
    /// The ingest frame; default: `events.parquet` in the card's output folder.
    #[arg(long)]
    pub frames: Option<PathBuf>,
    /// Model folder; default: `model` in the card's output folder.
    #[arg(short, long, visible_alias = "output")]
    pub out: Option<PathBuf>,
    /// Training profile (stage list) of the card: `default`, `paper`, or
    /// one the card defines.
    #[arg(long)]
    pub profile: Option<String>,
    /// Continue an interrupted training from the model folder's checkpoint.
    #[arg(long)]
    pub resume: bool,
}

/// Arguments of `otus simulate` and `otus unfold`.
#[derive(Debug, Args)]
pub struct MapArgs {
    /// The model folder written by `otus train`.
    #[arg(short, long)]
    pub model: PathBuf,
    /// Input files: LHE (simulate) or Delphes ROOT (unfold), selected with
    /// the model's card, or Parquet frames with the card's columns.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Output file; its extension picks the format: `.parquet` (a frame with
    /// the input and output columns), `.root` (a flat TTree, see README
    /// "Output formats") or, for `unfold`, `.lhe` / `.lhe.gz`.
    #[arg(short, long, visible_alias = "out")]
    pub output: PathBuf,
    /// ROOT output: the largest size of one file, in bytes, with an optional
    /// k, M or G suffix (powers of 1000); a larger output is split into
    /// numbered files. At most 2G (oxyroot's files break above 2 GiB).
    #[arg(long, value_name = "BYTES", default_value = "1G", value_parser = parse_bytes)]
    pub max_file_size: u64,
    /// `unfold` to LHE only: copy the `<init>` block of this LHE file; default: the
    /// first LHE file the model was trained on, if it is still there,
    /// otherwise a synthesized block.
    #[arg(long, value_name = "LHE")]
    pub lhe_init: Option<PathBuf>,
    /// Independent draws per input event (the maps are stochastic), 1 to
    /// 1000. The output is held in memory: about 350 to 550 bytes per
    /// output event (input events x repeat).
    #[arg(long, default_value_t = 1,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1000))]
    pub repeat: usize,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Use the weights of the best validation epoch instead of the last.
    #[arg(long)]
    pub best: bool,
}

/// Arguments of `otus evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model folder written by `otus train`.
    #[arg(short, long)]
    pub model: PathBuf,
    /// The ingest frame whose test split is used; default: the frame of the
    /// model's card.
    #[arg(long)]
    pub frames: Option<PathBuf>,
    /// Report folder; default: `report` beside the model folder.
    #[arg(short, long, visible_alias = "output")]
    pub out: Option<PathBuf>,
    /// Random directions of the global sliced Wasserstein distance.
    #[arg(long, default_value_t = 1000)]
    pub slices: usize,
    /// The z and x columns of the transport plots, as `Z,X`
    /// (e.g. `z_ep_e,x_ep_e`); default: the energy of the first object the
    /// two spaces share.
    #[arg(long, value_name = "Z,X")]
    pub transport: Option<String>,
    /// Compare these detector-level events (otus ROOT exports from
    /// `simulate`, Delphes files or frames) with the test split instead of
    /// the model's D(z): the simulation comparison becomes "x vs FILE".
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub simulated: Vec<PathBuf>,
    /// Use the weights of the best validation epoch instead of the last.
    #[arg(long)]
    pub best: bool,
}

/// A byte count with an optional SI suffix: `1G`, `500M`, `64k`, `12345`.
fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (number, scale) = match t.char_indices().last() {
        Some((i, 'k' | 'K')) => (&t[..i], 1_000),
        Some((i, 'M')) => (&t[..i], 1_000_000),
        Some((i, 'G')) => (&t[..i], 1_000_000_000),
        _ => (t, 1),
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| format!("{text:?}: expected a byte count such as 1G, 500M, 64k or 12345"))
}

/// Arguments of `otus ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// The run card (TOML).
    pub card: PathBuf,
    /// Output folder; default: the card's `output`, or `out/<name>`.
    #[arg(short, long, visible_alias = "output")]
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

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn byte_counts_take_si_suffixes() {
        assert_eq!(parse_bytes("1G"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("64k"), Ok(64_000));
        assert_eq!(parse_bytes("12345"), Ok(12_345));
        assert!(parse_bytes("1.5G").is_err());
        assert!(parse_bytes("G").is_err());
    }
}
