//! CSV records one at a time over any [`Read`], with the `csv` crate (RFC 4180: quoted fields may
//! hold commas, line breaks and `""` for a quote; lines end with LF or CRLF, a lone CR is data), so a file of a
//! million rows is never held whole. What this module adds: a UTF-8 byte-order mark at the start
//! and blank lines are skipped, every record knows the line it starts on (the header is line 1),
//! and a file that is not UTF-8 is refused with that line.
//!
//! The `csv` crate is lenient where the hand-written reader it replaced was strict: text after a
//! closing quote (`"x"y`) is kept as part of the field, and a quote left open at the end of the
//! file ends there. Such a row almost always has another width than the header, which
//! [`Columns::check_width`] refuses with its line.

use std::collections::HashMap;
use std::io::{self, Read};

use fieldsync_core::i18n::Message;

use super::check::on_line;

/// One record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// The line the record starts on (1-based).
    pub line: usize,
    /// Its fields, unquoted.
    pub fields: csv::StringRecord,
}

/// Why a file could not be read.
#[derive(Debug)]
pub enum CsvError {
    /// The text is not valid CSV (or not UTF-8); the message names the line.
    Format(Message),
    /// Reading failed.
    Io(io::Error),
}

impl From<io::Error> for CsvError {
    fn from(error: io::Error) -> Self {
        CsvError::Io(error)
    }
}

impl From<csv::Error> for CsvError {
    fn from(error: csv::Error) -> Self {
        let line = error.position().map(|p| usize::try_from(p.line()).unwrap_or(usize::MAX));
        match error.into_kind() {
            csv::ErrorKind::Io(error) => CsvError::Io(error),
            csv::ErrorKind::Utf8 { err, .. } => {
                let reason = Message::new("refusal-import-not-utf8").arg("field", err.field() + 1);
                CsvError::Format(on_line(line.unwrap_or(0), reason))
            }
            other => {
                // The CSV parser's own description stays as it writes it.
                let reason = Message::new("refusal-import-csv").arg("detail", format!("{other:?}"));
                CsvError::Format(match line {
                    Some(line) => on_line(line, reason),
                    None => reason,
                })
            }
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The input after its byte-order mark, if any, ending with a `\n`: `csv` skips empty lines
/// without a trace, so a record's line is counted back from where it ends, which needs every
/// record to end with a line break.
struct Terminated<R> {
    input: io::Chain<io::Cursor<Vec<u8>>, R>,
    /// Bytes of the input passed on (without the added `\n`).
    passed: u64,
    last: Option<u8>,
    ended: bool,
}

impl<R: Read> Read for Terminated<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        if self.ended || buffer.is_empty() {
            return Ok(0);
        }
        let read = self.input.read(buffer)?;
        if let Some(&last) = buffer[..read].last() {
            self.last = Some(last);
            self.passed += read as u64;
            return Ok(read);
        }
        self.ended = true;
        if self.last.is_some_and(|last| last != b'\n') {
            buffer[0] = b'\n';
            return Ok(1);
        }
        Ok(0)
    }
}

/// Reads CSV records one at a time.
pub struct CsvReader<R> {
    inner: csv::Reader<Terminated<R>>,
    /// Room to cut a CRLF's `\r` from a last field without allocating per line.
    last: String,
    /// Bytes of the byte-order mark skipped at the start (0 or 3).
    skipped: u64,
}

impl<R: Read> CsvReader<R> {
    /// A reader at the start of `input`, buffering `capacity` bytes (`input` need not buffer).
    pub fn with_capacity(mut input: R, capacity: usize) -> Result<Self, CsvError> {
        let mut start = Vec::with_capacity(BOM.len());
        (&mut input).take(BOM.len() as u64).read_to_end(&mut start)?;
        let skipped = if start == BOM {
            start.clear();
            BOM.len() as u64
        } else {
            0
        };
        let inner = csv::ReaderBuilder::new()
            .has_headers(false)
            // Rows of another width are reported with their line by `Columns::check_width`.
            .flexible(true)
            // Lines end at `\n` only, so a record's position is the line it starts on (with CRLF as
            // the terminator, `csv` records a record's start before the `\n` of the line before);
            // the `\r` of a CRLF is cut from the last field in `read_record`.
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(capacity)
            .from_reader(Terminated {
                input: io::Cursor::new(start).chain(input),
                passed: 0,
                last: None,
                ended: false,
            });
        Ok(Self { inner, skipped, last: String::new() })
    }

    /// Bytes read so far (for progress displays).
    pub fn bytes_read(&self) -> u64 {
        self.skipped + self.inner.position().byte().min(self.inner.get_ref().passed)
    }

    /// Reads the next non-blank record into `record` (reusing its allocation); `false` at the end
    /// of the input.
    pub fn read_record(&mut self, record: &mut Record) -> Result<bool, CsvError> {
        loop {
            if !self.inner.read_record(&mut record.fields)? {
                return Ok(false);
            }
            if let Some(last) = record.fields.len().checked_sub(1)
                && let Some(text) = record.fields.get(last)
                && let Some(text) = text.strip_suffix('\r')
            {
                self.last.clear();
                self.last.push_str(text);
                record.fields.truncate(last);
                record.fields.push_field(&self.last);
            }
            // The reader is past the record's closing `\n` and every `\n` inside its fields. A quote
            // left open at the end has no closing `\n`: then the start `csv` recorded (which is
            // before any skipped empty lines, so never later than the real one) is the later one.
            let inside = record.fields.as_byte_record().as_slice().iter().filter(|b| **b == b'\n').count() as u64;
            let recorded = record.fields.position().map_or(0, csv::Position::line);
            let start = self.inner.position().line().saturating_sub(inside + 1).max(recorded);
            record.line = usize::try_from(start).unwrap_or(usize::MAX);
            // `csv` skips empty lines already; a CRLF one or a lone `""` is blank too.
            let blank = record.fields.len() == 1 && record.fields.get(0).is_some_and(str::is_empty);
            if !blank {
                return Ok(true);
            }
        }
    }
}

/// Where each column of a dataset is in the file's records.
#[derive(Debug, Clone)]
pub struct Columns {
    positions: HashMap<&'static str, usize>,
    width: usize,
}

impl Columns {
    /// Checks `header` names exactly `columns` (in any order, each once, nothing else).
    pub fn from_header(header: &Record, columns: &'static [&'static str]) -> Result<Self, Message> {
        let mut positions = HashMap::new();
        for (position, name) in header.fields.iter().enumerate() {
            let name = name.trim();
            let Some(column) = columns.iter().find(|c| **c == name) else {
                let message = Message::new("refusal-import-unknown-column").arg("column", format!("{name:?}"));
                return Err(message.arg("columns", columns.join(",")));
            };
            if positions.insert(*column, position).is_some() {
                return Err(Message::new("refusal-import-column-twice").arg("column", format!("{name:?}")));
            }
        }
        if let Some(missing) = columns.iter().find(|c| !positions.contains_key(*c)) {
            let message = Message::new("refusal-import-missing-column").arg("column", format!("{missing:?}"));
            return Err(message.arg("columns", columns.join(",")));
        }
        Ok(Self { positions, width: header.fields.len() })
    }

    /// Reads the header line of `reader` and checks it.
    pub fn read<R: Read>(reader: &mut CsvReader<R>, columns: &'static [&'static str]) -> Result<Self, CsvError> {
        let mut header = Record::default();
        if !reader.read_record(&mut header)? {
            return Err(CsvError::Format(Message::new("refusal-import-empty-file")));
        }
        Self::from_header(&header, columns).map_err(CsvError::Format)
    }

    /// An error when `record` has another number of fields than the header.
    pub fn check_width(&self, record: &Record) -> Result<(), Message> {
        if record.fields.len() == self.width {
            Ok(())
        } else {
            let reason =
                Message::new("refusal-import-width").arg("fields", record.fields.len()).arg("width", self.width);
            Err(on_line(record.line, reason))
        }
    }

    /// The value of `column` in `record` (empty if the record is short).
    pub fn field<'r>(&self, record: &'r Record, column: &str) -> &'r str {
        self.positions.get(column).and_then(|&i| record.fields.get(i)).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn record(line: usize, fields: &[&str]) -> Record {
        Record { line, fields: csv::StringRecord::from(fields.to_vec()) }
    }

    fn parse_csv(text: &str) -> Result<Vec<Record>, String> {
        parse_bytes(text.as_bytes(), 8192)
    }

    /// Parses through a reader whose buffer holds `capacity` bytes, to cross buffer boundaries.
    fn english(message: &Message) -> String {
        crate::messages::catalog().text(fieldsync_core::i18n::Language::English, message)
    }

    fn parse_bytes(bytes: &[u8], capacity: usize) -> Result<Vec<Record>, String> {
        let message = |error: CsvError| match error {
            CsvError::Format(message) => english(&message),
            CsvError::Io(error) => error.to_string(),
        };
        let mut reader = CsvReader::with_capacity(bytes, capacity).map_err(message)?;
        let mut records = Vec::new();
        let mut record = Record::default();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => records.push(record.clone()),
                Ok(false) => return Ok(records),
                Err(error) => return Err(message(error)),
            }
        }
    }

    fn header_of(text: &str, columns: &'static [&'static str]) -> Result<Columns, String> {
        let mut reader = CsvReader::with_capacity(text.as_bytes(), 8192).unwrap();
        match Columns::read(&mut reader, columns) {
            Ok(columns) => Ok(columns),
            Err(CsvError::Format(message)) => Err(english(&message)),
            Err(CsvError::Io(error)) => Err(error.to_string()),
        }
    }

    const STOCK_COLUMNS: &[&str] = &["warehouse", "region", "sku", "on_hand", "safety"];

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        let records = parse_csv("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",z").unwrap();
        assert_eq!(
            records,
            vec![record(1, &["a", "b"]), record(2, &["x, y", "say \"hi\""]), record(4, &["two\nlines", "z"])]
        );
        assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 4]);
    }

    #[test]
    fn an_unclosed_quote_ends_at_the_end_of_the_file_and_the_width_check_names_its_line() {
        let records = parse_csv("a,b\n\"open,x\nmore,y\n").unwrap();
        assert_eq!(records[1].line, 2);
        let header = Columns::from_header(&records[0], &["a", "b"]).unwrap();
        assert_eq!(english(&header.check_width(&records[1]).unwrap_err()), "line 2: 1 field(s) where the header has 2");
    }

    #[test]
    fn a_missing_or_unknown_column_is_named() {
        let missing = header_of("warehouse,region,sku,on_hand\n", STOCK_COLUMNS).unwrap_err();
        assert!(missing.contains("missing column \"safety\""), "{missing}");
        let unknown = header_of("warehouse,region,sku,on_hand,safety,colour\n", STOCK_COLUMNS).unwrap_err();
        assert!(unknown.contains("unknown column \"colour\""), "{unknown}");
        assert_eq!(header_of("", STOCK_COLUMNS).unwrap_err(), "the file is empty: expected a header line");
    }

    #[test]
    fn an_empty_quoted_field_is_a_field_and_a_lone_one_is_a_blank_line() {
        assert_eq!(parse_csv("\"\",b\n").unwrap(), vec![record(1, &["", "b"])]);
        assert_eq!(parse_csv("a\n\"\"\nb\n").unwrap(), vec![record(1, &["a"]), record(3, &["b"])]);
    }

    #[test]
    fn a_byte_order_mark_is_skipped_but_text_that_starts_like_one_is_kept() {
        let records = parse_csv("\u{feff}\"a\",b\n").unwrap();
        assert_eq!(records, vec![record(1, &["a", "b"])]);
        // U+FEC0 starts with the first two bytes of a byte-order mark.
        let records = parse_csv("\u{fec0}x,b").unwrap();
        assert_eq!(records, vec![record(1, &["\u{fec0}x", "b"])]);
        // Shorter than a byte-order mark.
        assert_eq!(parse_csv("a").unwrap(), vec![record(1, &["a"])]);
    }

    #[test]
    fn every_buffer_size_reads_the_same_records() {
        let text = "\u{feff}h1,h2\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n\"two\r\nlines\",z\nlast,\"é\"\"\"\n\"\",tail";
        let expected = parse_bytes(text.as_bytes(), 8192).unwrap();
        assert_eq!(expected.len(), 5);
        assert_eq!(expected[3], record(6, &["last", "é\""]));
        assert_eq!(expected[3].line, 6);
        for capacity in 1..=text.len() {
            let records = parse_bytes(text.as_bytes(), capacity).unwrap();
            assert_eq!(records, expected, "buffer of {capacity} bytes");
            let lines: Vec<usize> = records.iter().map(|r| r.line).collect();
            assert_eq!(lines, [1, 2, 4, 6, 7], "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn a_lone_carriage_return_is_data_and_a_crlf_ends_the_line() {
        let records = parse_csv("a\rb,c\r\nd,\"e\"\r\n\r\nf").unwrap();
        assert_eq!(records, vec![record(1, &["a\rb", "c"]), record(2, &["d", "e"]), record(4, &["f"])]);
        assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2, 4]);
    }

    #[test]
    fn invalid_utf8_names_its_line_and_field() {
        assert_eq!(parse_bytes(b"a,b\nb,c\nd,\xff\n", 8192).unwrap_err(), "line 3: field 2 is not UTF-8 text");
    }

    #[test]
    fn bytes_read_reaches_the_file_size() {
        for text in ["a,b\n1,2\n", "\u{feff}a,b\n1,2\n"] {
            let mut reader = CsvReader::with_capacity(text.as_bytes(), 4).unwrap();
            let mut record = Record::default();
            while reader.read_record(&mut record).unwrap() {}
            assert_eq!(reader.bytes_read(), text.len() as u64);
        }
    }
}
