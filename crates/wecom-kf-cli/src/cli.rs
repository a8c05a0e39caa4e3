//! The command line: global options here, each command group in its own module.

use clap::{Args, Parser, Subcommand};

use crate::commands::{
    account::AccountCommand, media::MediaCommand, sandbox::SandboxCommand, token::TokenCommand,
};
use crate::output::Format;

const EXIT_CODES: &str = "\
Exit codes:
  0  ok
  1  some rows of an import (or accounts of a delete) failed
  2  usage error, or a refused confirmation
  3  invalid input, caught before anything was sent
  4  the service answered with an errcode
  5  network, timeout, HTTP or undecodable answer
  6  missing or unreadable configuration or credentials
  7  an add may or may not have happened: check with `account list`
  141  stdout was closed by its reader (e.g. `| head`); nothing is reported

Credentials: WECOM_CORP_ID and WECOM_KF_SECRET, or a profile in
~/.config/wecom-kf/config.toml (WECOM_KF_CONFIG overrides the path):
  [default]
  corp_id = \"ww1234567890abcdef\"
  secret = \"...\"
The secret is never accepted as a flag.";

/// 微信客服 accounts from the terminal, with a built-in sandbox.
#[derive(Parser, Debug)]
#[command(name = "wecom-kf", version, about, after_help = EXIT_CODES, after_long_help = EXIT_CODES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options of every command.
#[derive(Args, Debug)]
pub struct Global {
    /// Run against the sandbox: an emulator embedded in this process, persisted in
    /// WECOM_KF_SANDBOX_DB or the user's data dir. No credentials needed.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Send requests here instead of https://qyapi.weixin.qq.com (e.g. an emulator).
    #[arg(long, env = "WECOM_KF_BASE_URL", global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Share the access_token with other processes through Redis, e.g.
    /// redis://127.0.0.1:6379. Prefer the variable when the URL holds a password.
    #[arg(
        long,
        env = "WECOM_KF_TOKEN_CACHE",
        hide_env_values = true,
        global = true,
        value_name = "URL"
    )]
    pub token_cache: Option<String>,
    /// Profile of the config file to read credentials from.
    #[arg(
        long,
        env = "WECOM_KF_PROFILE",
        default_value = "default",
        global = true
    )]
    pub profile: String,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "table", global = true)]
    pub format: Format,
    /// Seconds to wait for one request.
    #[arg(long, default_value_t = 30, global = true, value_name = "SECS")]
    pub timeout: u64,
    /// More logging on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
}

/// Commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create, list, update, delete and link kf accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Upload temporary media (avatars, files).
    #[command(subcommand)]
    Media(MediaCommand),
    /// Check the credentials.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The built-in sandbox: a guided demo, its path, and a reset.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Print shell completions.
    #[command(
        after_help = "Examples:\n  wecom-kf completions bash > /etc/bash_completion.d/wecom-kf\n  wecom-kf completions zsh > \"${fpath[1]}/_wecom-kf\"\n  wecom-kf completions fish > ~/.config/fish/completions/wecom-kf.fish"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}
