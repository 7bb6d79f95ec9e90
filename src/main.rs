//! `sealctl`: seal, check and use the connection profiles and management tokens of influxctl.
//!
//! The binary only parses the command line and calls the libraries in `crates/`.

#[macro_use]
mod ui;

mod cli;
mod commands;
mod config_path;
mod error;
mod harden;
mod report;
mod token_input;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    // First of all: no core dump may hold a token this process opens.
    harden::forbid_core_dumps();
    // A completion request from the script of `sealctl completions` answers and exits here.
    clap_complete::CompleteEnv::with_factory(<cli::Cli as clap::CommandFactory>::command)
        .var(commands::completions::COMPLETE_ENV)
        .complete();
    let cli = cli::Cli::try_parse().unwrap_or_else(|error| cli::with_nearest_option(error).exit());
    cli.global.color.apply();
    ui::set_quiet(cli.global.quiet);
    ui::set_run(cli.global.config.clone(), cli.global.profile.clone());
    let verbose = cli.global.verbose > 0;
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(error) => error.report(verbose),
    }
}
