//! `ghidanh record validate`: check an enrollment record (JSON, as in a draft or a bundle) against
//! every rule of the record crate, from a shell.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_record::{EnrollmentInput, FieldError, Lang, ValidRecord};
use serde_json::json;
use time::macros::offset;
use time::{Date, OffsetDateTime};

use super::id::lang_arg;

/// Largest record file read: a record is a few KB; more is not a record.
const MAX_RECORD_BYTES: u64 = 1024 * 1024;

const INVALID: u8 = 1;
const USAGE: u8 = 2;

#[derive(Subcommand)]
pub enum RecordCmd {
    /// Validate an enrollment record (EnrollmentInput JSON, schema/record.schema.json).
    ///
    /// Prints every broken rule with its field and message, or "valid" and the normalised
    /// record. Exit code 0: valid; 1: invalid or not a record; 2: usage (e.g. unreadable file).
    Validate {
        /// The JSON file, or `-` for standard input.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Language of messages.
        #[arg(long, default_value = "vi", value_parser = lang_arg)]
        lang: Lang,
        /// Validate as of this day (YYYY-MM-DD) instead of today in Vietnam (UTC+7).
        #[arg(long, value_parser = date_arg)]
        today: Option<Date>,
    },
}

fn date_arg(s: &str) -> Result<Date, String> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s, format).map_err(|e| format!("{s:?} is not a date YYYY-MM-DD: {e}"))
}

/// Why the file is not a record at all.
enum NotARecord {
    /// Cannot be read: a usage error.
    Unreadable(String),
    /// Larger than [`MAX_RECORD_BYTES`].
    TooLarge,
    /// Not JSON, or not the shape of a record.
    Malformed {
        line: usize,
        column: usize,
        detail: String,
    },
}

impl NotARecord {
    fn code(&self) -> &'static str {
        match self {
            NotARecord::Unreadable(_) => "unreadable",
            NotARecord::TooLarge => "tooLarge",
            NotARecord::Malformed { .. } => "malformedJson",
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (NotARecord::Unreadable(e), Lang::Vi) => format!("không đọc được tệp: {e}"),
            (NotARecord::Unreadable(e), Lang::En) => format!("cannot read the file: {e}"),
            (NotARecord::TooLarge, Lang::Vi) => {
                format!("tệp lớn hơn {MAX_RECORD_BYTES} byte, không phải một hồ sơ.")
            }
            (NotARecord::TooLarge, Lang::En) => {
                format!("the file is larger than {MAX_RECORD_BYTES} bytes: not a record.")
            }
            (
                NotARecord::Malformed {
                    line,
                    column,
                    detail,
                },
                Lang::Vi,
            ) => {
                format!("JSON không hợp lệ ở dòng {line}, cột {column}: {detail}")
            }
            (
                NotARecord::Malformed {
                    line,
                    column,
                    detail,
                },
                Lang::En,
            ) => {
                format!("invalid JSON at line {line}, column {column}: {detail}")
            }
        }
    }
}

fn read_input(file: &Path) -> Result<EnrollmentInput, NotARecord> {
    let mut bytes = Vec::new();
    // One byte more than the limit tells "exactly at the limit" from "over it".
    let read = if file.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes))
    };
    read.map_err(|e| NotARecord::Unreadable(format!("{}: {e}", file.display())))?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(NotARecord::TooLarge);
    }
    EnrollmentInput::from_json(&bytes).map_err(|e| NotARecord::Malformed {
        line: e.line(),
        column: e.column(),
        detail: e.to_string(),
    })
}

fn today_in_vietnam() -> Date {
    // The registry judges dates in Vietnam's time (UTC+7); the command agrees with it.
    OffsetDateTime::now_utc().to_offset(offset!(+7)).date()
}

fn error_json(e: &FieldError, lang: Lang) -> serde_json::Value {
    json!({ "field": e.field.code(), "rule": e.rule.code(), "message": e.message(lang) })
}

impl RecordCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let RecordCmd::Validate {
            file,
            json,
            lang,
            today,
        } = self;
        let today = today.unwrap_or_else(today_in_vietnam);
        let input = match read_input(&file) {
            Ok(input) => input,
            Err(e) => {
                if json {
                    let out = json!({
                        "valid": false,
                        "error": { "code": e.code(), "message": e.message(lang) },
                    });
                    println!("{out}");
                } else {
                    eprintln!("error: {}", e.message(lang));
                }
                let code = match e {
                    NotARecord::Unreadable(_) => USAGE,
                    NotARecord::TooLarge | NotARecord::Malformed { .. } => INVALID,
                };
                return Ok(ExitCode::from(code));
            }
        };
        match ValidRecord::validate(&input, today) {
            Ok(record) => {
                let normalised = record.to_input();
                if json {
                    let out = json!({
                        "valid": true,
                        "record": normalised,
                        "age": record.age_on(today),
                        "biometricRequirement": record.biometric_requirement(today).code(),
                    });
                    println!("{out}");
                } else {
                    println!("valid");
                    println!("{}", serde_json::to_string_pretty(&normalised)?);
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(errors) => {
                if json {
                    let errors: Vec<_> = errors.iter().map(|e| error_json(e, lang)).collect();
                    println!("{}", json!({ "valid": false, "errors": errors }));
                } else {
                    for e in &errors {
                        println!(
                            "{} [{}]: {}",
                            e.field.code(),
                            e.rule.code(),
                            e.message(lang)
                        );
                    }
                }
                Ok(ExitCode::from(INVALID))
            }
        }
    }
}
