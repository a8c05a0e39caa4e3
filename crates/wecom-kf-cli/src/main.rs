//! `wecom-kf`: 微信客服 accounts from the terminal, with a built-in sandbox.
// Doc comments here are also the `--help` text, where `<…>` around a URL would show.
#![allow(rustdoc::bare_urls)]

mod cli;
mod commands;
mod config;
mod context;
mod error;
mod options;
mod output;

use std::process::ExitCode;

use crate::cli::{Cli, Command};
use crate::error::{CliError, exit};

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("WECOM_KF_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(output::stderr_is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
}

async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Completions { shell } => {
            let mut command = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command, "wecom-kf", &mut script);
            output::Output::new(cli.global.format).raw(&script)
        }
        Command::Sandbox(command) => commands::sandbox::run(command, &cli.global).await,
        Command::Account(command) => {
            commands::account::run(command, &context::Context::new(&cli.global).await?).await
        }
        Command::Servicer(command) => {
            commands::servicer::run(command, &context::Context::new(&cli.global).await?).await
        }
        Command::Session(command) => {
            commands::session::run(command, &context::Context::new(&cli.global).await?).await
        }
        Command::Serve(serve) => commands::serve::run(serve, &cli.global).await,
        Command::DeadLetters(command) => commands::dead_letters::run(command, &cli.global).await,
        Command::Callback(command) => commands::callback::run(command, &cli.global).await,
        Command::Msg(command) => {
            commands::msg::run(command, &context::Context::new(&cli.global).await?).await
        }
        Command::Customer(command) => {
            commands::customer::run(command, &context::Context::new(&cli.global).await?).await
        }
        Command::Knowledge(command) => {
            commands::knowledge::run(command, &context::Context::new(&cli.global).await?).await
        }
        Command::Stats(command) => {
            commands::stats::run(command, &context::Context::new(&cli.global).await?).await
        }
        Command::Media(command) => {
            commands::media::run(command, &context::Context::new(&cli.global).await?).await
        }
        Command::Token(command) => {
            commands::token::run(command, &context::Context::new(&cli.global).await?).await
        }
    }
}

/// The command line, with the exit codes from `error::exit` after the help.
fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let help = exit::help();
    let matches = Cli::command()
        .after_help(help.clone())
        .after_long_help(help)
        .get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    let cli = parse();
    init_tracing(cli.global.verbose);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(exit::CONFIG);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(err) => {
            let message = err.render();
            if !message.is_empty() {
                eprintln!("{message}");
            }
            ExitCode::from(err.exit_code())
        }
    }
}
