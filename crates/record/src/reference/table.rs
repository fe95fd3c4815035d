//! The one reader of our TSV files: `#` header comments (with `version:` and `columns:`),
//! then one row per line, tab-separated.

use std::collections::BTreeMap;
use std::fmt;

use super::codes::CodeError;

/// Something wrong with one embedded reference file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// A line of a file is unusable; the row is left out of its table.
    #[error("{file} line {line}: {problem}")]
    Line {
        /// The file, e.g. `communes.tsv`.
        file: &'static str,
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        problem: LineProblem,
    },
    /// A file lacks a required header comment.
    #[error("{file}: no `# {header}:` header line")]
    MissingHeader {
        /// The file.
        file: &'static str,
        /// The header looked for.
        header: Header,
    },
    /// A commune names a province that `provinces.tsv` does not list.
    #[error("communes.tsv: commune {commune} names province {province}, which provinces.tsv does not list")]
    UnknownProvince {
        /// The commune.
        commune: String,
        /// The province code it names.
        province: String,
    },
    /// `provinces.tsv` declares another number of communes than `communes.tsv` lists.
    #[error("provinces.tsv: province {province} declares {declared} communes, communes.tsv lists {listed}")]
    CommuneCount {
        /// The province code.
        province: String,
        /// The count in `provinces.tsv`.
        declared: u16,
        /// The rows in `communes.tsv`.
        listed: usize,
    },
    /// An update's text is over [`super::MAX_LIST_BYTES`].
    #[error("{file}: the update is {len} bytes, over the {max}-byte limit")]
    TooLarge {
        /// The file it replaces.
        file: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An update's `# version:` line is not the version it was published as.
    #[error("{file}: the text says version {header:?}, the update was published as {published:?}")]
    VersionMismatch {
        /// The file it replaces.
        file: &'static str,
        /// The text's `# version:` (empty when it has none).
        header: String,
        /// The version it was published as.
        published: String,
    },
    /// One set of updates replaces the same list twice.
    #[error("{file}: replaced twice in one set of updates")]
    ListTwice {
        /// The file.
        file: &'static str,
    },
}

/// A required header comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Header {
    /// `# version: ...`: which release of the facts this file holds.
    Version,
    /// `# columns: ...`: the column names, tab-separated.
    Columns,
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Header::Version => "version",
            Header::Columns => "columns",
        })
    }
}

/// Why one line of a reference file is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    /// The `# columns:` header names other columns than the reader expects.
    #[error("columns are {found:?}, expected {expected:?}")]
    WrongColumns {
        /// What the reader expects.
        expected: String,
        /// What the file says.
        found: String,
    },
    /// A row has another number of cells than there are columns.
    #[error("{found} cells, expected {expected}")]
    CellCount {
        /// The number of columns.
        expected: usize,
        /// The cells on the line.
        found: usize,
    },
    /// A code cell is malformed.
    #[error(transparent)]
    Code(#[from] CodeError),
    /// A number cell is not a number in range.
    #[error("column {column}: {value:?} is not a valid number")]
    Number {
        /// The column.
        column: &'static str,
        /// The cell.
        value: String,
    },
    /// A cell does not have the shape its column needs.
    #[error("column {column}: {value:?} is malformed")]
    Malformed {
        /// The column.
        column: &'static str,
        /// The cell.
        value: String,
    },
    /// A kind cell names no kind the reader knows.
    #[error("column {column}: unknown kind {value:?}")]
    Kind {
        /// The column.
        column: &'static str,
        /// The cell.
        value: String,
    },
    /// A text cell is empty.
    #[error("column {column} is empty")]
    Empty {
        /// The column.
        column: &'static str,
    },
    /// A text cell has spaces at either end, which would make equal names compare unequal.
    #[error("column {column} has leading or trailing spaces")]
    Spaces {
        /// The column.
        column: &'static str,
    },
    /// A text cell is not in Unicode NFC, which every text in Ghi Danh is compared in.
    #[error("column {column} is not in Unicode NFC")]
    NotNfc {
        /// The column.
        column: &'static str,
    },
    /// The code was already given on an earlier line.
    #[error("code {code} already on line {first_line}")]
    Duplicate {
        /// The code.
        code: String,
        /// The line that gave it first.
        first_line: usize,
    },
}

/// One file read: its version, its good rows, and one error per bad line.
#[derive(Debug)]
pub(crate) struct Parsed<T> {
    pub version: Option<&'static str>,
    pub rows: Vec<T>,
    pub errors: Vec<ReferenceError>,
}

/// How to read one file's rows.
pub(crate) struct Format<T, K> {
    pub file: &'static str,
    pub columns: &'static [&'static str],
    pub row: fn(&[&'static str]) -> Result<T, LineProblem>,
    /// The row's unique key; rows are returned sorted by it.
    pub key: fn(&T) -> K,
}

/// Reads `text` as `format` says; never panics, whatever the text.
pub(crate) fn parse<T, K: Ord + ToString>(format: &Format<T, K>, text: &'static str) -> Parsed<T> {
    let file = format.file;
    let mut version = None;
    let mut columns_seen = false;
    let mut errors = Vec::new();
    let mut rows: BTreeMap<K, (usize, T)> = BTreeMap::new();
    let fail = |line, problem| ReferenceError::Line {
        file,
        line,
        problem,
    };
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim_start();
            if let Some(v) = comment.strip_prefix("version:") {
                version = Some(v.trim());
            } else if let Some(found) = comment.strip_prefix("columns:") {
                columns_seen = true;
                let (expected, found) = (format.columns.join("\t"), found.trim().to_owned());
                if found != expected {
                    errors.push(fail(number, LineProblem::WrongColumns { expected, found }));
                }
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&'static str> = line.split('\t').collect();
        if cells.len() != format.columns.len() {
            let problem = LineProblem::CellCount {
                expected: format.columns.len(),
                found: cells.len(),
            };
            errors.push(fail(number, problem));
            continue;
        }
        match (format.row)(&cells) {
            Err(problem) => errors.push(fail(number, problem)),
            Ok(row) => {
                let key = (format.key)(&row);
                if let Some((first_line, _)) = rows.get(&key) {
                    let problem = LineProblem::Duplicate {
                        code: key.to_string(),
                        first_line: *first_line,
                    };
                    errors.push(fail(number, problem));
                } else {
                    rows.insert(key, (number, row));
                }
            }
        }
    }
    if version.is_none() {
        errors.push(ReferenceError::MissingHeader {
            file,
            header: Header::Version,
        });
    }
    if !columns_seen {
        errors.push(ReferenceError::MissingHeader {
            file,
            header: Header::Columns,
        });
    }
    Parsed {
        version,
        rows: rows.into_values().map(|(_, row)| row).collect(),
        errors,
    }
}

/// A text cell: non-empty, no surrounding spaces, NFC.
pub(crate) fn text(column: &'static str, cell: &'static str) -> Result<&'static str, LineProblem> {
    if cell.is_empty() {
        return Err(LineProblem::Empty { column });
    }
    if cell.trim() != cell {
        return Err(LineProblem::Spaces { column });
    }
    if !unicode_normalization::is_nfc(cell) {
        return Err(LineProblem::NotNfc { column });
    }
    Ok(cell)
}

/// An optional text cell: empty means absent.
pub(crate) fn optional_text(
    column: &'static str,
    cell: &'static str,
) -> Result<Option<&'static str>, LineProblem> {
    if cell.is_empty() {
        return Ok(None);
    }
    text(column, cell).map(Some)
}
