//! The command-line surface: every flag with its help text, in one place (clap derive), the docker
//! global flags the plugin protocol passes, and the dispatch to each command.

mod attest;
mod authz;
mod build;
mod check;
mod db;
mod diff;
mod hooks;
mod keygen;
mod plugin;
mod ps;
mod render;
mod sbom;
mod scan;
mod serve;
mod verify;
mod verify_blob;

pub use plugin::{metadata, strip_plugin_name};

use crate::engine::EngineFlags;
use crate::pipeline::Context;
use crate::UsageError;
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Where `attest` and `build` write the attestation sets, and `verify` looks for them, unless told:
/// `./.vouch/sha256-<hex>/` per image (design.md, "Defaults").
pub const OUTPUT_DIR: &str = ".vouch";

/// SBOM, policy verdict and signed attestations for container images, at build time.
#[derive(Debug, Parser)]
#[command(
    name = "docker vouch",
    bin_name = "docker vouch",
    version,
    about,
    after_help = "IMAGE is an engine image name or ID (or docker:NAME), docker-archive:PATH (a `docker save` tar), oci-archive:PATH, oci-dir:PATH, or registry:REF (read from the registry, no engine needed).\nExit codes: 0 success, 1 verdict failed, 2 usage error, 3 runtime error."
)]
pub struct Cli {
    #[command(flatten)]
    pub docker: DockerFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// The docker CLI's global flags (passed before the plugin name when run as `docker vouch`).
#[derive(Debug, clap::Args)]
pub struct DockerFlags {
    /// Daemon socket to connect to
    #[arg(short = 'H', long = "host", global = true, value_name = "HOST")]
    pub host: Option<String>,
    /// Name of the docker context to use
    #[arg(short = 'c', long = "context", global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Location of the docker client config files
    #[arg(long = "config", global = true, value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// Use TLS; implied by --tlsverify
    #[arg(long = "tls", global = true)]
    pub tls: bool,
    /// Use TLS and verify the remote
    #[arg(long = "tlsverify", global = true)]
    pub tls_verify: bool,
    /// Trust certs signed only by this CA
    #[arg(long = "tlscacert", global = true, value_name = "FILE")]
    pub tls_ca_cert: Option<PathBuf>,
    /// Path to TLS certificate file
    #[arg(long = "tlscert", global = true, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// Path to TLS key file
    #[arg(long = "tlskey", global = true, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Enable debug mode (accepted for compatibility with the docker CLI)
    #[arg(short = 'D', long = "debug", global = true, hide = true)]
    pub debug: bool,
    /// Logging level (accepted for compatibility with the docker CLI)
    #[arg(short = 'l', long = "log-level", global = true, hide = true)]
    pub log_level: Option<String>,
}

impl DockerFlags {
    /// These flags as docker CLI arguments (for running `docker buildx`).
    pub fn as_docker_args(&self) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = Vec::new();
        let mut value = |flag: &str, v: &std::ffi::OsStr| {
            args.push(flag.into());
            args.push(v.to_owned());
        };
        if let Some(host) = &self.host {
            value("--host", host.as_ref());
        }
        if let Some(context) = &self.context {
            value("--context", context.as_ref());
        }
        if let Some(config) = &self.config {
            value("--config", config.as_os_str());
        }
        if let Some(ca) = &self.tls_ca_cert {
            value("--tlscacert", ca.as_os_str());
        }
        if let Some(cert) = &self.tls_cert {
            value("--tlscert", cert.as_os_str());
        }
        if let Some(key) = &self.tls_key {
            value("--tlskey", key.as_os_str());
        }
        if self.tls {
            args.push("--tls".into());
        }
        if self.tls_verify {
            args.push("--tlsverify".into());
        }
        args
    }

    pub fn engine_flags(&self) -> EngineFlags {
        EngineFlags {
            host: self.host.clone(),
            context: self.context.clone(),
            config_dir: self.config.clone(),
            tls: self.tls,
            tls_verify: self.tls_verify,
            tls_ca_cert: self.tls_ca_cert.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build an image (docker buildx when installed, else the engine), then SBOM, policy, sign and
    /// store its attestations; exit 1 when the verdict fails (unless --warn-only)
    Build(BuildArgs),
    /// Generate the SBOM of an image (CycloneDX JSON by default)
    Sbom(SbomArgs),
    /// Evaluate an image against the policy; exit 1 when the verdict is FAILED
    Check(CheckArgs),
    /// List an image's vulnerabilities from an offline OSV database and/or Trivy and Grype reports,
    /// with VEX statements applied
    Scan(ScanArgs),
    /// Compare two images: packages added, removed and changed, vulnerability findings new and
    /// fixed, policy results that changed, the base image; exit 1 with --fail-on-new when the new
    /// image adds a finding at or above that severity
    Diff(DiffArgs),
    /// Make a cosign-compatible ECDSA P-256 key pair (PREFIX.key encrypted, PREFIX.pub)
    Keygen(KeygenArgs),
    /// Sign the SBOM and the policy verdict of an image as in-toto attestations, written as a set
    Attest(AttestArgs),
    /// Check an image's attestations before deploying it: signature, digest, verdict, age
    Verify(VerifyArgs),
    /// Verify a blob's Sigstore bundle, as cosign verify-blob --bundle does: with a public key, or
    /// keyless (Fulcio certificate identity and issuer, transparency log, timestamps) against a
    /// trusted root; exit 0 verified, 1 not, 3 unreadable input
    VerifyBlob(VerifyBlobArgs),
    /// Run a Kubernetes validating admission webhook that verifies every image a pod would run
    Serve(ServeArgs),
    /// Every running container with its image and whether that image verifies now; exit 1 when one
    /// does not
    Ps(PsArgs),
    /// Run a Docker engine authorization plugin (`dockerd --authorization-plugin=vouch`): the
    /// engine refuses to create or start containers whose images do not verify
    Authz(AuthzArgs),
    /// The Sigstore trusted root keyless verification uses by default: refresh it through TUF
    #[command(subcommand)]
    Trust(TrustCommand),
    /// The local vulnerability database: fetch osv.dev's data (or a mirror's), and say how fresh it is
    #[command(subcommand)]
    Db(DbCommand),
    /// Show a hint after `docker build` naming the command that attests the image (turns on the
    /// docker CLI's hooks feature in config.json)
    InstallHooks,
    /// Remove what install-hooks added to config.json, and nothing else
    UninstallHooks,
    /// Docker CLI plugin protocol: print the plugin metadata
    #[command(name = "docker-cli-plugin-metadata", hide = true)]
    PluginMetadata,
    /// Docker CLI plugin protocol: answer a hook call after a docker command
    #[command(name = "docker-cli-plugin-hooks", hide = true)]
    PluginHooks {
        /// The docker CLI's request (JSON)
        #[arg(default_value = "{}")]
        request: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Fetch the trusted root through TUF (root rotation, expiry, rollback and hash checks) from
    /// the Sigstore public-good repository, or a private instance's; stored for keyless verification
    Update(TrustUpdateArgs),
}

#[derive(Debug, clap::Args)]
pub struct TrustUpdateArgs {
    /// The TUF repository [default: https://tuf-repo-cdn.sigstore.dev, with the TUF root embedded
    /// in vouch]
    #[arg(long, value_name = "URL")]
    pub tuf_url: Option<String>,
    /// The repository's root.json to start trusting from (the first update from --tuf-url needs it;
    /// later ones chain from it through the rotated roots)
    #[arg(long, value_name = "FILE", requires = "tuf_url")]
    pub tuf_root: Option<PathBuf>,
    /// Where the trust material is kept [default: $VOUCH_TRUST_DIR, else ~/.cache/vouch/trust]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Fetch each ecosystem's osv.dev all.zip (conditionally: unchanged data is not fetched again),
    /// check it whole, and swap it in; a failed ecosystem keeps what it had
    Update(DbUpdateArgs),
    /// Each ecosystem's age, record count and size; exit 1 when one is older than --max-age
    Status(DbStatusArgs),
}

#[derive(Debug, clap::Args)]
pub struct DbUpdateArgs {
    /// The ecosystems, as osv.dev names them (Debian,PyPI,...), comma-separated or repeated;
    /// `default` is Debian, Ubuntu, Alpine, Red Hat, PyPI, npm, Go, Maven, crates.io, RubyGems,
    /// Packagist, NuGet; `auto` the ecosystems of the images judged with this database, else the
    /// default set
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "default"
    )]
    pub ecosystems: Vec<String>,
    /// Where to fetch from: osv.dev's bucket by default, or a mirror with its layout
    /// (<ecosystem>/all.zip) over http(s)://, or a directory (default $VOUCH_DB_SOURCE, so that a
    /// CI server's mirror is set once for every job)
    #[arg(long, value_name = "URL|DIR", env = "VOUCH_DB_SOURCE")]
    pub source: Option<String>,
    /// Also fetch CISA's Known Exploited Vulnerabilities catalog (from CISA, or the mirror's
    /// kev/known_exploited_vulnerabilities.json); once fetched, every update refreshes it
    #[arg(long)]
    pub kev: bool,
    /// Also fetch FIRST's EPSS scores (from FIRST, or the mirror's epss/epss_scores-current.csv.gz);
    /// once fetched, every update refreshes them
    #[arg(long)]
    pub epss: bool,
    #[command(flatten)]
    pub db: DbDirArg,
    /// The largest file fetched (bytes; K, M and G suffixes)
    #[arg(long, value_name = "SIZE", default_value = "2G", value_parser = parse_size)]
    pub max_size: u64,
    /// Print only failures
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
pub struct DbStatusArgs {
    #[command(flatten)]
    pub db: DbDirArg,
    /// Exit 1 when an ecosystem was last checked longer ago than this (24h, 30m, 7d)
    #[arg(long, value_name = "DURATION", value_parser = crate::verify::parse_duration)]
    pub max_age: Option<std::time::Duration>,
}

#[derive(Debug, clap::Args)]
pub struct DbDirArg {
    /// The database directory (default $VOUCH_DB_DIR, else ~/.cache/vouch/db)
    #[arg(long, value_name = "DIR")]
    pub db_dir: Option<PathBuf>,
}

/// `2G`, `150M`, `64K` or plain bytes.
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("{text:?}: expected a size such as 150M or 2G"))?;
    let scale: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => return Err(format!("{text:?}: expected a size such as 150M or 2G")),
    };
    number
        .checked_mul(scale)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{text:?}: out of range"))
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The build context directory
    #[arg(value_name = "CONTEXT")]
    pub build_context: PathBuf,
    /// Name and optionally a tag (NAME[:TAG]); repeatable. With --push the first one is pushed
    #[arg(short = 't', long = "tag", value_name = "NAME")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: CONTEXT/Dockerfile)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Set a build-time variable (KEY=VALUE, or KEY to take it from the environment); repeatable
    #[arg(long = "build-arg", value_name = "KEY[=VALUE]")]
    pub build_args: Vec<String>,
    /// Set a label on the image (KEY=VALUE); repeatable
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// The build stage to build
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// The platform to build for (e.g. linux/amd64)
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Do not use the build cache
    #[arg(long)]
    pub no_cache: bool,
    /// Always try to pull newer versions of the base images
    #[arg(long)]
    pub pull: bool,
    /// The private key (cosign.key) that signs the attestations; its password from VOUCH_PASSWORD or
    /// COSIGN_PASSWORD, else asked
    #[arg(
        long,
        value_name = "FILE",
        env = "VOUCH_KEY",
        default_value = "cosign.key"
    )]
    pub key: PathBuf,
    #[command(flatten)]
    pub keyless: KeylessSigningArgs,
    #[command(flatten)]
    pub evaluation: EvaluationArgs,
    /// Write the attestation set under DIR/sha256-<hex>/
    #[arg(long, value_name = "DIR", default_value = OUTPUT_DIR)]
    pub output_dir: PathBuf,
    /// Push the image (its first tag, REGISTRY/NAME:TAG) and attach the attestations beside it
    #[arg(long)]
    pub push: bool,
    /// Exit 0 even when the verdict is FAILED (the attestations still say FAILED)
    #[arg(long)]
    pub warn_only: bool,
    /// Print no warnings, and no build output on the engine path
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// `--platform`: which image of a multi-platform index to read.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PlatformArg {
    /// For an image index (registry:REF, OCI layouts): the image of this platform, OS/ARCH or
    /// OS/ARCH/VARIANT (e.g. linux/arm64) [default: this machine's]; any image read must be of it
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<crate::image::Platform>,
}

/// `--exclude`, on the commands that catalog an image.
#[derive(Debug, clap::Args)]
pub struct ExcludeArg {
    /// Leave this path of the image, and everything under it, out of the catalog (a glob over
    /// the image's paths, `*` within a directory, `**` across them); repeatable. Recorded in the
    /// SBOM (`vouch:excluded`), so whoever reads it sees what it does not cover
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct SbomArgs {
    /// The image: NAME or ID, docker:NAME, docker-archive:PATH, oci-archive:PATH, oci-dir:PATH or
    /// registry:REF
    pub image: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub exclude: ExcludeArg,
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = SbomFormat::CyclonedxJson)]
    pub format: SbomFormat,
    /// Write to FILE instead of standard output (written atomically)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print no warnings
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Which packages: the image as it runs, or also those a later layer removed
    /// (vouch:removedInLayer)
    #[arg(long, value_enum, default_value_t = SbomScope::Squashed)]
    pub scope: SbomScope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomScope {
    /// The squashed view of the layers
    Squashed,
    /// Every layer's packages, those removed by a later layer marked so
    AllLayers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormat {
    /// CycloneDX 1.5 JSON
    CyclonedxJson,
    /// CycloneDX 1.5 XML
    CyclonedxXml,
    /// SPDX 2.3 JSON
    SpdxJson,
    /// A table for humans
    Table,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The image: NAME or ID, docker:NAME, docker-archive:PATH, oci-archive:PATH, oci-dir:PATH or
    /// registry:REF
    #[arg(required_unless_present_any = ["print_default_policy", "print_policy"])]
    pub image: Option<String>,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub exclude: ExcludeArg,
    #[command(flatten)]
    pub evaluation: EvaluationArgs,
    /// Judge only what was added on top of the base image: the packages, files and vulnerabilities
    /// of its own layers (the base from --base-image, the OCI base-image labels, or the engine's
    /// images); a usage error when the base is not known. The verdict records it
    #[arg(long)]
    pub only_app_layers: bool,
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
    /// Write the verdict to FILE instead of standard output (written atomically)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub dockerfile: DockerfileArg,
    /// Print the built-in default policy and exit
    #[arg(long)]
    pub print_default_policy: bool,
    /// Print a built-in policy (builtin:cis-docker, builtin:os-baseline) and exit
    #[arg(long, value_name = "builtin:NAME")]
    pub print_policy: Option<String>,
    /// Print no warnings
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// A table for humans
    Table,
    /// The verdict document (schemas/verdict.schema.json)
    Json,
    /// SARIF 2.1.0, for code-scanning pages
    Sarif,
    /// JUnit XML, for CI test tabs: one test case per rule
    Junit,
    /// GitHub Actions annotations; the Markdown summary is appended to $GITHUB_STEP_SUMMARY
    Github,
}

/// What a verdict is computed from (`check` and `attest`).
#[derive(Debug, clap::Args)]
pub struct EvaluationArgs {
    /// The policy file (YAML or JSON); the built-in default policy when absent
    #[arg(short = 'p', long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Use this SBOM (CycloneDX JSON written by `docker vouch sbom` for the same image) instead of
    /// cataloging the image again
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    /// The image this one was built from (an engine image name or ID); its layers are checked
    /// against the bottom of this image's
    #[arg(long, value_name = "IMAGE")]
    pub base_image: Option<String>,
    #[command(flatten)]
    pub vulnerabilities: VulnSourceArgs,
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Write PREFIX.key and PREFIX.pub
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: String,
    /// Replace existing key files
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct AttestArgs {
    /// The image: NAME or ID, docker:NAME, docker-archive:PATH, oci-archive:PATH, oci-dir:PATH or
    /// registry:REF
    pub image: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub exclude: ExcludeArg,
    /// The private key (cosign.key) that signs the attestations; its password from VOUCH_PASSWORD or
    /// COSIGN_PASSWORD, else asked
    #[arg(
        long,
        value_name = "FILE",
        env = "VOUCH_KEY",
        default_value = "cosign.key"
    )]
    pub key: PathBuf,
    #[command(flatten)]
    pub keyless: KeylessSigningArgs,
    #[command(flatten)]
    pub evaluation: EvaluationArgs,
    /// Write the set under DIR/sha256-<hex>/
    #[arg(long, value_name = "DIR", default_value = OUTPUT_DIR)]
    pub output_dir: PathBuf,
    /// Push the image through the engine first, then attach the signed statements beside it in
    /// the registry (cosign's .att tag and OCI 1.1 referrers)
    #[arg(long)]
    pub push: bool,
    /// Renew the image's attestations instead of reading the image: verify them with --verify-key,
    /// judge the signed SBOM with today's vulnerability data and the attested policy, and sign a
    /// fresh verdict bound to the same SBOM statement
    #[arg(long, requires = "verify_key")]
    pub from_attestation: bool,
    /// With --from-attestation: a public key (cosign.pub) the attestations to renew must verify
    /// with; repeatable
    #[arg(long, value_name = "FILE")]
    pub verify_key: Vec<PathBuf>,
    /// With --from-attestation: where the sets to renew are [default: --output-dir; for
    /// registry:REF the registry itself]
    #[arg(long, value_name = "DIR", requires = "from_attestation")]
    pub attestations: Option<PathBuf>,
    /// Print no warnings
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("signer").required(true).args(["key", "certificate_identity", "certificate_identity_regexp"])))]
pub struct VerifyBlobArgs {
    /// The blob the bundle signs
    pub file: PathBuf,
    /// The Sigstore bundle (`.sigstore.json`; media types v0.1 to v0.3)
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// The signer's public key (PEM)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate_identity", "certificate_identity_regexp", "certificate_oidc_issuer", "certificate_oidc_issuer_regexp"])]
    pub key: Option<PathBuf>,
    #[command(flatten)]
    pub keyless: KeylessArgs,
    /// Accept a bundle without transparency-log evidence (signed offline with a key, as
    /// `docker vouch attest` signs); its signature and timestamps are still checked
    #[arg(long)]
    pub insecure_ignore_tlog: bool,
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = VerifyFormat::Table)]
    pub format: VerifyFormat,
}

/// Signing keylessly instead of with a key.
#[derive(Debug, clap::Args)]
pub struct KeylessSigningArgs {
    /// Sign keylessly (Sigstore): each statement with a fresh key that Fulcio certifies for the
    /// identity of --identity-token, the signature recorded in Rekor; no key file (--key and
    /// VOUCH_KEY are not used)
    #[arg(long)]
    pub keyless: bool,
    /// With --keyless: the OIDC identity token (a JWT), or @FILE holding it [default: the CI's
    /// ambient token: GitHub Actions with `id-token: write`, GitLab CI, Buildkite, ...]
    #[arg(
        long,
        value_name = "TOKEN",
        env = "SIGSTORE_ID_TOKEN",
        hide_env_values = true
    )]
    pub identity_token: Option<String>,
    /// With --keyless: the Fulcio certificate authority
    #[arg(long, value_name = "URL", default_value = crate::bundles::sign::DEFAULT_FULCIO_URL)]
    pub fulcio_url: String,
    /// With --keyless: the Rekor transparency log (v1 API)
    #[arg(long, value_name = "URL", default_value = crate::bundles::sign::DEFAULT_REKOR_URL)]
    pub rekor_url: String,
}

impl KeylessSigningArgs {
    /// The statements' signer: the keyless one the flags name, else the key at `key` (its
    /// password asked for when no environment variable gives it).
    pub fn signer(
        &self,
        key: &std::path::Path,
    ) -> anyhow::Result<Box<dyn crate::attest::StatementSigner>> {
        if !self.keyless {
            return Ok(Box::new(crate::pipeline::attest::load_key(key)?));
        }
        let token = match self.identity_token.as_deref() {
            None => None,
            Some(path) if path.starts_with('@') => {
                let bytes = crate::fsio::read_limited(std::path::Path::new(&path[1..]), 64 * 1024)
                    .map_err(|e| anyhow::anyhow!("{} (identity token): {e}", &path[1..]))?;
                Some(
                    String::from_utf8(bytes).map_err(|_| {
                        anyhow::anyhow!("{} (identity token): not text", &path[1..])
                    })?,
                )
            }
            Some(token) => Some(token.to_string()),
        };
        let signer = crate::bundles::sign::KeylessSigner::new(
            token.as_deref(),
            &self.fulcio_url,
            &self.rekor_url,
        )
        .map_err(|e| UsageError(e.to_string()))?;
        Ok(Box::new(signer))
    }
}

/// Who may have signed keylessly, and the roots their certificates and log entries chain to.
#[derive(Debug, clap::Args)]
pub struct KeylessArgs {
    /// Keyless: the identity (email or URI) the signing certificate must name
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,
    /// Keyless: a regular expression the certificate's identity must match whole
    #[arg(long, value_name = "RE")]
    pub certificate_identity_regexp: Option<String>,
    /// Keyless: the OIDC issuer the certificate must name (`https://token.actions.githubusercontent.com`)
    #[arg(
        long,
        value_name = "ISSUER",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// Keyless: a regular expression the certificate's OIDC issuer must match whole
    #[arg(long, value_name = "RE")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// The roots of trust for keyless signatures (`trusted_root.json`: Fulcio, Rekor, CT logs,
    /// timestamp authorities) [default: what `trust update` last fetched, else the Sigstore
    /// public-good instance's, embedded in vouch]
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

impl KeylessArgs {
    /// The keyless signer the flags name, if any: an identity needs an issuer and the other way
    /// round, and a regular expression must compile.
    pub fn signer(&self) -> Result<Option<crate::bundles::Signer>, UsageError> {
        use crate::bundles::{Claim, Signer};
        let claim =
            |exact: &Option<String>, pattern: &Option<String>, flag: &str| match (exact, pattern) {
                (Some(exact), _) => Ok(Some(Claim::Exact(exact.clone()))),
                (None, Some(pattern)) => Claim::regex(pattern)
                    .map(Some)
                    .map_err(|e| UsageError(format!("--{flag}-regexp: {e}"))),
                (None, None) => Ok(None),
            };
        let identity = claim(
            &self.certificate_identity,
            &self.certificate_identity_regexp,
            "certificate-identity",
        )?;
        let issuer = claim(
            &self.certificate_oidc_issuer,
            &self.certificate_oidc_issuer_regexp,
            "certificate-oidc-issuer",
        )?;
        match (identity, issuer) {
            (Some(identity), Some(issuer)) => Ok(Some(Signer::Identity { identity, issuer })),
            (None, None) => Ok(None),
            (Some(_), None) => Err(UsageError(
                "--certificate-identity needs --certificate-oidc-issuer (or -regexp): an identity means nothing without the issuer that vouched for it".into(),
            )),
            (None, Some(_)) => Err(UsageError(
                "--certificate-oidc-issuer needs --certificate-identity (or -regexp)".into(),
            )),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The image: NAME or ID, docker:NAME, docker-archive:PATH, oci-archive:PATH, oci-dir:PATH or
    /// registry:REF
    pub image: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Where the attestation sets are (as `attest --output-dir` wrote them) [default: .vouch;
    /// for registry:REF the registry itself]
    #[arg(long, value_name = "DIR")]
    pub attestations: Option<PathBuf>,
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = VerifyFormat::Table)]
    pub format: VerifyFormat,
    #[command(flatten)]
    pub rejudge: RejudgeArgs,
}

/// Judging verified images again, for `verify` and `ps`.
#[derive(Debug, clap::Args)]
pub struct RejudgeArgs {
    /// Once a set verifies, judge its signed SBOM again with today's vulnerability data (the local
    /// database, or --vuln-db/--vuln-report): the check verdict.rejudged fails on each gating
    /// finding the attested verdict did not have. The image's layers are not read
    #[arg(long)]
    pub rejudge: bool,
    /// With --rejudge: the attested policy (its digest must be the verdict's); the built-in default
    /// when absent
    #[arg(short = 'p', long, value_name = "FILE", requires = "rejudge")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub vulnerabilities: VulnSourceArgs,
}

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Where the attestation sets are (as `attest --output-dir` wrote them) [default: .vouch]
    #[arg(long, value_name = "DIR")]
    pub attestations: Option<PathBuf>,
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = VerifyFormat::Table)]
    pub format: VerifyFormat,
    #[command(flatten)]
    pub rejudge: RejudgeArgs,
}

#[derive(Debug, clap::Args)]
pub struct AuthzArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Where the attestation sets are (as `attest --output-dir` wrote them)
    #[arg(long, value_name = "DIR", default_value = OUTPUT_DIR)]
    pub attestations: PathBuf,
    /// The unix socket the engine asks on; the engine finds a plugin named NAME at
    /// /run/docker/plugins/NAME.sock
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/run/docker/plugins/vouch.sock"
    )]
    pub socket: PathBuf,
    /// How long an image's outcome is reused, by image ID; 0s to verify every time
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::verify::parse_duration)]
    pub cache_ttl: std::time::Duration,
    /// A policy whose `runtime` rules weigh the privileges containers are created and exec'd with
    /// (without one, only the images are verified)
    #[arg(short = 'p', long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// A create or start not decided within this is refused (the engine waits on the plugin)
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = crate::verify::parse_duration)]
    pub decision_timeout: std::time::Duration,
    /// Decisions made at once; more wait for a slot within their deadline
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_decisions: u32,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// The server's certificate chain (PEM), signed by the CA in the webhook configuration's
    /// caBundle
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// The server's private key (PEM)
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// Address and port to listen on
    #[arg(long, value_name = "ADDRESS", default_value = "0.0.0.0:8443")]
    pub listen: String,
    /// How long an image's outcome is reused, by registry, repository and digest (tags are
    /// resolved on every request); 0s to verify every time
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = crate::verify::parse_duration)]
    pub cache_ttl: std::time::Duration,
    /// A review not decided within this is refused (keep it under the webhook's timeoutSeconds)
    #[arg(long, value_name = "DURATION", default_value = "8s", value_parser = crate::verify::parse_duration)]
    pub review_timeout: std::time::Duration,
    /// Connections open at once; more are closed at once
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Reviews decided at once; more wait for a slot within their deadline
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_reviews: u32,
    /// Re-verify the images an UPDATE leaves unchanged (by default they are allowed, so scaling
    /// down or removing a finalizer is never blocked)
    #[arg(long)]
    pub reverify_updates: bool,
    /// Also judge each verified image's signed SBOM again with the local vulnerability database as
    /// it is now (`docker vouch db update`), by the attested policy's vulnerability rules: refuse an
    /// image with a gating finding its verdict did not have
    #[arg(long)]
    pub rejudge: bool,
    /// A policy: its `runtime` rules weigh what each container asks for (privileged, host
    /// namespaces and paths, capabilities, privilege escalation, unconfined profiles); with
    /// --rejudge, it is the attested policy (default: the built-in one) and a verdict of another
    /// policy is refused
    #[arg(short = 'p', long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// What POST /validate does with what does not pass: refuse it (enforce), or admit it with
    /// warnings and the audit annotation vouch.dev/would-refuse (audit). /validate/audit and
    /// /validate/enforce choose per webhook, whatever this says
    #[arg(long, value_enum, default_value_t = crate::serve::Mode::Enforce)]
    pub mode: crate::serve::Mode,
    #[command(flatten)]
    pub db: DbDirArg,
}

/// What an image must have to be trusted (`verify` and `serve`).
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// A public key (cosign.pub) whose signature is accepted; repeatable. Give keys, a keyless
    /// signer (--certificate-identity and --certificate-oidc-issuer), or both: a statement either
    /// signed is accepted
    #[arg(long, value_name = "FILE")]
    pub key: Vec<PathBuf>,
    #[command(flatten)]
    pub keyless: KeylessArgs,
    /// For registry images: where in the registry to look; repeatable [default: referrers and att]
    #[arg(long, value_enum, value_name = "LAYOUT")]
    pub layout: Vec<LayoutArg>,
    /// Refuse a verdict older than this (24h, 30m, 7d)
    #[arg(long, value_name = "DURATION", value_parser = crate::verify::parse_duration)]
    pub max_age: Option<std::time::Duration>,
    /// Refuse a FAILED verdict
    #[arg(long)]
    pub require_pass: bool,
    /// Refuse a verdict made with another policy (sha256:...)
    #[arg(long, value_name = "DIGEST")]
    pub policy_digest: Option<String>,
}

impl TrustArgs {
    pub fn requirements(&self) -> crate::verify::Requirements {
        crate::verify::Requirements {
            require_pass: self.require_pass,
            max_age: self.max_age,
            policy_digest: self.policy_digest.clone(),
        }
    }

    /// The public keys, loaded, and the keyless signer with its trusted root.
    pub fn signers(&self, context: &Context) -> anyhow::Result<crate::verify::Signers> {
        let keyless_signer = self.keyless.signer()?;
        if self.keyless.trusted_root.is_some() && keyless_signer.is_none() {
            return Err(UsageError(
                "--trusted-root is for keyless signers: give --certificate-identity and --certificate-oidc-issuer".into(),
            )
            .into());
        }
        let keys = self
            .key
            .iter()
            .map(|path| crate::attest::keys::PublicKey::load(path))
            .collect::<Result<_, _>>()?;
        let keyless = match keyless_signer {
            None => None,
            Some(signer) => Some(crate::verify::Keyless {
                signer,
                root: crate::bundles::trusted_root(
                    self.keyless.trusted_root.as_deref(),
                    context.env(),
                )?,
            }),
        };
        if self.key.is_empty() && keyless.is_none() {
            return Err(UsageError(
                "give --key, or a keyless signer (--certificate-identity and --certificate-oidc-issuer), or both".into(),
            )
            .into());
        }
        Ok(crate::verify::Signers { keys, keyless })
    }

    /// The registry layouts to read: the asked ones, else both.
    pub fn layouts(&self) -> Vec<crate::registry::fetch::Layout> {
        use crate::registry::fetch::Layout;
        if self.layout.is_empty() {
            return vec![Layout::Referrers, Layout::Att];
        }
        self.layout
            .iter()
            .map(|asked| match asked {
                LayoutArg::Att => Layout::Att,
                LayoutArg::Referrers => Layout::Referrers,
            })
            .collect()
    }
}

/// `--layout`: where in the registry to look for attestations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LayoutArg {
    /// cosign's `sha256-<hex>.att` tag
    Att,
    /// OCI 1.1 referrers (Sigstore bundles), or their fallback tag
    Referrers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    /// One line per check
    Table,
    /// The report: image, digests, every check with its detail
    Json,
}

/// The policy `path` names, else the built-in default; an invalid one is a usage error.
pub fn load_policy(path: Option<&std::path::Path>) -> anyhow::Result<crate::policy::Policy> {
    use crate::policy::Policy;
    let invalid = |e| UsageError(format!("invalid policy: {e}"));
    Ok(match path {
        Some(path) => match path.to_str().filter(|p| p.starts_with("builtin:")) {
            Some(reference) => Policy::builtin(reference).map_err(invalid)?,
            None => Policy::load(path).map_err(invalid)?,
        },
        None => Policy::default_policy(),
    })
}

impl EvaluationArgs {
    /// The policy `--policy` names, else the built-in default; an invalid one is a usage error.
    pub fn load_policy(&self) -> anyhow::Result<crate::policy::Policy> {
        load_policy(self.policy.as_deref())
    }

    /// What the pipeline judges an image with: `policy`, these flags, and `sources`.
    pub fn judging<'a>(
        &'a self,
        policy: &'a crate::policy::Policy,
        sources: &'a crate::vuln::sources::Sources,
        platform: Option<&'a crate::image::Platform>,
    ) -> crate::pipeline::evaluate::Judging<'a> {
        crate::pipeline::evaluate::Judging {
            policy,
            sbom: self.sbom.as_deref(),
            base_image: self.base_image.as_deref(),
            sources,
            platform,
            only_app_layers: false,
        }
    }
}

/// Where vulnerability findings come from (`check` and `scan`).
#[derive(Debug, clap::Args)]
pub struct VulnSourceArgs {
    /// An offline OSV database: a directory of OSV JSON records and/or osv.dev all.zip files
    #[arg(long, value_name = "PATH")]
    pub vuln_db: Option<PathBuf>,
    /// A Trivy (`trivy image -f json`) or Grype (`grype -o json`) report of the same image;
    /// repeatable
    #[arg(long, value_name = "FILE")]
    pub vuln_report: Vec<PathBuf>,
    /// An OpenVEX or CycloneDX VEX document: findings it marks not_affected or fixed stop counting;
    /// repeatable
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
}

impl VulnSourceArgs {
    /// The sources given, or the local database when none was (see
    /// [`crate::pipeline::read::vulnerability_sources`]).
    pub fn sources(&self, context: &Context) -> anyhow::Result<crate::vuln::sources::Sources> {
        crate::pipeline::read::vulnerability_sources(context, self.sources_given())
    }

    /// The sources the flags name, and nothing else.
    pub fn sources_given(&self) -> crate::vuln::sources::Sources {
        crate::vuln::sources::Sources {
            db: self.vuln_db.clone(),
            reports: self.vuln_report.clone(),
            vex: self.vex.clone(),
            ..Default::default()
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// The image: NAME or ID, docker:NAME, docker-archive:PATH, oci-archive:PATH, oci-dir:PATH or
    /// registry:REF
    pub image: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub exclude: ExcludeArg,
    #[command(flatten)]
    pub vulnerabilities: VulnSourceArgs,
    /// Use this SBOM (CycloneDX JSON written by `docker vouch sbom` for the same image) instead of
    /// cataloging the image again
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Write to FILE instead of standard output (written atomically)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub dockerfile: DockerfileArg,
    /// Exit 1 when a finding VEX does not suppress is at least this severe (low, medium, high,
    /// critical)
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<crate::vuln::Severity>,
    /// With --fail-on: count only findings that have a fixed version
    #[arg(long)]
    pub only_fixed: bool,
    /// Order of the findings: severity; kev (known exploited first, then by EPSS score); epss
    /// (highest score first); package
    #[arg(long, value_enum, default_value_t = ScanSort::Severity)]
    pub sort: ScanSort,
    /// Print no warnings
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// Appends a Markdown job summary to the file GitHub Actions names in `$GITHUB_STEP_SUMMARY`;
/// nothing outside GitHub Actions (the variable unset or empty).
pub fn append_step_summary(markdown: &str) -> anyhow::Result<()> {
    match std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        Some(path) => Ok(crate::fsio::append(
            std::path::Path::new(&path),
            markdown.as_bytes(),
        )?),
        None => Ok(()),
    }
}

/// The Dockerfile an image was built from (`scan` and `check`, for SARIF and GitHub output).
#[derive(Debug, clap::Args)]
pub struct DockerfileArg {
    /// The Dockerfile the image was built from, as the repository names it: SARIF results and
    /// GitHub annotations point at the line that made each finding's layer (the FROM line for the
    /// base image's layers), where the image's history matches it
    #[arg(long, value_name = "FILE")]
    pub dockerfile: Option<PathBuf>,
}

/// The largest Dockerfile read.
const MAX_DOCKERFILE_BYTES: u64 = 4 * 1024 * 1024;

impl DockerfileArg {
    /// The Dockerfile's line for each of `image`'s layers, when `--dockerfile` was given.
    pub fn lines(
        &self,
        image: &crate::image::Image,
    ) -> anyhow::Result<Option<crate::ci::DockerfileLines>> {
        let Some(path) = &self.dockerfile else {
            return Ok(None);
        };
        let bytes = crate::fsio::read_limited(path, MAX_DOCKERFILE_BYTES)
            .map_err(|e| anyhow::anyhow!("--dockerfile {}: {e}", path.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let uri = path.to_string_lossy();
        Ok(Some(crate::ci::DockerfileLines {
            uri: uri.strip_prefix("./").unwrap_or(&uri).to_string(),
            lines: crate::image::dockerfile::layer_lines(&image.config.layer_instructions(), &text),
        }))
    }
}

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old image: NAME or ID, docker:NAME, docker-archive:PATH, oci-archive:PATH, oci-dir:PATH,
    /// registry:REF, or sbom:FILE (an SBOM vouch wrote)
    pub old: String,
    /// The new image, in the same forms
    pub new: String,
    #[command(flatten)]
    pub platform: PlatformArg,
    #[command(flatten)]
    pub exclude: ExcludeArg,
    /// The policy both images are judged with (YAML or JSON); the built-in default policy when
    /// absent
    #[arg(short = 'p', long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// An offline OSV database (else the local one, `docker vouch db update`, when there is one)
    #[arg(long, value_name = "PATH")]
    pub vuln_db: Option<PathBuf>,
    /// An OpenVEX or CycloneDX VEX document applied to both images; repeatable
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Exit 1 when the new image adds a finding (one the old image did not have, by vulnerability
    /// and package) at least this severe (low, medium, high, critical)
    #[arg(long, value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on_new: Option<crate::vuln::Severity>,
    /// Output format
    #[arg(short = 'f', long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    /// Write to FILE instead of standard output (written atomically)
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print no warnings
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// A table for humans
    Table,
    /// The comparison document (schemas/diff.schema.json)
    Json,
    /// Markdown, for a pull-request comment
    Markdown,
}

fn parse_severity(text: &str) -> Result<crate::vuln::Severity, String> {
    crate::vuln::severity::from_name(text)
        .ok_or_else(|| format!("{text:?}: expected low, medium, high or critical"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanSort {
    Severity,
    Kev,
    Epss,
    Package,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    /// A table for humans
    Table,
    /// The scan document: image, sources, summary, findings, VEX statements
    Json,
    /// The CycloneDX SBOM with a vulnerabilities section (VEX analysis included)
    CyclonedxJson,
    /// SARIF 2.1.0, for code-scanning pages
    Sarif,
    /// JUnit XML, for CI test tabs: one test case per finding
    Junit,
    /// GitLab's container-scanning report (security report schema 15.2.1)
    Gitlab,
    /// GitHub Actions annotations; the Markdown summary is appended to $GITHUB_STEP_SUMMARY
    Github,
}

/// Runs the parsed command and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The process's context, resolved once: every stage below shares its engine connection.
    let context = Context::from_process(cli.docker.engine_flags(), cli.command.quiet())
        .with_exclusions(cli.command.exclusions());
    match cli.command {
        Command::PluginMetadata => {
            println!("{}", serde_json::to_string_pretty(&metadata())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::PluginHooks { request } => {
            println!("{}", serde_json::to_string(&hooks::answer(&request))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::InstallHooks | Command::UninstallHooks => {
            let dir = context.docker_config();
            let install = matches!(cli.command, Command::InstallHooks);
            let (path, changes) = if install {
                hooks::install(dir)?
            } else {
                hooks::uninstall(dir)?
            };
            if changes.is_empty() {
                println!("{}: nothing to change", path.display());
            } else {
                println!("{}: {}", path.display(), changes.join("; "));
            }
            if install {
                println!(
                    "After `docker build`, `docker image build` and `docker buildx build`, the docker CLI (26.1 or later) now shows how to attest the image."
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Build(args) => build::run(&context, &cli.docker, &args),
        Command::Sbom(args) => sbom::run(&context, &args),
        Command::Check(args) => check::run(&context, &args),
        Command::Scan(args) => scan::run(&context, &args),
        Command::Diff(args) => diff::run(&context, &args),
        Command::Keygen(args) => keygen::run(&args),
        Command::Attest(args) => attest::run(&context, &args),
        Command::Verify(args) => verify::run(&context, &args),
        Command::VerifyBlob(args) => verify_blob::run(&context, &args),
        Command::Trust(TrustCommand::Update(args)) => verify_blob::trust_update(&context, &args),
        Command::Serve(args) => serve::run(&context, &args),
        Command::Authz(args) => authz::run(&context, &args),
        Command::Ps(args) => ps::run(&context, &args),
        Command::Db(command) => db::run(&context, &command),
    }
}

impl Command {
    /// The paths the command leaves out of the images it catalogs (`--exclude`).
    fn exclusions(&self) -> &[String] {
        match self {
            Command::Sbom(args) => &args.exclude.exclude,
            Command::Check(args) => &args.exclude.exclude,
            Command::Scan(args) => &args.exclude.exclude,
            Command::Diff(args) => &args.exclude.exclude,
            Command::Attest(args) => &args.exclude.exclude,
            _ => &[],
        }
    }

    /// Whether the command was asked to print only its result (`--quiet`).
    fn quiet(&self) -> bool {
        match self {
            Command::Build(args) => args.quiet,
            Command::Sbom(args) => args.quiet,
            Command::Check(args) => args.quiet,
            Command::Scan(args) => args.quiet,
            Command::Diff(args) => args.quiet,
            Command::Attest(args) => args.quiet,
            Command::Db(DbCommand::Update(args)) => args.quiet,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_definition_is_consistent() {
        // clap checks argument ids, short flags and value types only when a command is parsed;
        // this checks every subcommand at once (two arguments with one id panic at run time).
        <super::Cli as clap::CommandFactory>::command().debug_assert();
    }
}
