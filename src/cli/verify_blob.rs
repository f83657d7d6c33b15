//! `docker vouch verify-blob FILE --bundle B`: reads the flags into a signer and a trusted root,
//! runs [`crate::bundles::verify_blob`], and prints what was verified or which check failed. Exit
//! 0 verified, 1 not, 3 when an input cannot be read.

use super::{TrustUpdateArgs, VerifyBlobArgs, VerifyFormat};
use crate::bundles::{self, trust, BundleError, Signer};
use crate::pipeline::Context;
use crate::UsageError;
use std::process::ExitCode;

pub fn run(context: &Context, args: &VerifyBlobArgs) -> anyhow::Result<ExitCode> {
    let signer = signer(args)?;
    let outcome = (|| {
        let root = bundles::trusted_root(args.keyless.trusted_root.as_deref(), context.env())?;
        let bundle = bundles::read_bundle(&args.bundle)?;
        let file = std::fs::File::open(&args.file)
            .map_err(|e| BundleError::Unreadable(format!("{}: {e}", args.file.display())))?;
        bundles::verify_blob(
            std::io::BufReader::new(file),
            &bundle,
            &signer,
            &root,
            !args.insecure_ignore_tlog,
        )
    })();
    let file = args.file.display();
    match outcome {
        Ok(verified) => {
            match args.format {
                VerifyFormat::Json => println!(
                    "{}",
                    serde_json::json!({"file": file.to_string(), "verified": true, "details": verified})
                ),
                VerifyFormat::Table => {
                    let by = match (&verified.identity, &verified.issuer) {
                        (Some(identity), Some(issuer)) => format!(" by {identity} ({issuer})"),
                        _ => " with the key".to_string(),
                    };
                    println!("{file}: verified{by}{}", verified.when());
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(BundleError::Failed { check, detail }) => {
            match args.format {
                VerifyFormat::Json => println!(
                    "{}",
                    serde_json::json!({"file": file.to_string(), "verified": false, "check": check, "detail": detail})
                ),
                VerifyFormat::Table => println!(
                    "{file}: NOT verified: {check}: {}",
                    crate::text::escape_controls_in_lines(&detail)
                ),
            }
            Ok(ExitCode::from(super::verify::EXIT_UNVERIFIED))
        }
        Err(unreadable @ BundleError::Unreadable(_)) => Err(unreadable.into()),
    }
}

/// The signer the flags name: the key, else the keyless signer.
fn signer(args: &VerifyBlobArgs) -> anyhow::Result<Signer> {
    if let Some(key) = &args.key {
        let pem = crate::fsio::read_limited(key, bundles::MAX_DOCUMENT_BYTES)
            .map_err(|e| anyhow::anyhow!("{} (public key): {e}", key.display()))?;
        return Ok(Signer::Key(String::from_utf8_lossy(&pem).into_owned()));
    }
    args.keyless.signer()?.ok_or_else(|| {
        UsageError(
            "give --key, or --certificate-identity (or -regexp) with --certificate-oidc-issuer (or -regexp)"
                .into(),
        )
        .into()
    })
}

/// `docker vouch trust update`: one line saying what was fetched; a refusal of the repository's
/// metadata or target is exit 1, naming the TUF check.
pub fn trust_update(context: &Context, args: &TrustUpdateArgs) -> anyhow::Result<ExitCode> {
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| trust::default_dir(context.env()));
    match trust::update(&dir, args.tuf_url.as_deref(), args.tuf_root.as_deref()) {
        Ok(source) => {
            println!(
                "{}: trusted root updated from {} ({} certificate authorities, {} transparency logs, {} CT logs, {} timestamp authorities)",
                dir.join("trusted_root.json").display(),
                source.url,
                source.certificate_authorities,
                source.transparency_logs,
                source.ct_logs,
                source.timestamp_authorities
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(BundleError::Failed { check, detail }) => {
            eprintln!(
                "docker vouch: trust update refused: {check}: {}",
                crate::text::escape_controls_in_lines(&detail)
            );
            Ok(ExitCode::from(super::verify::EXIT_UNVERIFIED))
        }
        Err(unreadable) => Err(unreadable.into()),
    }
}
