//! Printing query results: the output [`Format`]s, the row limit of the table format,
//! and the row-count footer.

use std::io::Write;
use std::str::FromStr;
use std::time::Duration;

use clap::ValueEnum;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::json::{ArrayWriter, LineDelimitedWriter};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::Result;

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Tsv,
    Json,
    NdJson,
}

/// The most rows the table format shows per result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxRows {
    Limit(usize),
    Unlimited,
}

impl FromStr for MaxRows {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s.eq_ignore_ascii_case("inf") || s.eq_ignore_ascii_case("infinite") {
            return Ok(Self::Unlimited);
        }
        s.parse()
            .map(Self::Limit)
            .map_err(|_| format!("invalid --maxrows '{s}': a number of rows, or inf"))
    }
}

pub struct Printer {
    format: Format,
    maxrows: MaxRows,
    quiet: bool,
}

impl Printer {
    pub fn new(format: Format, maxrows: MaxRows, quiet: bool) -> Self {
        Self {
            format,
            maxrows,
            quiet,
        }
    }

    /// Prints one statement's result to standard output.
    pub fn print(&self, schema: &Schema, batches: &[RecordBatch], elapsed: Duration) -> Result<()> {
        let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
        let mut out = std::io::stdout().lock();
        if !schema.fields().is_empty() {
            self.write(&mut out, batches)?;
        }
        if !self.quiet {
            let shown = match (self.format, self.maxrows) {
                (Format::Table, MaxRows::Limit(limit)) if rows > limit => {
                    format!(" ({limit} shown, --maxrows)")
                }
                _ => String::new(),
            };
            writeln!(
                out,
                "{rows} row(s) fetched{shown}. Elapsed {:.3} seconds.\n",
                elapsed.as_secs_f64()
            )?;
        }
        Ok(())
    }

    fn write(&self, out: &mut impl Write, batches: &[RecordBatch]) -> Result<()> {
        match self.format {
            Format::Table => {
                let shown = match self.maxrows {
                    MaxRows::Unlimited => batches.to_vec(),
                    MaxRows::Limit(limit) => first_rows(batches, limit),
                };
                if !shown.is_empty() {
                    writeln!(out, "{}", pretty_format_batches(&shown)?)?;
                }
            }
            Format::Csv | Format::Tsv => {
                let delimiter = if self.format == Format::Csv {
                    b','
                } else {
                    b'\t'
                };
                let mut writer = WriterBuilder::new()
                    .with_header(true)
                    .with_delimiter(delimiter)
                    .build(&mut *out);
                for batch in batches {
                    writer.write(batch)?;
                }
            }
            Format::Json => {
                let mut writer = ArrayWriter::new(&mut *out);
                for batch in batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
                writeln!(out)?;
            }
            Format::NdJson => {
                let mut writer = LineDelimitedWriter::new(&mut *out);
                for batch in batches {
                    writer.write(batch)?;
                }
                writer.finish()?;
            }
        }
        Ok(())
    }
}

fn first_rows(batches: &[RecordBatch], limit: usize) -> Vec<RecordBatch> {
    let mut left = limit;
    let mut shown = Vec::new();
    for batch in batches {
        if left == 0 {
            break;
        }
        let take = batch.num_rows().min(left);
        shown.push(batch.slice(0, take));
        left -= take;
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxrows_parses_numbers_and_inf() {
        assert_eq!("7".parse::<MaxRows>().unwrap(), MaxRows::Limit(7));
        assert_eq!("inf".parse::<MaxRows>().unwrap(), MaxRows::Unlimited);
        assert!(
            "x".parse::<MaxRows>()
                .unwrap_err()
                .contains("invalid --maxrows 'x'")
        );
    }
}
