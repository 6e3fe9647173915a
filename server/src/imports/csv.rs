//! A streaming RFC 4180 CSV reader over any [`BufRead`]: one record at a time, so a file of a
//! million rows is never held whole.
//!
//! Fields are separated by commas and may be in double quotes (then they may hold commas, line
//! breaks and `""` for a quote). Lines end with LF or CRLF; a UTF-8 byte-order mark at the start
//! and blank lines are skipped. Every record knows the line it starts on (the header is line 1).

use std::collections::HashMap;
use std::io::{self, BufRead};

/// One record and the line it starts on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// The line the record starts on (1-based).
    pub line: usize,
    /// Its fields, unquoted.
    pub fields: Vec<String>,
}

/// Why a file could not be read.
#[derive(Debug)]
pub enum CsvError {
    /// The text is not valid CSV (or not UTF-8); the message names the line.
    Format(String),
    /// Reading failed.
    Io(io::Error),
}

impl From<io::Error> for CsvError {
    fn from(error: io::Error) -> Self {
        CsvError::Io(error)
    }
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Where the parser is inside a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field.
    FieldStart,
    /// Inside an unquoted field.
    Plain,
    /// Inside a quoted field.
    Quoted,
    /// Inside a quoted field, just after a `"` (a second one is a literal quote).
    QuoteInQuoted,
    /// After the closing quote: only a separator or a line end may follow.
    AfterQuote,
    /// Just after a `\r` outside quotes (a `\n` must follow to end the line, or it is data);
    /// `true` when the `\r` came after a closing quote.
    CarriageReturn(bool),
}

/// Reads CSV records one at a time.
pub struct CsvReader<R> {
    input: R,
    /// The line the parser is on.
    line: usize,
    /// Bytes consumed from `input`.
    bytes: u64,
    /// Bytes of the byte-order mark matched so far, or `None` once the start is past.
    bom: Option<usize>,
    field: Vec<u8>,
}

impl<R: BufRead> CsvReader<R> {
    /// A reader at the start of `input`.
    pub fn new(input: R) -> Self {
        Self { input, line: 1, bytes: 0, bom: Some(0), field: Vec::new() }
    }

    /// Bytes read so far (for progress displays).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Reads the next non-blank record into `record` (reusing its allocation); `false` at the end
    /// of the input.
    pub fn read_record(&mut self, record: &mut Record) -> Result<bool, CsvError> {
        loop {
            record.fields.clear();
            if !self.read_any_record(record)? {
                return Ok(false);
            }
            let blank = record.fields.len() == 1 && record.fields.first().is_some_and(String::is_empty);
            if !blank {
                return Ok(true);
            }
        }
    }

    /// Reads the next record, blank or not; `false` at the end of the input.
    fn read_any_record(&mut self, record: &mut Record) -> Result<bool, CsvError> {
        record.line = self.line;
        self.field.clear();
        let mut state = State::FieldStart;
        loop {
            let buffer = self.input.fill_buf()?;
            if buffer.is_empty() {
                return self.finish(state, record);
            }
            let mut used = 0;
            let mut ended = false;
            while used < buffer.len() {
                let byte = buffer[used];
                if let Some(matched) = self.bom {
                    if byte == BOM[matched] {
                        used += 1;
                        self.bom = if matched + 1 == BOM.len() { None } else { Some(matched + 1) };
                        continue;
                    }
                    // Not a byte-order mark after all: what looked like one is data.
                    self.field.extend_from_slice(&BOM[..matched]);
                    self.bom = None;
                    if matched > 0 {
                        state = State::Plain;
                    }
                }
                match state {
                    State::FieldStart | State::Plain => match byte {
                        b'"' if state == State::FieldStart => state = State::Quoted,
                        b',' => {
                            push_field(&mut self.field, record, self.line)?;
                            state = State::FieldStart;
                        }
                        b'\r' => state = State::CarriageReturn(false),
                        b'\n' => {
                            used += 1;
                            ended = true;
                            break;
                        }
                        _ => {
                            // Copy the run of plain bytes up to the next special one in one go.
                            let run = buffer[used..]
                                .iter()
                                .position(|b| matches!(b, b',' | b'\r' | b'\n'))
                                .unwrap_or(buffer.len() - used);
                            self.field.extend_from_slice(&buffer[used..used + run]);
                            used += run;
                            state = State::Plain;
                            continue;
                        }
                    },
                    State::Quoted => {
                        let run = buffer[used..].iter().position(|b| *b == b'"').unwrap_or(buffer.len() - used);
                        let text = &buffer[used..used + run];
                        self.line += text.iter().filter(|b| **b == b'\n').count();
                        self.field.extend_from_slice(text);
                        used += run;
                        if used < buffer.len() {
                            state = State::QuoteInQuoted;
                            used += 1;
                        }
                        continue;
                    }
                    State::QuoteInQuoted => {
                        if byte == b'"' {
                            self.field.push(b'"');
                            state = State::Quoted;
                        } else {
                            state = State::AfterQuote;
                            // The byte after a closing quote is looked at again.
                            continue;
                        }
                    }
                    State::AfterQuote => match byte {
                        b',' => {
                            push_field(&mut self.field, record, self.line)?;
                            state = State::FieldStart;
                        }
                        b'\r' => state = State::CarriageReturn(true),
                        b'\n' => {
                            used += 1;
                            ended = true;
                            break;
                        }
                        other => return Err(after_quote(self.line, other)),
                    },
                    State::CarriageReturn(after_quote_seen) => {
                        if byte == b'\n' {
                            used += 1;
                            ended = true;
                            break;
                        }
                        if after_quote_seen {
                            return Err(after_quote(self.line, b'\r'));
                        }
                        // A lone carriage return is data.
                        self.field.push(b'\r');
                        state = State::Plain;
                        continue;
                    }
                }
                used += 1;
            }
            self.input.consume(used);
            self.bytes += used as u64;
            if ended {
                push_field(&mut self.field, record, record.line)?;
                self.line += 1;
                return Ok(true);
            }
        }
    }

    /// Ends the input in `state`: the last record, if any.
    fn finish(&mut self, state: State, record: &mut Record) -> Result<bool, CsvError> {
        if let Some(matched) = self.bom.take() {
            self.field.extend_from_slice(&BOM[..matched]);
        }
        match state {
            State::Quoted => Err(CsvError::Format(format!("line {}: a quoted field is never closed", record.line))),
            State::FieldStart if record.fields.is_empty() && self.field.is_empty() => Ok(false),
            State::CarriageReturn(true) => Err(after_quote(self.line, b'\r')),
            State::CarriageReturn(false) => {
                self.field.push(b'\r');
                push_field(&mut self.field, record, record.line)?;
                Ok(true)
            }
            _ => {
                push_field(&mut self.field, record, record.line)?;
                Ok(true)
            }
        }
    }
}

fn push_field(field: &mut Vec<u8>, record: &mut Record, line: usize) -> Result<(), CsvError> {
    let text = String::from_utf8(std::mem::take(field))
        .map_err(|_| CsvError::Format(format!("line {line}: the file is not UTF-8 text")))?;
    record.fields.push(text);
    Ok(())
}

fn after_quote(line: usize, byte: u8) -> CsvError {
    CsvError::Format(format!("line {line}: unexpected {:?} after a closing quote", char::from(byte)))
}

/// Where each column of a dataset is in the file's records.
#[derive(Debug, Clone)]
pub struct Columns {
    positions: HashMap<&'static str, usize>,
    width: usize,
}

impl Columns {
    /// Checks `header` names exactly `columns` (in any order, each once, nothing else).
    pub fn from_header(header: &Record, columns: &'static [&'static str]) -> Result<Self, String> {
        let mut positions = HashMap::new();
        for (position, name) in header.fields.iter().enumerate() {
            let name = name.trim();
            let Some(column) = columns.iter().find(|c| **c == name) else {
                return Err(format!("unknown column {name:?}: expected {}", columns.join(",")));
            };
            if positions.insert(*column, position).is_some() {
                return Err(format!("column {name:?} appears twice in the header"));
            }
        }
        if let Some(missing) = columns.iter().find(|c| !positions.contains_key(*c)) {
            return Err(format!("missing column {missing:?}: expected {}", columns.join(",")));
        }
        Ok(Self { positions, width: header.fields.len() })
    }

    /// Reads the header line of `reader` and checks it.
    pub fn read<R: BufRead>(reader: &mut CsvReader<R>, columns: &'static [&'static str]) -> Result<Self, CsvError> {
        let mut header = Record::default();
        if !reader.read_record(&mut header)? {
            return Err(CsvError::Format("the file is empty: expected a header line".to_owned()));
        }
        Self::from_header(&header, columns).map_err(CsvError::Format)
    }

    /// An error when `record` has another number of fields than the header.
    pub fn check_width(&self, record: &Record) -> Result<(), String> {
        if record.fields.len() == self.width {
            Ok(())
        } else {
            Err(format!("line {}: {} field(s) where the header has {}", record.line, record.fields.len(), self.width))
        }
    }

    /// The value of `column` in `record` (empty if the record is short).
    pub fn field<'r>(&self, record: &'r Record, column: &str) -> &'r str {
        self.positions.get(column).and_then(|&i| record.fields.get(i)).map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn parse_csv(text: &str) -> Result<Vec<Record>, String> {
        parse_bytes(text.as_bytes(), 8192)
    }

    /// Parses through a reader whose buffer holds `capacity` bytes, to cross buffer boundaries.
    fn parse_bytes(bytes: &[u8], capacity: usize) -> Result<Vec<Record>, String> {
        let mut reader = CsvReader::new(io::BufReader::with_capacity(capacity, bytes));
        let mut records = Vec::new();
        let mut record = Record::default();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => records.push(record.clone()),
                Ok(false) => return Ok(records),
                Err(CsvError::Format(message)) => return Err(message),
                Err(CsvError::Io(error)) => return Err(error.to_string()),
            }
        }
    }

    fn header_of(text: &str, columns: &'static [&'static str]) -> Result<Columns, String> {
        let mut reader = CsvReader::new(text.as_bytes());
        match Columns::read(&mut reader, columns) {
            Ok(columns) => Ok(columns),
            Err(CsvError::Format(message)) => Err(message),
            Err(CsvError::Io(error)) => Err(error.to_string()),
        }
    }

    const STOCK_COLUMNS: &[&str] = &["warehouse", "region", "sku", "on_hand", "safety"];

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        let records = parse_csv("a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\n\n\"two\nlines\",z").unwrap();
        assert_eq!(
            records,
            vec![
                Record { line: 1, fields: vec!["a".into(), "b".into()] },
                Record { line: 2, fields: vec!["x, y".into(), "say \"hi\"".into()] },
                Record { line: 4, fields: vec!["two\nlines".into(), "z".into()] },
            ]
        );
    }

    #[test]
    fn an_unclosed_quote_names_its_line() {
        assert_eq!(parse_csv("a\n\"open").unwrap_err(), "line 2: a quoted field is never closed");
    }

    #[test]
    fn a_missing_or_unknown_column_is_named() {
        let missing = header_of("warehouse,region,sku,on_hand\n", STOCK_COLUMNS).unwrap_err();
        assert!(missing.contains("missing column \"safety\""), "{missing}");
        let unknown = header_of("warehouse,region,sku,on_hand,safety,colour\n", STOCK_COLUMNS).unwrap_err();
        assert!(unknown.contains("unknown column \"colour\""), "{unknown}");
    }

    #[test]
    fn an_empty_quoted_field_is_a_field() {
        let records = parse_csv("\"\",b\n").unwrap();
        assert_eq!(records, vec![Record { line: 1, fields: vec![String::new(), "b".into()] }]);
    }

    #[test]
    fn a_byte_order_mark_is_skipped_but_text_that_starts_like_one_is_kept() {
        let records = parse_csv("\u{feff}\"a\",b\n").unwrap();
        assert_eq!(records, vec![Record { line: 1, fields: vec!["a".into(), "b".into()] }]);
        // U+FEC0 starts with the first two bytes of a byte-order mark.
        let records = parse_csv("\u{fec0}x,b").unwrap();
        assert_eq!(records, vec![Record { line: 1, fields: vec!["\u{fec0}x".into(), "b".into()] }]);
    }

    #[test]
    fn every_buffer_size_reads_the_same_records() {
        let text = "\u{feff}h1,h2\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\r\n\"two\r\nlines\",z\nlast,\"é\"\"\"\n\"\",tail";
        let expected = parse_bytes(text.as_bytes(), 8192).unwrap();
        assert_eq!(expected.len(), 5);
        assert_eq!(expected[3], Record { line: 6, fields: vec!["last".into(), "é\"".into()] });
        for capacity in 1..=text.len() {
            assert_eq!(parse_bytes(text.as_bytes(), capacity).unwrap(), expected, "buffer of {capacity} bytes");
        }
    }

    #[test]
    fn text_after_a_closing_quote_and_invalid_utf8_name_their_line() {
        assert_eq!(parse_csv("a\n\"x\"y\n").unwrap_err(), "line 2: unexpected 'y' after a closing quote");
        assert_eq!(parse_bytes(b"a\nb\n\xff\n", 8192).unwrap_err(), "line 3: the file is not UTF-8 text");
    }

    #[test]
    fn a_lone_carriage_return_is_data_and_a_crlf_ends_the_line() {
        let records = parse_csv("a\rb,c\r\nd").unwrap();
        assert_eq!(
            records,
            vec![
                Record { line: 1, fields: vec!["a\rb".into(), "c".into()] },
                Record { line: 2, fields: vec!["d".into()] },
            ]
        );
    }

    #[test]
    fn bytes_read_reaches_the_file_size() {
        let text = "a,b\n1,2\n";
        let mut reader = CsvReader::new(text.as_bytes());
        let mut record = Record::default();
        while reader.read_record(&mut record).unwrap() {}
        assert_eq!(reader.bytes_read(), text.len() as u64);
    }
}
