//! `docker-vouch`: parse the command line (standalone or as a Docker CLI plugin), run the command,
//! and map errors to the documented exit codes (2 usage, 3 runtime).

use clap::Parser;
use std::process::ExitCode;
use vouch::cli::{run, strip_plugin_name, Cli};
use vouch::{UsageError, EXIT_RUNTIME, EXIT_USAGE};

fn main() -> ExitCode {
    let args = strip_plugin_name(std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!(
                "docker vouch: error: {}",
                vouch::text::escape_controls_in_lines(&format!("{err:#}"))
            );
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_RUNTIME)
            }
        }
    }
}
