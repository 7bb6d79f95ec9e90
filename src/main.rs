//! `sealctl`: seal, check and use the connection profiles and management tokens of influxctl.
//!
//! The binary only parses the command line and calls the libraries in `crates/`.

mod cli;
mod commands;
mod error;
mod report;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    cli.global.color.apply();
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => error.report(),
    }
}
