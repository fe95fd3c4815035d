//! `ghidanh qr parse`: what the QR code of an existing card says, for prefill.

use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_record::prefill::{parse_qr, QrData, QrWarning, MAX_QR_BYTES};
use ghidanh_record::Lang;
use serde_json::{json, Value};

use super::id::lang_arg;
use super::text_input::read_utf8;

#[derive(Subcommand)]
pub enum QrCmd {
    /// Parse the text of a card's QR code (2021 and 2024 cards).
    ///
    /// Exit code 0: read (warnings list what could not be); 1: not a card QR; 2: usage.
    Parse {
        /// The QR text, or `-` to read it from stdin.
        text: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Language of labels and messages.
        #[arg(long, default_value = "vi", value_parser = lang_arg)]
        lang: Lang,
    },
}

impl QrCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let QrCmd::Parse { text, json, lang } = self;
        let text = if text == "-" {
            // One byte more than the limit, so the parser still sees and reports "too long".
            match read_utf8(Path::new("-"), MAX_QR_BYTES as u64 + 1, json, lang) {
                Ok(text) => text,
                Err(code) => return Ok(code),
            }
        } else {
            text
        };
        match parse_qr(&text) {
            Ok(data) => {
                if json {
                    println!("{}", to_json(&data, lang));
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

fn warnings_json(warnings: &[QrWarning], lang: Lang) -> Value {
    warnings
        .iter()
        .map(|w| json!({ "code": w.code(), "message": w.message(lang) }))
        .collect()
}

fn to_json(d: &QrData, lang: Lang) -> Value {
    json!({
        "valid": true,
        "idNumber": d.id_number,
        "oldIdNumber": d.old_id.as_ref().map(|o| o.as_str()),
        "name": d.name.as_ref().map(|n| n.as_str()),
        "dateOfBirth": d.birth_date.map(|x| x.to_string()),
        "sex": d.sex.map(|s| s.code()),
        "permanentResidence": d.residence,
        "issueDate": d.issue_date.map(|x| x.to_string()),
        "extra": d.extra,
        "warnings": warnings_json(&d.warnings, lang),
    })
}

fn print_text(d: &QrData, lang: Lang) {
    let labels = match lang {
        Lang::Vi => [
            "Số định danh",
            "Số CMND cũ",
            "Họ và tên",
            "Ngày sinh",
            "Giới tính",
            "Nơi thường trú",
            "Ngày cấp",
        ],
        Lang::En => [
            "ID number",
            "Old ID number",
            "Name",
            "Date of birth",
            "Sex",
            "Permanent residence",
            "Issue date",
        ],
    };
    let values = [
        Some(d.id_number.clone()),
        d.old_id.as_ref().map(|o| o.as_str().to_owned()),
        d.name.as_ref().map(|n| n.as_str().to_owned()),
        d.birth_date.map(|x| x.to_string()),
        d.sex.map(|s| s.label(lang).to_owned()),
        d.residence.clone(),
        d.issue_date.map(|x| x.to_string()),
    ];
    for (label, value) in labels.iter().zip(values) {
        println!("{label}: {}", value.unwrap_or_else(|| "—".to_owned()));
    }
    for (i, extra) in d.extra.iter().enumerate() {
        println!("+{}: {extra}", i + 8);
    }
    for w in &d.warnings {
        println!("! {}", w.message(lang));
    }
}
