//! The `otus` command: parses the command line, resolves the card and calls
//! one library function per subcommand. Data goes to stdout, logs and
//! progress to stderr. Exit status: 0 success, 1 bad input or usage (the
//! message on stderr names the file and place, or the flag), 2 an internal
//! error (a panic: a bug in otus), 130 a training interrupted by Ctrl-C.

mod cli;

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Parser;

use cli::{Cli, Command};
use otus::card::RunCard;
use otus::frames::Space;
use otus::train::{EpochRecord, Observer, SavedModel, TrainOptions, Which};

/// mimalloc keeps freed pages for reuse; with glibc's allocator every batch
/// of a training step or a simulation re-faults its multi-megabyte tensor
/// buffers from the kernel (a third of `simulate`'s time in `perf`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit status of bad input or usage.
const EXIT_INPUT: u8 = 1;
/// Exit status of an internal error (a panic).
const EXIT_INTERNAL: u8 = 2;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; a command line
            // the parser refuses is a usage error (clap's own status is 2,
            // which we keep for internal errors).
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(EXIT_INPUT),
            };
        }
    };
    init_logging(cli.verbose, cli.quiet);
    std::panic::set_hook(Box::new(report_panic));
    // A panic unwinds to here, so the temporary files of unfinished outputs
    // are removed on the way.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if std::env::var_os("OTUS_TEST_INTERNAL_ERROR").is_some() {
            panic!("OTUS_TEST_INTERNAL_ERROR is set (a test of the internal-error path)");
        }
        match cli.command {
            Command::Run(args) => run(args),
            Command::Card(args) => card(args),
            Command::Ingest(args) => ingest(args),
            Command::Inspect(args) => inspect(args),
            Command::Train(args) => train(args),
            Command::Simulate(args) => map(args, Space::Parton),
            Command::Unfold(args) => map(args, Space::Detector),
            Command::Evaluate(args) => evaluate(args),
        }
    }));
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_INPUT)
        }
        Err(_) => ExitCode::from(EXIT_INTERNAL),
    }
}

/// The panic hook: says that this is a bug and how to report it, with a
/// backtrace when `RUST_BACKTRACE` asks for one.
fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    if otus::panic_is_caught() {
        log::debug!("a dependency panicked; otus turns it into an error: {info}");
        return;
    }
    let message = otus::panic_message(info.payload());
    let place = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let thread = std::thread::current();
    let backtrace = std::backtrace::Backtrace::capture();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "internal error: otus {} panicked in thread {:?}{place}: {message}\n\
         This is a bug in otus, not in your input; please report it with the command line \
         and the card. Exit status {EXIT_INTERNAL}.",
        env!("CARGO_PKG_VERSION"),
        thread.name().unwrap_or("unnamed"),
    );
    match backtrace.status() {
        std::backtrace::BacktraceStatus::Captured => {
            let _ = writeln!(err, "backtrace:\n{backtrace}");
        }
        _ => {
            let _ = writeln!(err, "Run with RUST_BACKTRACE=1 to add a backtrace.");
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

fn run(args: cli::RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    let card = RunCard::load(&args.card)?;
    let epochs: usize = card
        .train_settings()
        .map_err(|m| card_error(&args.card, m))?
        .stages()?
        .iter()
        .map(|s| s.epochs)
        .sum();
    let options = otus::run::RunOptions {
        out: args.out,
        fresh: args.fresh,
        ..Default::default()
    };
    let stop = options.stop.clone();
    ctrlc::set_handler(move || {
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
    })?;
    let progress = StderrProgress::new();
    let mut observer = EpochProgress::new(epochs as u64);
    let report = otus::run::run(&args.card, &options, &progress, &mut observer);
    progress.finish();
    observer.finish();
    if report?.interrupted {
        log::warn!("interrupted; run the same command again to train from the start");
        std::process::exit(130);
    }
    Ok(())
}

fn card(args: cli::CardArgs) -> Result<(), Box<dyn std::error::Error>> {
    let cli::CardCommand::Init(args) = args.command;
    let study = match args.study {
        cli::StudyArg::Zee => otus::starter::Study::Zee,
        cli::StudyArg::Ttbar => otus::starter::Study::Ttbar,
    };
    let path = args.output.unwrap_or_else(|| study.file_name().into());
    if path.as_os_str() == "-" {
        std::io::stdout().write_all(study.card().as_bytes())?;
        return Ok(());
    }
    otus::starter::write(study, &path, args.force)?;
    log::info!(
        "wrote {}; edit its [inputs], then: otus run {}",
        path.display(),
        path.display()
    );
    Ok(())
}

fn train(args: cli::TrainArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut card = RunCard::load(&args.card)?;
    if let Some(profile) = &args.profile {
        let table = card.train.get_or_insert_with(Default::default);
        table.insert("profile".into(), toml::Value::String(profile.clone()));
    }
    let model_settings = card
        .model_settings()
        .map_err(|m| card_error(&args.card, m))?;
    let train_settings = card
        .train_settings()
        .map_err(|m| card_error(&args.card, m))?;
    let frame = args
        .frames
        .unwrap_or_else(|| otus::study::default_frame(&card, &args.card));
    if !frame.exists() {
        return Err(format!(
            "{}: no ingest frame; run `otus ingest {}` first or give --frames",
            frame.display(),
            args.card.display()
        )
        .into());
    }
    let out = args.out.unwrap_or_else(|| frame.with_file_name("model"));
    let data = otus::study::train_data(&frame, &card)?;
    log::info!(
        "train: {} z and {} x training events, {} validation; profile {:?}; into {}",
        data.z_train.rows(),
        data.x_train.rows(),
        data.z_val.rows(),
        train_settings.profile,
        out.display()
    );
    let mut options = TrainOptions::new(&out);
    options.resume = args.resume;
    let stop = options.stop.clone();
    ctrlc::set_handler(move || {
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
    })?;
    let stages = train_settings.stages()?;
    let epochs: usize = stages.iter().map(|s| s.epochs).sum();
    let mut observer = EpochProgress::new(epochs as u64);
    // The card first, so that the weights of a run stopped at any point
    // (even killed) can be used by `simulate` and `unfold`.
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    otus::study::save_card(&card, &out)?;
    let outcome = otus::train::train(
        &data,
        &model_settings,
        &train_settings,
        &options,
        &mut observer,
    )?;
    observer.finish();
    if !outcome.finished {
        log::warn!(
            "interrupted after {} epochs; the checkpoint is saved: rerun with --resume to continue",
            outcome.epochs_done
        );
        // 130: interrupted by SIGINT, so `train && evaluate` stops here.
        std::process::exit(130);
    }
    log::info!("trained {}; model in {}", outcome.summary(), out.display());
    Ok(())
}

fn card_error(path: &Path, message: String) -> otus::Error {
    otus::Error::Card(otus::card::CardError::Invalid {
        path: path.to_path_buf(),
        message,
    })
}

fn load_model(dir: &Path, best: bool) -> Result<SavedModel, Box<dyn std::error::Error>> {
    let which = if best { Which::Best } else { Which::Last };
    let model = SavedModel::load_with(dir, which, &otus::train::select_device())?;
    // A training stopped early (Ctrl-C) leaves usable weights; say so.
    let m = &model.manifest;
    let planned: usize = m
        .train
        .stages()
        .map(|s| s.iter().map(|s| s.epochs).sum())
        .unwrap_or(0);
    if m.epochs_trained < planned {
        log::warn!(
            "{}: trained {} of the profile's {} epochs (stopped early; `otus train --resume` continues)",
            dir.display(),
            m.epochs_trained,
            planned
        );
    }
    Ok(model)
}

/// `simulate` (parton-level input) and `unfold` (detector-level input).
fn map(args: cli::MapArgs, input_space: Space) -> Result<(), Box<dyn std::error::Error>> {
    // Refuse an unknown or unsuitable output before any work.
    let format = otus::export::Format::from_path(&args.output)?;
    if input_space == Space::Parton && matches!(format, otus::export::Format::Lhe { .. }) {
        return Err(format!(
            "{}: simulate writes detector-level events; write them as .root or .parquet \
             (LHE output is for `otus unfold`)",
            args.output.display()
        )
        .into());
    }
    if args.max_file_size > otus::export::root::MAX_FILE_BYTES {
        return Err(format!(
            "--max-file-size {}: at most {} bytes (oxyroot's files over 2 GiB are corrupt)",
            args.max_file_size,
            otus::export::root::MAX_FILE_BYTES
        )
        .into());
    }
    if let Some(p) = &args.lhe_init
        && !p.is_file()
    {
        return Err(format!("--lhe-init {}: no such file", p.display()).into());
    }
    let card = otus::study::model_card(&args.model)?;
    let model = load_model(&args.model, args.best)?;
    let started = Instant::now();
    let input = otus::study::read_events(&args.inputs, &card, input_space)?;
    let (output, source) = match input_space {
        Space::Parton => {
            let all = otus::simulate::simulate(&model, &input.sample, args.repeat, args.seed)?;
            let kept = otus::simulate::accept(&model, all);
            if let Some(d) = kept.dropped() {
                log::info!("detector acceptance: {d}; the rest dropped");
            }
            (kept.sample, kept.source)
        }
        Space::Detector => (
            otus::simulate::unfold(&model, &input.sample, args.repeat, args.seed)?,
            None,
        ),
    };
    let mapped = started.elapsed().as_secs_f64();
    let lhe_init = args
        .lhe_init
        .clone()
        .or_else(|| otus::study::model_lhe(&args.model));
    if matches!(format, otus::export::Format::Lhe { .. }) {
        match &lhe_init {
            Some(p) => log::info!("LHE <init> block from {}", p.display()),
            None => log::info!("LHE <init> block synthesized (no --lhe-init, no training LHE)"),
        }
    }
    let options = otus::study::OutputOptions {
        max_file_bytes: args.max_file_size,
        lhe_init,
        comment: format!(
            "otus {} unfold: model {}, seed {}, repeat {}",
            env!("CARGO_PKG_VERSION"),
            args.model.display(),
            args.seed,
            args.repeat
        ),
    };
    let files = otus::study::write_output(
        &args.output,
        &input,
        &output,
        args.repeat,
        source.as_deref(),
        &card,
        &options,
    )?;
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    log::info!(
        "{} {} events x {} draws -> {} in {:.1} s ({:.1} s writing)",
        if input_space == Space::Parton {
            "simulated"
        } else {
            "unfolded"
        },
        input.sample.rows(),
        args.repeat,
        names.join(", "),
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64() - mapped
    );
    Ok(())
}

fn evaluate(args: cli::EvaluateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let card = otus::study::model_card(&args.model)?;
    let model = load_model(&args.model, args.best)?;
    let beside = |name: &str| args.model.parent().unwrap_or(Path::new(".")).join(name);
    let frame = args
        .frames
        .unwrap_or_else(|| beside(otus::ingest::FRAME_FILE));
    let out = args.out.unwrap_or_else(|| beside("report"));
    let transport = match &args.transport {
        Some(pair) => match pair.split_once(',') {
            Some((z, x)) => Some((z.trim().to_string(), x.trim().to_string())),
            None => {
                return Err(
                    format!("--transport {pair:?}: expected Z,X such as z_ep_e,x_ep_e").into(),
                );
            }
        },
        None => None,
    };
    if !(1..=100_000).contains(&args.slices) {
        return Err(format!("--slices {}: expected 1 to 100000", args.slices).into());
    }
    let spec = otus::card::EvaluateSpec {
        slices: args.slices,
        transport: transport.map(|(z, x)| [z, x]),
        ..card.evaluate.clone()
    };
    let evaluation =
        otus::study::evaluate_model(&model, &card, &frame, &out, &spec, &args.simulated)?;
    for c in &evaluation.comparisons {
        log::info!(
            "{}: global SW {:.4} GeV^2 (truth halves: {:.4})",
            c.title,
            c.global_sw,
            c.floor_global_sw
        );
    }
    log::info!(
        "report in {} ({} events per half)",
        out.display(),
        evaluation.events_per_half
    );
    Ok(())
}

/// Training progress: a bar over epochs on a terminal, a log line per
/// epoch otherwise.
struct EpochProgress {
    bar: Option<indicatif::ProgressBar>,
}

impl EpochProgress {
    fn new(epochs: u64) -> Self {
        let bar =
            (std::io::stderr().is_terminal() && log::log_enabled!(log::Level::Info)).then(|| {
                let bar = indicatif::ProgressBar::new(epochs);
                bar.set_style(
                    indicatif::ProgressStyle::with_template(
                        "train [{bar:30}] {pos}/{len} epochs {elapsed} {msg}",
                    )
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar
            });
        Self { bar }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Observer for EpochProgress {
    fn epoch(&mut self, r: &EpochRecord) {
        let line = format!(
            "epoch {} stage {}: loss {:.4} recon {:.4} SW(z,E(x)) {:.4} anchor_E {:.4} anchor_D {:.4} SW(x,D(z)) {:.4} | val SW(x,D(z)) {:.4} SW(z,E(x)) {:.4} ({:.1} s)",
            r.epoch,
            r.stage,
            r.loss,
            r.recon,
            r.latent_sw,
            r.anchor_e,
            r.anchor_d,
            r.decoder_sw,
            r.val_sw_x,
            r.val_sw_z,
            r.seconds
        );
        // P_D(S) where the decoder has an acceptance (1 without one).
        let line = if r.p_in_s < 1.0 || r.val_p_in_s < 1.0 {
            format!("{line} P_D(S) {:.3} val {:.3}", r.p_in_s, r.val_p_in_s)
        } else {
            line
        };
        match &self.bar {
            Some(bar) => {
                bar.set_position(r.epoch as u64 + 1);
                bar.set_message(format!("val SW(x,D(z)) {:.3}", r.val_sw_x));
                log::debug!("{line}");
            }
            None => log::info!("{line}"),
        }
    }
}

fn inspect(args: cli::InspectArgs) -> Result<(), Box<dyn std::error::Error>> {
    let mut stdout = std::io::stdout().lock();
    let mut failed = 0;
    for file in &args.files {
        let summary = match otus::inspect::inspect(file) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
                continue;
            }
        };
        let text = if args.json {
            serde_json::to_string(&summary)? + "\n"
        } else {
            summary.to_string()
        };
        match stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush())
        {
            Ok(()) => {}
            // A closed pipe (`| head`) is not an error; anything else is.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => break,
            Err(e) => return Err(format!("stdout: {e}").into()),
        }
    }
    if failed > 0 {
        return Err(format!("{failed} of {} files could not be read", args.files.len()).into());
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
