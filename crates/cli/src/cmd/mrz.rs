//! `ghidanh mrz parse`: what the machine-readable zone on a card's back says, every check digit verified.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_record::prefill::{parse_mrz, MrzData};
use ghidanh_record::Lang;
use serde_json::{json, Value};

use super::id::lang_arg;
use super::text_input::read_utf8;

#[derive(Subcommand)]
pub enum MrzCmd {
    /// Parse an ICAO 9303 TD1 MRZ (3 lines of 30 characters) from a file or stdin.
    ///
    /// Exit code 0: valid; 1: invalid (wrong shape or a check digit); 2: cannot read the input (bytes that are not UTF-8 are invalid: 1).
    Parse {
        /// The file holding the three lines, or `-` for stdin.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Language of labels and messages.
        #[arg(long, default_value = "vi", value_parser = lang_arg)]
        lang: Lang,
    },
}

/// More than an MRZ could ever be; the parser reports anything over its own, smaller limit.
const READ_LIMIT: u64 = 4096;

impl MrzCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let MrzCmd::Parse { file, json, lang } = self;
        let text = match read_utf8(&file, READ_LIMIT, json, lang) {
            Ok(text) => text,
            Err(code) => return Ok(code),
        };
        match parse_mrz(&text) {
            Ok(data) => {
                if json {
                    println!("{}", to_json(&data));
                } else {
                    print_text(&data, lang);
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                if json {
                    let out = json!({
                        "valid": false,
                        "error": { "code": e.code(), "message": e.message(lang) },
                    });
                    println!("{out}");
                } else {
                    eprintln!("{}", e.message(lang));
                }
                Ok(ExitCode::FAILURE)
            }
        }
    }
}

fn to_json(d: &MrzData) -> Value {
    json!({
        "valid": true,
        "documentCode": d.document_code,
        "issuingState": d.issuing_state,
        "documentNumber": d.document_number,
        "idNumber": d.id_number,
        "idNumberProblem": d.personal_id.as_ref().err().map(|e| e.rule.code()),
        "dateOfBirth": d.birth_date.to_string(),
        "sex": d.sex.map(|s| s.code()),
        "expiryDate": d.expiry_date.map(|x| x.to_string()),
        "nationality": d.nationality,
        "surname": d.surname,
        "givenNames": d.given_names,
    })
}

fn print_text(d: &MrzData, lang: Lang) {
    let labels = match lang {
        Lang::Vi => [
            "Loại giấy tờ",
            "Số giấy tờ",
            "Số định danh",
            "Ngày sinh",
            "Giới tính",
            "Có giá trị đến",
            "Quốc tịch",
            "Họ",
            "Chữ đệm và tên",
        ],
        Lang::En => [
            "Document",
            "Document number",
            "ID number",
            "Date of birth",
            "Sex",
            "Expiry date",
            "Nationality",
            "Surname",
            "Given names",
        ],
    };
    let none = match lang {
        Lang::Vi => "không ghi",
        Lang::En => "not given",
    };
    let values = [
        format!("{} {}", d.document_code, d.issuing_state),
        d.document_number.clone(),
        d.id_number.clone(),
        d.birth_date.to_string(),
        d.sex.map_or(none, |s| s.label(lang)).to_owned(),
        d.expiry_date.map_or(none.to_owned(), |x| x.to_string()),
        d.nationality.clone(),
        d.surname.clone(),
        d.given_names.clone(),
    ];
    for (label, value) in labels.iter().zip(values) {
        println!("{label}: {value}");
    }
    if let Err(e) = &d.personal_id {
        println!("! {}", e.message(lang));
    }
}
