//! An image's attestation set on disk: `DIR/sha256-<hex>/` (the hex of the image's manifest digest,
//! else of its ID) holding the SBOM, the verdict, both signed DSSE envelopes and a Sigstore bundle per
//! statement. The set is written into a temporary directory beside it and then swapped in with one
//! `renameat2(RENAME_EXCHANGE)` (or a rename when there was none), so a crash leaves either the old
//! set or the new one, never half of each; nothing is written outside `DIR`.

use super::dsse::Envelope;
use std::io::Write;
use std::path::{Path, PathBuf};

pub const SBOM_FILE: &str = "sbom.cdx.json";
pub const VERDICT_FILE: &str = "verdict.json";
pub const SBOM_ENVELOPE: &str = "sbom.dsse.json";
pub const VERDICT_ENVELOPE: &str = "verdict.dsse.json";
pub const SBOM_BUNDLE: &str = "sbom.sigstore.json";
pub const VERDICT_BUNDLE: &str = "verdict.sigstore.json";

#[derive(Debug, thiserror::Error)]
pub enum SetError {
    #[error("{0:?} is not a sha256 digest")]
    BadDigest(String),
    #[error("cannot write the attestations under {path}: {detail}")]
    Write { path: String, detail: String },
    #[error("no attestations for {digests} under {dir} (looked for {looked})")]
    Missing {
        digests: String,
        dir: String,
        looked: String,
    },
    #[error("{path}: {detail}")]
    Unreadable { path: String, detail: String },
}

/// `sha256-<hex>` for `sha256:<hex>`; refuses anything else (the name becomes a path).
pub fn dir_name(digest: &str) -> Result<String, SetError> {
    match digest.strip_prefix("sha256:") {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Ok(format!("sha256-{}", hex.to_ascii_lowercase()))
        }
        _ => Err(SetError::BadDigest(digest.to_string())),
    }
}

/// What writes a file's content into the writer it is given.
type WriteContent<'a> = Box<dyn Fn(&mut dyn Write) -> std::io::Result<()> + 'a>;

/// One file of a set: its name and what writes its content (a document is serialized straight
/// into its file, never held).
pub struct SetFile<'a> {
    pub name: &'static str,
    write: WriteContent<'a>,
}

impl<'a> SetFile<'a> {
    #[cfg(test)]
    pub fn bytes(name: &'static str, bytes: &'a [u8]) -> Self {
        SetFile {
            name,
            write: Box::new(move |out| out.write_all(bytes)),
        }
    }

    /// `value` (a document, or a reference to one) as pretty-printed JSON and a newline.
    pub fn json<T: serde::Serialize + 'a>(name: &'static str, value: T) -> Self {
        SetFile {
            name,
            write: Box::new(move |out| {
                serde_json::to_writer_pretty(&mut *out, &value).map_err(std::io::Error::from)?;
                out.write_all(b"\n")
            }),
        }
    }

    /// Writes the content to `out`.
    pub fn write_to(&self, out: &mut dyn Write) -> std::io::Result<()> {
        (self.write)(out)
    }

    /// The content, in memory.
    pub fn to_bytes(&self) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.write_to(&mut bytes)?;
        Ok(bytes)
    }
}

/// Writes `files` as the set of `digest` under `dir`, replacing any previous set at once.
pub fn write_set(dir: &Path, digest: &str, files: &[SetFile]) -> Result<PathBuf, SetError> {
    let name = dir_name(digest)?;
    let target = dir.join(&name);
    let error = |detail: String| SetError::Write {
        path: target.display().to_string(),
        detail,
    };
    std::fs::create_dir_all(dir).map_err(|e| error(e.to_string()))?;
    let staging = dir.join(format!(".{name}.new-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    let result = (|| -> std::io::Result<()> {
        std::fs::create_dir(&staging)?;
        for file in files {
            let mut out = std::io::BufWriter::with_capacity(
                64 * 1024,
                std::fs::File::create(staging.join(file.name))?,
            );
            file.write_to(&mut out)?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::File::open(&staging)?.sync_all()?;
        if target.exists() {
            exchange(&staging, &target)?;
            // `staging` now holds the old set.
            std::fs::remove_dir_all(&staging)?;
        } else {
            std::fs::rename(&staging, &target)?;
        }
        std::fs::File::open(dir)?.sync_all()
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error(e.to_string()));
    }
    Ok(target)
}

/// Swaps two directories atomically.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes())?;
    let b = CString::new(b.as_os_str().as_bytes())?;
    // SAFETY: both paths are valid NUL-terminated strings for the duration of the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The two signed statements of a set (on disk, or from a registry), and where they were found.
pub struct LoadedSet {
    pub location: String,
    pub sbom: Result<Signed, String>,
    pub verdict: Result<Signed, String>,
}

/// A signed statement as found: its DSSE envelope, and the keyless verification material that
/// came with it (a certificate and its transparency-log entry), if any, or why that material could
/// not be read.
#[derive(Debug, Clone)]
pub struct Signed {
    pub envelope: Envelope,
    pub keyless: Option<Result<KeylessMaterial, String>>,
}

impl Signed {
    /// An envelope signed with a key: no keyless material.
    pub fn with_key(envelope: Envelope) -> Signed {
        Signed {
            envelope,
            keyless: None,
        }
    }
}

/// A Sigstore bundle's verification material and the media type it is read as.
#[derive(Debug, Clone)]
pub struct KeylessMaterial {
    pub media_type: String,
    pub material: serde_json::Value,
}

/// The parts of a Sigstore bundle a set or a registry referrer holds: its media type, verification
/// material and DSSE envelope (read as `E`; `serde::de::IgnoredAny` skips it as it is parsed).
#[derive(serde::Deserialize)]
pub struct BundleParts<E> {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    #[serde(rename = "verificationMaterial", default)]
    pub verification_material: serde_json::Value,
    #[serde(rename = "dsseEnvelope")]
    pub dsse_envelope: Option<E>,
}

impl<E> BundleParts<E> {
    /// The envelope, and the keyless material when the bundle has a certificate (a key-signed
    /// bundle names a key instead).
    pub fn split(self) -> (Option<E>, Option<KeylessMaterial>) {
        let material = self.verification_material;
        let keyless = (material.get("certificate").is_some()
            || material.get("x509CertificateChain").is_some())
        .then_some(KeylessMaterial {
            media_type: self.media_type,
            material,
        });
        (self.dsse_envelope, keyless)
    }
}

/// Finds the set of the first of `digests` that has one under `dir`, and reads its envelopes, and
/// with `keyless` the keyless material of their bundles (a set `attest --keyless` wrote).
pub fn load_set(dir: &Path, digests: &[String], keyless: bool) -> Result<LoadedSet, SetError> {
    let mut looked = Vec::new();
    for digest in digests {
        let Ok(name) = dir_name(digest) else { continue };
        let path = dir.join(&name);
        looked.push(name);
        if path.is_dir() {
            let read = |file: &str, bundle: &str| -> Result<Signed, String> {
                let bytes = crate::fsio::read_limited(&path.join(file), super::ENVELOPE_LIMIT)
                    .map_err(|e| format!("{file}: {e}"))?;
                let envelope = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{file}: not a DSSE envelope ({e})"))?;
                Ok(Signed {
                    envelope,
                    keyless: if keyless {
                        bundle_material(&path.join(bundle))
                    } else {
                        None
                    },
                })
            };
            return Ok(LoadedSet {
                sbom: read(SBOM_ENVELOPE, SBOM_BUNDLE),
                verdict: read(VERDICT_ENVELOPE, VERDICT_BUNDLE),
                location: path.display().to_string(),
            });
        }
    }
    Err(SetError::Missing {
        digests: digests.join(", "),
        dir: dir.display().to_string(),
        looked: looked.join(", "),
    })
}

/// The keyless verification material of the bundle at `path`, when it has a certificate (a
/// key-signed set's bundles name a key instead); an unreadable bundle is said.
fn bundle_material(path: &Path) -> Option<Result<KeylessMaterial, String>> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let name = name.unwrap_or_default();
    if !path.exists() {
        return None;
    }
    let bytes = match crate::fsio::read_limited(path, super::ENVELOPE_LIMIT) {
        Ok(bytes) => bytes,
        Err(e) => return Some(Err(format!("{name}: {e}"))),
    };
    match serde_json::from_slice::<BundleParts<serde::de::IgnoredAny>>(&bytes) {
        Ok(bundle) => bundle.split().1.map(Ok),
        Err(e) => Some(Err(format!("{name}: not a Sigstore bundle ({e})"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_replace_each_other_whole() {
        let dir = tempfile::tempdir().unwrap();
        let digest = format!("sha256:{}", "ab".repeat(32));
        let first = write_set(
            dir.path(),
            &digest,
            &[SetFile::bytes("a", b"1"), SetFile::bytes("b", b"1")],
        )
        .unwrap();
        let second = write_set(dir.path(), &digest, &[SetFile::bytes("a", b"2")]).unwrap();
        assert_eq!(first, second);
        assert_eq!(std::fs::read(second.join("a")).unwrap(), b"2");
        assert!(!second.join("b").exists(), "nothing of the old set is left");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn digests_that_are_not_sha256_never_become_paths() {
        for bad in [
            "sha256:../../etc",
            "md5:abc",
            "sha256:",
            &format!("sha256:{}/", "a".repeat(63)),
        ] {
            assert!(
                matches!(dir_name(bad), Err(SetError::BadDigest(_))),
                "{bad}"
            );
        }
    }
}
