//! The command line: global options here, each command group in its own module.

use clap::{Parser, Subcommand};

use crate::commands::{
    account::AccountCommand, callback::CallbackCommand, customer::CustomerCommand,
    dead_letters::DeadLettersCommand, knowledge::KnowledgeCommand, media::MediaCommand,
    msg::MsgCommand, sandbox::SandboxCommand, serve::Serve, servicer::ServicerCommand,
    session::SessionCommand, stats::StatsCommand, token::TokenCommand,
};
use crate::options::Global;

/// 微信客服 from the terminal: accounts, servicers, sessions, customers and statistics,
/// with a built-in sandbox.
#[derive(Parser, Debug)]
// The exit codes are appended to the help in `main`, from `error::exit`.
#[command(name = "wecom-kf", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create, list, update, delete and link kf accounts.
    #[command(subcommand)]
    Account(AccountCommand),
    /// List, add and remove the servicers (接待人员) of an account.
    #[command(subcommand)]
    Servicer(ServicerCommand),
    /// Read a session's state and move it: to the bot, the queue, a servicer, the end.
    #[command(subcommand)]
    Session(SessionCommand),
    /// Read messages as JSON Lines, send them, welcome, recall.
    #[command(subcommand)]
    Msg(MsgCommand),
    /// Run a bot in production: the callback receiver and the consumer in one process,
    /// each message to --exec, --webhook or stdout, with /healthz and /metrics.
    Serve(Serve),
    /// The messages serve gave up on: list, show, retry through the bot, drop.
    DeadLetters(DeadLettersCommand),
    /// Callback tools: check a URL, open a captured callback, build a test one.
    #[command(subcommand)]
    Callback(CallbackCommand),
    /// Customers' profiles.
    #[command(subcommand)]
    Customer(CustomerCommand),
    /// The knowledge base (知识库): groups and Q&A, and a FAQ file in and out.
    #[command(subcommand)]
    Knowledge(KnowledgeCommand),
    /// Daily statistics of an account and its servicers.
    #[command(subcommand)]
    Stats(StatsCommand),
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
