//! Reading events as a stream: JSON Lines, a JSON array, or pretty-printed objects
//! one after another, from any byte source, one event at a time. A bad line is
//! reported with its line number and skipped; the valid events around it are never
//! lost.
//!
//! Memory is bounded by the largest event, not by the input: the reader holds the
//! bytes of the value it is reading (and what one read of [`CHUNK`] brought past it),
//! never the file. A value may be at most [`MAX_VALUE`] bytes (EventBridge's own
//! limit is 256 KB); a longer one is a bad line. A JSON array is read element by
//! element, whether it is pretty-printed or on one line.

use std::io::{self, Read};

use serde_json::value::RawValue;

/// The largest event read, in bytes.
pub const MAX_VALUE: usize = 8 << 20;
/// How much one read asks the source for.
const CHUNK: usize = 64 << 10;

/// One event's JSON text and where it starts.
pub struct Located<'a> {
    /// 1-based line where the value starts.
    pub line: usize,
    /// The JSON text of the value.
    pub text: &'a str,
}

/// A syntax error at a line.
#[derive(Debug)]
pub struct BadLine {
    /// 1-based line.
    pub line: usize,
    /// What is wrong with it, in a few words (`not JSON: expected value at column 1`).
    pub message: String,
}

/// What one step of reading found; the text is in the reader's buffers.
enum Found {
    /// `buf[start..end]` at `line`.
    Slice {
        line: usize,
        start: usize,
        end: usize,
    },
    /// `owned` at `line`.
    Owned {
        line: usize,
    },
    Bad(BadLine),
    /// Nothing to yield yet (a blank line, the end of an array).
    Again,
    End,
}

/// Event texts from `src`, in order: call [`Reader::next_event`] until it gives `None`.
pub struct Reader<R> {
    src: R,
    buf: Vec<u8>,
    /// The first byte not read yet.
    pos: usize,
    /// The 1-based line of `buf[pos]`.
    line: usize,
    eof: bool,
    /// Inside a JSON array, and whether an element was just read.
    array: Option<bool>,
    /// The line the array opened on.
    array_line: usize,
    /// What follows a value on its last line is not read (as a whole-file parse would
    /// stop there); reading resumes at the next line.
    skip_line: bool,
    /// The text of the last event when it is not a slice of `buf`.
    owned: String,
    /// Whether the start of the input was checked for a byte order mark.
    started: bool,
}

impl<R: Read> Reader<R> {
    /// A reader of `src`.
    pub fn new(src: R) -> Self {
        Self {
            src,
            buf: Vec::with_capacity(CHUNK),
            pos: 0,
            line: 1,
            eof: false,
            array: None,
            array_line: 0,
            skip_line: false,
            owned: String::new(),
            started: false,
        }
    }

    /// Skips a UTF-8 byte order mark at the very start of the input: a file saved
    /// "UTF-8 with BOM" (Windows editors, PowerShell) would otherwise lose its first
    /// event as a bad line.
    fn skip_bom(&mut self) -> io::Result<()> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        self.started = true;
        while self.buf.len() < BOM.len() && self.fill()? {}
        if self.buf.starts_with(BOM) {
            self.pos = BOM.len();
        }
        Ok(())
    }

    /// The next event or bad line; `None` at the end of the input.
    pub fn next_event(&mut self) -> io::Result<Option<Result<Located<'_>, BadLine>>> {
        if !self.started {
            self.skip_bom()?;
        }
        let found = loop {
            self.compact();
            let step = if self.skip_line {
                self.skip_rest_of_line()?
            } else if self.array.is_some() {
                self.element()?
            } else {
                self.top_level()?
            };
            if !matches!(step, Found::Again) {
                break step;
            }
        };
        Ok(match found {
            Found::End | Found::Again => None,
            Found::Bad(b) => Some(Err(b)),
            Found::Owned { line } => Some(Ok(Located {
                line,
                text: &self.owned,
            })),
            Found::Slice { line, start, end } => {
                // Checked as UTF-8 when it was found.
                let text = std::str::from_utf8(&self.buf[start..end]).unwrap_or_default();
                Some(Ok(Located { line, text }))
            }
        })
    }

    /// Forgets the bytes already read, once they are the larger part of the buffer.
    fn compact(&mut self) {
        if self.pos >= CHUNK && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
    }

    /// Reads one more chunk; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = loop {
            match self.src.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(e);
                }
            }
        };
        self.buf.truncate(old + n);
        self.eof = n == 0;
        Ok(n > 0)
    }

    /// Moves `pos` to `to`, counting the lines passed.
    fn advance(&mut self, to: usize) {
        self.line += memchr::memchr_iter(b'\n', &self.buf[self.pos..to]).count();
        self.pos = to;
    }

    /// The end of the line at `pos` (the index of its `\n`, or the end of the input),
    /// or `None` when the line is longer than [`MAX_VALUE`].
    fn line_end(&mut self) -> io::Result<Option<usize>> {
        let mut from = self.pos;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[from..]) {
                return Ok(Some(from + i));
            }
            from = self.buf.len();
            if from - self.pos > MAX_VALUE {
                return Ok(None);
            }
            if !self.fill()? {
                return Ok(Some(self.buf.len()));
            }
        }
    }

    /// Skips to the start of the next line, holding no more than a chunk of it.
    fn skip_rest_of_line(&mut self) -> io::Result<Found> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[self.pos..]) {
                self.pos += i + 1;
                self.line += 1;
                self.skip_line = false;
                return Ok(Found::Again);
            }
            self.pos = self.buf.len();
            self.compact();
            if !self.fill()? {
                self.skip_line = false;
                return Ok(Found::Again);
            }
        }
    }

    /// A line outside any array: a whole JSON value on one line (the fast path), a
    /// value starting on it and spanning lines, or the start of an array.
    fn top_level(&mut self) -> io::Result<Found> {
        if self.pos >= self.buf.len() && !self.fill()? {
            return Ok(Found::End);
        }
        let line = self.line;
        // An array is read element by element, whatever the length of its line.
        let mut from = self.pos;
        let lead = loop {
            match self.buf[from..]
                .iter()
                .position(|b| !matches!(b, b' ' | b'\t' | b'\r'))
            {
                Some(i) => break Some(from + i),
                None if from - self.pos > MAX_VALUE => break None,
                None => {
                    from = self.buf.len();
                    if !self.fill()? {
                        break None;
                    }
                }
            }
        };
        if let Some(at) = lead.filter(|at| self.buf[*at] == b'[') {
            self.pos = at + 1;
            self.array = Some(false);
            self.array_line = line;
            return Ok(Found::Again);
        }
        let Some(end) = self.line_end()? else {
            self.skip_line = true;
            return Ok(Found::Bad(BadLine {
                line,
                message: format!("a line longer than {} MiB", MAX_VALUE >> 20),
            }));
        };
        let bytes = &self.buf[self.pos..end];
        let Some(first) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else {
            self.pos = end;
            self.skip_line = true;
            return Ok(Found::Again);
        };
        let last = bytes
            .iter()
            .rposition(|b| !b.is_ascii_whitespace())
            .unwrap_or(first);
        let (start, stop) = (self.pos + first, self.pos + last + 1);
        let alone = match std::str::from_utf8(&self.buf[start..stop]) {
            Ok(text) => serde_json::from_str::<&RawValue>(text).map(|_| true),
            Err(_) => {
                let text = String::from_utf8_lossy(&self.buf[start..stop]).into_owned();
                let alone = serde_json::from_str::<&RawValue>(&text).map(|_| false);
                self.owned = text;
                alone
            }
        };
        match alone {
            Ok(borrowed) => {
                self.pos = end;
                self.skip_line = true;
                Ok(if borrowed {
                    Found::Slice {
                        line,
                        start,
                        end: stop,
                    }
                } else {
                    Found::Owned { line }
                })
            }
            Err(e) => match self.value_at(start)? {
                Ok(len) => {
                    self.advance(start + len);
                    self.skip_line = true;
                    Ok(Found::Owned { line })
                }
                Err(_) => {
                    self.pos = end;
                    self.skip_line = true;
                    Ok(Found::Bad(BadLine {
                        line,
                        message: not_json(&e),
                    }))
                }
            },
        }
    }

    /// The next element of an array, or its end.
    fn element(&mut self) -> io::Result<Found> {
        let after_element = self.array == Some(true);
        let Some(at) = self.skip_whitespace()? else {
            self.array = None;
            return Ok(Found::Bad(BadLine {
                line: self.array_line,
                message: "not JSON: an array that does not close".to_owned(),
            }));
        };
        self.advance(at);
        match self.buf[at] {
            b']' => {
                self.array = None;
                self.pos = at + 1;
                self.skip_line = true;
                return Ok(Found::Again);
            }
            b',' if after_element => {
                self.pos = at + 1;
                self.array = Some(false);
                return Ok(Found::Again);
            }
            _ if after_element => {
                self.array = None;
                self.skip_line = true;
                return Ok(Found::Bad(BadLine {
                    line: self.line,
                    message: "not JSON: an array element followed by neither `,` nor `]`"
                        .to_owned(),
                }));
            }
            _ => {}
        }
        let line = self.line;
        match self.value_at(at)? {
            Ok(len) => {
                self.advance(at + len);
                self.array = Some(true);
                Ok(Found::Owned { line })
            }
            Err(message) => {
                // The array is left: reading resumes on the next line, where the
                // elements that follow are read one by one.
                self.array = None;
                self.skip_line = true;
                Ok(Found::Bad(BadLine { line, message }))
            }
        }
    }

    /// The index of the next non-blank byte, reading more as needed; `None` at the end.
    fn skip_whitespace(&mut self) -> io::Result<Option<usize>> {
        let mut from = self.pos;
        loop {
            if let Some(i) = self.buf[from..]
                .iter()
                .position(|b| !b.is_ascii_whitespace())
            {
                return Ok(Some(from + i));
            }
            self.advance(self.buf.len());
            self.compact();
            from = self.pos;
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Parses the one JSON value starting at `buf[at]` (reading more while it is cut
    /// short), puts its text in `owned` and gives its length in bytes; or what is wrong.
    fn value_at(&mut self, at: usize) -> io::Result<Result<usize, String>> {
        loop {
            let mut stream =
                serde_json::Deserializer::from_slice(&self.buf[at..]).into_iter::<&RawValue>();
            let err = match stream.next() {
                Some(Ok(raw)) => {
                    self.owned.clear();
                    self.owned.push_str(raw.get());
                    return Ok(Ok(raw.get().len()));
                }
                Some(Err(e)) => e,
                None => return Ok(Err("not JSON: cut short".to_owned())),
            };
            if !err.is_eof() {
                return Ok(Err(not_json_spanning(&err)));
            }
            if self.buf.len() - at > MAX_VALUE {
                return Ok(Err(format!("a value longer than {} MiB", MAX_VALUE >> 20)));
            }
            // Read at least as much again as is held, so that a long value is parsed
            // a few times, not once per chunk.
            let want = (self.buf.len() - at).max(CHUNK);
            let target = self.buf.len() + want;
            while self.buf.len() < target {
                if !self.fill()? {
                    break;
                }
            }
            if self.eof && self.buf.len() < target {
                let mut stream =
                    serde_json::Deserializer::from_slice(&self.buf[at..]).into_iter::<&RawValue>();
                return Ok(match stream.next() {
                    Some(Ok(raw)) => {
                        self.owned.clear();
                        self.owned.push_str(raw.get());
                        Ok(raw.get().len())
                    }
                    Some(Err(e)) => Err(not_json_spanning(&e)),
                    None => Err("not JSON: cut short".to_owned()),
                });
            }
        }
    }
}

/// An event's text and line, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// 1-based line where the value starts.
    pub line: usize,
    /// The JSON text of the value.
    pub text: String,
}

/// Splits `text` into event texts, in order (the streaming reader over a string).
pub fn split(text: &str) -> Vec<Result<Event, BadLine>> {
    let mut reader = Reader::new(text.as_bytes());
    let mut out = Vec::new();
    // Reading from memory cannot fail.
    while let Ok(Some(item)) = reader.next_event() {
        out.push(item.map(|l| Event {
            line: l.line,
            text: l.text.to_owned(),
        }));
    }
    out
}

/// A JSON syntax error in one line: what the parser found and at which column (the
/// line number is the caller's), e.g. `not JSON: expected value at column 1`.
fn not_json(e: &serde_json::Error) -> String {
    let what = e.to_string();
    let what = what.split(" at line ").next().unwrap_or(&what);
    if e.is_eof() {
        format!("not JSON: cut short ({what})")
    } else if e.line() == 1 {
        format!("not JSON: {what} at column {}", e.column())
    } else {
        format!("not JSON: {what}")
    }
}

/// A JSON syntax error in a value that may span lines: what the parser found, and how
/// many lines below the value's first it found it.
fn not_json_spanning(e: &serde_json::Error) -> String {
    match e.line() {
        0 | 1 => not_json(e),
        n => {
            let what = e.to_string();
            let what = what.split(" at line ").next().unwrap_or(&what);
            format!("not JSON: {what} {} line(s) below", n - 1)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<Result<usize, usize>> {
        split(text)
            .into_iter()
            .map(|r| r.map(|l| l.line).map_err(|b| b.line))
            .collect()
    }

    /// A source that gives one byte per read, as a pipe may.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), out.first_mut()) {
                (Some((b, rest)), Some(o)) => {
                    *o = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn json_lines_with_a_bad_line_keep_the_good_ones() {
        let text = "{\"a\":1}\n{\"a\":\n{\"a\":3}\n\n{\"a\":4}\n";
        assert_eq!(lines(text), vec![Ok(1), Err(2), Ok(3), Ok(5)]);
    }

    #[test]
    fn truncated_last_line_is_an_error_with_its_line() {
        assert_eq!(lines("{\"a\":1}\n{\"a\":2, \"b\""), vec![Ok(1), Err(2)]);
    }

    #[test]
    fn arrays_and_pretty_objects_give_each_element_its_line() {
        assert_eq!(lines("[\n {\"a\":1},\n {\"a\":2}\n]\n"), vec![Ok(2), Ok(3)]);
        assert_eq!(
            lines("{\n \"a\": 1\n}\n{\n \"a\": 2\n}\n"),
            vec![Ok(1), Ok(4)]
        );
        assert_eq!(
            lines("[{\"a\":1},{\"a\":2}]\n{\"a\":3}"),
            vec![Ok(1), Ok(1), Ok(2)]
        );
    }

    #[test]
    fn a_broken_array_element_is_reported_and_the_elements_after_it_are_read() {
        let text = "[\n{\"a\":\n{\"a\":3},\n{\"a\":4}\n]\n";
        assert_eq!(lines(text), vec![Err(2), Ok(3), Ok(4), Err(5)]);
    }

    /// A file saved "UTF-8 with BOM" (Windows editors, PowerShell's `-Encoding utf8`)
    /// starts with U+FEFF: its first event is an event, not a bad line; a BOM later
    /// in the input is not skipped.
    #[test]
    fn a_byte_order_mark_at_the_start_is_not_a_bad_line() {
        assert_eq!(lines("\u{feff}{\"a\":1}\n{\"a\":2}\n"), vec![Ok(1), Ok(2)]);
        assert_eq!(lines("\u{feff}[\n{\"a\":1}\n]\n"), vec![Ok(2)]);
        assert_eq!(lines("{\"a\":1}\n\u{feff}{\"a\":2}\n"), vec![Ok(1), Err(2)]);
        let mut reader = Reader::new(Trickle("\u{feff}{\"a\":1}\n".as_bytes()));
        assert_eq!(
            reader.next_event().unwrap().unwrap().unwrap().text,
            "{\"a\":1}"
        );
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        let got = lines("not json\n\u{0}\u{1}\n{\"a\":1}\n");
        assert_eq!(got.last(), Some(&Ok(3)));
        assert!(got.iter().filter(|r| r.is_err()).count() >= 1);
    }

    #[test]
    fn a_source_giving_a_byte_at_a_time_reads_the_same_as_a_whole_text() {
        let text = "{\"a\":1}\n[\n {\"a\":2},\n {\"a\":\n 3}\n]\n{\"a\":\nnope\n{\n\"a\":5}\n";
        let mut reader = Reader::new(Trickle(text.as_bytes()));
        let mut got = Vec::new();
        while let Some(item) = reader.next_event().unwrap() {
            got.push(
                item.map(|l| Event {
                    line: l.line,
                    text: l.text.to_owned(),
                })
                .map_err(|b| b.line),
            );
        }
        let whole: Vec<_> = split(text)
            .into_iter()
            .map(|r| r.map_err(|b| b.line))
            .collect();
        assert_eq!(got, whole);
        assert_eq!(
            got.iter()
                .map(|r| r.as_ref().map(|l| l.line).map_err(|l| *l))
                .collect::<Vec<_>>(),
            vec![Ok(1), Ok(3), Ok(4), Err(7), Err(8), Ok(9)]
        );
    }

    /// A one-line array of `n` small objects, made as it is read.
    struct LongArray {
        n: usize,
        next: usize,
        pending: Vec<u8>,
    }

    impl Read for LongArray {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            while self.pending.len() < out.len() && self.next <= self.n {
                let piece = match self.next {
                    0 => "[".to_owned(),
                    i if i == self.n => format!("{{\"a\":{i}}}]\n"),
                    i => format!("{{\"a\":{i}}},"),
                };
                self.pending.extend_from_slice(piece.as_bytes());
                self.next += 1;
            }
            let k = out.len().min(self.pending.len());
            out[..k].copy_from_slice(&self.pending[..k]);
            self.pending.drain(..k);
            Ok(k)
        }
    }

    #[test]
    fn a_long_one_line_array_is_read_element_by_element_in_bounded_memory() {
        // About 13 MB on one line: more than a value may be.
        let n = 1_200_000;
        let mut reader = Reader::new(LongArray {
            n,
            next: 0,
            pending: Vec::new(),
        });
        let (mut count, mut held) = (0, 0);
        while let Some(item) = reader.next_event().unwrap() {
            let l = item.unwrap();
            assert_eq!(l.line, 1);
            count += 1;
            held = held.max(reader.buf.len());
        }
        assert_eq!(count, n);
        assert!(held <= 3 * CHUNK, "held {held} bytes of a ~4 MB line");
    }

    #[test]
    fn a_line_longer_than_the_limit_is_one_bad_line_between_good_ones() {
        let text = format!("{{\"a\":1}}\n{}\n{{\"a\":3}}\n", "x".repeat(MAX_VALUE + 10));
        assert_eq!(lines(&text), vec![Ok(1), Err(2), Ok(3)]);
    }
}
