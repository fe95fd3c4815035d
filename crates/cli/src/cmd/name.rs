//! `ghidanh name key`: the stored form of a name and the key it is searched by.

use std::process::ExitCode;

use clap::Subcommand;
use ghidanh_record::text::{normalize, search_key};
use serde_json::json;

#[derive(Subcommand)]
pub enum NameCmd {
    /// Print a text's normalised form (NFC, one apostrophe, single spaces) and its search key.
    Key {
        /// The text, e.g. a birth name.
        text: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

impl NameCmd {
    pub fn run(self) -> anyhow::Result<ExitCode> {
        let NameCmd::Key { text, json } = self;
        let normalized = normalize(&text);
        let key = search_key(&text);
        if json {
            println!("{}", json!({ "normalized": normalized, "searchKey": key }));
        } else {
            println!("normalized: {normalized}");
            println!("search key: {key}");
        }
        Ok(ExitCode::SUCCESS)
    }
}
