//! vouch: reads a container image in one streaming pass, catalogs its packages, writes a CycloneDX
//! SBOM, and evaluates the image against a policy into a verdict; attestations and verification build
//! on the same types.
//!
//! The pipeline, one module per stage: [`image`] (sources) → [`layers`] (single pass, squashed
//! [`layers::FileIndex`]) → [`catalog`] (packages) and [`facts`] (file facts) → [`sbom`] (CycloneDX)
//! → [`policy`] (rules → verdict), with [`version`] ordering versions per ecosystem. [`engine`] finds
//! the Docker engine; [`pipeline`] wires the stages together once, for [`cli`] (the command-line
//! surface: parse, call the pipeline, render) and the servers.

pub mod attest;
pub mod authz;
pub mod build;
pub mod bundles;
pub mod catalog;
pub mod ci;
pub mod cli;
pub mod clock;
pub mod diff;
pub mod engine;
pub mod expiring;
pub mod facts;
pub mod fsio;
pub mod image;
pub mod layers;
pub mod license;
pub mod oci;
pub mod package;
pub mod pipeline;
pub mod policy;
pub mod private_keys;
pub mod purl;
pub mod registry;
pub mod rejudge;
pub mod sbom;
pub mod secrets;
pub mod serve;
pub mod shutdown;
pub mod text;
pub mod verify;
pub mod version;
pub mod vuln;
pub mod zipfmt;

/// A mistake in how the command was called (exit code 2), as opposed to a failure while running it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Exit code for a usage error.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for a runtime error (engine unreachable, unreadable image, I/O).
pub const EXIT_RUNTIME: u8 = 3;
