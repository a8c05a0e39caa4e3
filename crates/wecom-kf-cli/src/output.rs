//! Output: tables for people, JSON and CSV for scripts. `NO_COLOR` and non-terminals
//! get plain output.

use std::io::{IsTerminal, Write};

use clap::ValueEnum;
use comfy_table::{Table, presets};
use serde::Serialize;
use wecom_kf::types::kf::account::Account;

use crate::error::CliError;

/// `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// JSON, stable for scripts.
    Json,
    /// CSV with a header row.
    Csv,
}

/// Where and how to print.
pub struct Output {
    pub format: Format,
    /// stdout is a terminal and `NO_COLOR` is unset: borders and colour are fine.
    pub fancy: bool,
}

/// An account as the CLI prints it (`--format json`): stable field names.
#[derive(Serialize)]
pub struct AccountRow<'a> {
    pub open_kfid: &'a str,
    pub name: &'a str,
    pub avatar: &'a str,
    pub manage_privilege: Option<bool>,
}

impl<'a> From<&'a Account> for AccountRow<'a> {
    fn from(a: &'a Account) -> Self {
        AccountRow {
            open_kfid: &a.open_kfid,
            name: &a.name,
            avatar: &a.avatar,
            manage_privilege: a.manage_privilege,
        }
    }
}

/// A failed write to stdout. A reader that went away (`| head`) is not an error to report.
pub fn io(e: &std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::BrokenPipe
    } else {
        CliError::Input(format!("cannot write output: {e}"))
    }
}

impl Output {
    pub fn new(format: Format) -> Self {
        let fancy = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Output { format, fancy }
    }

    /// Print any value as pretty JSON.
    #[allow(clippy::unused_self)] // every print goes through `Output`, the one place that knows stdout
    pub fn json<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), CliError> {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer_pretty(&mut out, value)
            .map_err(|e| CliError::Input(format!("cannot write JSON: {e}")))?;
        writeln!(out).map_err(|e| io(&e))
    }

    /// Bytes on stdout, as they are.
    #[allow(clippy::unused_self)] // every print goes through `Output`, the one place that knows stdout
    pub fn raw(&self, bytes: &[u8]) -> Result<(), CliError> {
        std::io::stdout()
            .lock()
            .write_all(bytes)
            .map_err(|e| io(&e))
    }

    /// A line on stdout.
    #[allow(clippy::unused_self)] // every print goes through `Output`, the one place that knows stdout
    pub fn line(&self, text: impl std::fmt::Display) -> Result<(), CliError> {
        writeln!(std::io::stdout().lock(), "{text}").map_err(|e| io(&e))
    }

    fn table(&self, header: &[&str], rows: Vec<Vec<String>>) -> Table {
        let mut table = Table::new();
        table.load_preset(if self.fancy {
            presets::UTF8_FULL_CONDENSED
        } else {
            presets::NOTHING
        });
        table.set_header(header.to_vec());
        for row in rows {
            table.add_row(row);
        }
        table
    }

    /// Print accounts in the chosen format.
    pub fn accounts(&self, accounts: &[Account]) -> Result<(), CliError> {
        match self.format {
            Format::Json => self.json(&accounts.iter().map(AccountRow::from).collect::<Vec<_>>()),
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
                for account in accounts {
                    writer
                        .serialize(AccountRow::from(account))
                        .map_err(|e| CliError::Input(format!("cannot write CSV: {e}")))?;
                }
                if accounts.is_empty() {
                    writer
                        .write_record(["open_kfid", "name", "avatar", "manage_privilege"])
                        .map_err(|e| io(&e.into()))?;
                }
                writer.flush().map_err(|e| io(&e))
            }
            Format::Table => {
                let rows = accounts
                    .iter()
                    .map(|a| {
                        let managed = match a.manage_privilege {
                            Some(true) => "yes",
                            Some(false) => "no",
                            None => "-",
                        };
                        vec![
                            a.open_kfid.clone(),
                            a.name.clone(),
                            managed.to_owned(),
                            a.avatar.clone(),
                        ]
                    })
                    .collect();
                self.line(self.table(&["OPEN_KFID", "NAME", "MANAGED", "AVATAR"], rows))?;
                if self.fancy {
                    self.line(format!("{} account(s)", accounts.len()))?;
                }
                Ok(())
            }
        }
    }
}

/// Whether stderr is a terminal (progress bars, prompts).
pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether stdin is a terminal (confirmation prompts).
pub fn stdin_is_terminal() -> bool {
    std::io::stdin().is_terminal()
}
