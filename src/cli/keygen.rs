//! `docker vouch keygen`: a cosign-compatible ECDSA P-256 key pair, `PREFIX.key` (encrypted, mode
//! 0600) and `PREFIX.pub`, each written atomically; existing files are kept unless `--force`.

use super::KeygenArgs;
use crate::attest::keys::{generate, password};
use crate::fsio::write_atomically_with_mode;
use crate::UsageError;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn run(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let private_path = PathBuf::from(format!("{}.key", args.output_key_prefix));
    let public_path = PathBuf::from(format!("{}.pub", args.output_key_prefix));
    if !args.force {
        for path in [&private_path, &public_path] {
            if path.exists() {
                return Err(UsageError(format!(
                    "{} exists; keep it, or pass --force to replace it",
                    path.display()
                ))
                .into());
            }
        }
    }
    let password = password("Enter password for private key: ", true)?;
    let (private, public) = generate(password.as_bytes())?;
    write_atomically_with_mode(&private_path, private.as_bytes(), 0o600)?;
    write_atomically_with_mode(&public_path, public.as_bytes(), 0o644)?;
    eprintln!(
        "Private key written to {}\nPublic key written to {}",
        private_path.display(),
        public_path.display()
    );
    Ok(ExitCode::SUCCESS)
}
