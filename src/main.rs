//! The `otus` command: parses the command line, resolves the card and calls
//! one library function per subcommand. Data goes to stdout, logs and
//! progress to stderr. Exit status: 0 success, 1 an error (printed on
//! stderr with the file and place), 2 a usage error.

mod cli;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Parser;

use cli::{Cli, Command};
use otus::card::RunCard;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    let result = match cli.command {
        Command::Ingest(args) => ingest(args),
        Command::Inspect(args) => inspect(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn init_logging(verbose: u8, quiet: u8) {
    let level = match (verbose, quiet) {
        (0, 0) => log::LevelFilter::Info,
        (1, _) => log::LevelFilter::Debug,
        (v, _) if v >= 2 => log::LevelFilter::Trace,
        (_, 1) => log::LevelFilter::Warn,
        _ => log::LevelFilter::Error,
    };
    env_logger::Builder::new()
        .filter_level(log::LevelFilter::Warn)
        .filter_module("otus", level)
        .format_target(false)
        .format_timestamp_secs()
        .target(env_logger::Target::Stderr)
        .init();
}

fn ingest(args: cli::IngestArgs) -> Result<(), Box<dyn std::error::Error>> {
    let card = RunCard::load(&args.card)?;
    let card_dir = args.card.parent().unwrap_or(Path::new("."));
    let inputs = card.resolve_inputs(card_dir).map_err(|message| {
        otus::Error::Card(otus::card::CardError::Invalid {
            path: args.card.clone(),
            message,
        })
    })?;
    let out = args.out.unwrap_or_else(|| card.output_dir(card_dir));
    log::info!(
        "ingest: {} file pair(s) into {}",
        inputs.pairs.len(),
        out.display()
    );
    let started = Instant::now();
    let progress = StderrProgress::new();
    let report = otus::ingest::ingest(&card, &inputs, &out, &progress)?;
    progress.finish();
    for line in report.cutflow.summary().lines() {
        log::info!("{line}");
    }
    log::info!(
        "wrote {} ({} train, {} val, {} test rows) and {} in {:.1} s",
        report.frame.display(),
        report.split_rows[0],
        report.split_rows[1],
        report.split_rows[2],
        report.sidecar.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn inspect(args: cli::InspectArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut stdout = std::io::stdout().lock();
    for file in &args.files {
        let summary = otus::inspect::inspect(file)?;
        let text = if args.json {
            serde_json::to_string(&summary)? + "\n"
        } else {
            summary.to_string()
        };
        if stdout.write_all(text.as_bytes()).is_err() {
            break; // a closed pipe (`| head`) is not an error
        }
    }
    Ok(())
}

/// A progress bar on a terminal; a log line every few seconds otherwise.
struct StderrProgress {
    bar: Option<indicatif::ProgressBar>,
    plain: Mutex<(String, u64, u64, Instant)>,
}

impl StderrProgress {
    fn new() -> Self {
        let bar =
            (std::io::stderr().is_terminal() && log::log_enabled!(log::Level::Info)).then(|| {
                let bar = indicatif::ProgressBar::new(0);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "{msg:>8} [{bar:30}] {pos}/{len} {elapsed}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar
            });
        Self {
            bar,
            plain: Mutex::new((String::new(), 0, 0, Instant::now())),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl otus::Progress for StderrProgress {
    fn start(&self, stage: &str, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(0);
            bar.set_message(stage.to_string());
        }
        if let Ok(mut p) = self.plain.lock() {
            *p = (stage.to_string(), 0, total, Instant::now());
        }
    }

    fn advance(&self, units: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(units);
            return;
        }
        if let Ok(mut p) = self.plain.lock() {
            p.1 += units;
            if p.3.elapsed() > Duration::from_secs(5) || p.1 == p.2 {
                log::info!("{}: {}/{}", p.0, p.1, p.2);
                p.3 = Instant::now();
            }
        }
    }
}
