//! `ghidanh id decode`: what a 12-digit personal ID number says (prefix, century, year, sex).

use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_record::{Lang, LegacyProvince, PersonalId};
use serde_json::json;

/// Parses `--lang vi|en` with the record crate's own parser, so there is one list of languages.
pub fn lang_arg(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("unknown language {s:?}: use vi or en"))
}

#[derive(Subcommand)]
pub enum IdCmd {
    /// Decode a personal ID number: birth-registration place, century, birth year, sex.
    ///
    /// Exit code 0: a valid number; 1: not a valid number.
    Decode {
        /// The 12 digits (spaces allowed).
        number: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
        /// Language of labels and messages.
        #[arg(long, default_value = "vi", value_parser = lang_arg)]
        lang: Lang,
    },
}

impl IdCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let IdCmd::Decode { number, json, lang } = self;
        let id = match PersonalId::parse(&number) {
            Ok(id) => id,
            Err(e) => {
                if json {
                    let out = json!({
                        "valid": false,
                        "error": { "code": e.rule.code(), "message": e.message(lang) },
                    });
                    println!("{out}");
                } else {
                    eprintln!("{}", e.message(lang));
                }
                return Ok(ExitCode::FAILURE);
            }
        };
        let century = id.birth_year() - id.birth_year().rem_euclid(100);
        if json {
            let prefix = match id.province() {
                LegacyProvince::Province { code, name } => {
                    json!({ "code": format!("{code:03}"), "kind": "province", "name": name })
                }
                LegacyProvince::Abroad { code } => {
                    json!({ "code": format!("{code:03}"), "kind": "abroad" })
                }
            };
            let out = json!({
                "valid": true,
                "number": id.as_str(),
                "prefix": prefix,
                "century": century,
                "birthYear": id.birth_year(),
                "sex": id.sex().code(),
            });
            println!("{out}");
        } else {
            let place = match (id.province(), lang) {
                (LegacyProvince::Province { code, name }, _) => format!("{code:03} {name}"),
                (LegacyProvince::Abroad { code }, Lang::Vi) => {
                    format!("{code:03} nước ngoài (mã quốc gia)")
                }
                (LegacyProvince::Abroad { code }, Lang::En) => {
                    format!("{code:03} abroad (country code)")
                }
            };
            let labels = match lang {
                Lang::Vi => [
                    "Số định danh",
                    "Nơi đăng ký khai sinh",
                    "Thế kỷ",
                    "Năm sinh",
                    "Giới tính",
                ],
                Lang::En => [
                    "ID number",
                    "Birth registered in",
                    "Century",
                    "Birth year",
                    "Sex",
                ],
            };
            let values = [
                id.as_str().to_owned(),
                place,
                format!("{century}–{}", century + 99),
                id.birth_year().to_string(),
                id.sex().label(lang).to_owned(),
            ];
            for (label, value) in labels.iter().zip(values) {
                println!("{label}: {value}");
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
