//! Output: tables for people, JSON and CSV for scripts. `NO_COLOR` and non-terminals
//! get plain output.

use std::io::{IsTerminal, Write};

use clap::ValueEnum;
use comfy_table::{Table, presets};
use serde::Serialize;

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

/// Something the CLI prints as rows: its serde fields are the JSON and CSV columns, its
/// cells the table's.
pub trait Row: Serialize {
    /// Field names, in order: the CSV header when there are no rows to derive it from.
    const FIELDS: &'static [&'static str];
    /// Column titles of the table.
    const COLUMNS: &'static [&'static str];
    /// What one row is called, for the count under a table (`account`).
    const NOUN: &'static str;
    /// The table's cells, in the order of [`Row::COLUMNS`].
    fn cells(&self) -> Vec<String>;
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

    /// Print rows in the chosen format.
    pub fn rows<R: Row>(&self, rows: &[R]) -> Result<(), CliError> {
        match self.format {
            Format::Json => self.json(rows),
            Format::Csv => {
                let mut writer = csv::Writer::from_writer(std::io::stdout().lock());
                for row in rows {
                    writer
                        .serialize(row)
                        .map_err(|e| CliError::Input(format!("cannot write CSV: {e}")))?;
                }
                if rows.is_empty() {
                    writer.write_record(R::FIELDS).map_err(|e| io(&e.into()))?;
                }
                writer.flush().map_err(|e| io(&e))
            }
            Format::Table => {
                self.line(self.table(R::COLUMNS, rows.iter().map(Row::cells).collect()))?;
                if self.fancy {
                    self.line(format!("{} {}(s)", rows.len(), R::NOUN))?;
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
