//! Printing query results: the output [`Format`]s, the row limit of the table format,
//! the row-count footer, and the batch-by-batch printing of unbounded queries.

use std::io::Write;
use std::str::FromStr;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::datatypes::Schema;
use datafusion::arrow::json::{ArrayWriter, LineDelimitedWriter};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::common::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use futures::StreamExt;

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
            self.write(&mut out, batches, true)?;
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

    /// Prints the batches of an unbounded query as they arrive (the table format one
    /// table per batch, CSV with one header), flushing after each.
    pub async fn print_stream(
        &self,
        schema: &Schema,
        mut stream: SendableRecordBatchStream,
        started: Instant,
    ) -> Result<()> {
        if self.format == Format::Json {
            return Err(DataFusionError::Plan(
                "the results of an unbounded query stream: use --format table, csv, tsv or \
                 ndjson (a JSON array would never close)"
                    .into(),
            ));
        }
        let mut rows = 0;
        let mut first = true;
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            rows += batch.num_rows();
            let mut out = std::io::stdout().lock();
            if !schema.fields().is_empty() && batch.num_rows() > 0 {
                self.write(&mut out, std::slice::from_ref(&batch), first)?;
                first = false;
            }
            out.flush()?;
        }
        if !self.quiet {
            writeln!(
                std::io::stdout().lock(),
                "{rows} row(s) streamed. Elapsed {:.3} seconds.\n",
                started.elapsed().as_secs_f64()
            )?;
        }
        Ok(())
    }

    /// Writes `batches` in the format; `header`: CSV/TSV start with one (a stream's later
    /// batches do not).
    fn write(&self, out: &mut impl Write, batches: &[RecordBatch], header: bool) -> Result<()> {
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
                    .with_header(header)
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
