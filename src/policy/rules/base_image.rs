//! `base_image` rules: the image must be built from an allowed base, by name pattern or digest. The
//! base is known from `--base-image` (checked against the image's own layers) or the
//! `org.opencontainers.image.base.name` / `.digest` labels; a base that cannot be determined is
//! itself a finding, and so is a claimed base whose layers are not at the bottom of the image.

use super::super::diags::{Code, Origin, PolicyError};
use super::super::file::BaseImageFile;
use super::super::input::Input;
use super::super::verdict::{Evidence, Finding};
use crate::oci::digest::sha256_hex;

#[derive(Debug)]
pub struct BaseImageCheck {
    names: Vec<(String, globset::GlobMatcher)>,
    digests: Vec<String>,
}

/// A reference in the docker CLI's canonical form: `debian:12` → `docker.io/library/debian:12`.
pub fn normalize_reference(reference: &str) -> String {
    let reference = reference.trim();
    let (name, suffix) = match reference.find('@') {
        Some(at) => reference.split_at(at),
        None => (reference, ""),
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry = name.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    let mut full = if has_registry {
        name.to_string()
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if suffix.is_empty() && !last.contains(':') {
        full.push_str(":latest");
    }
    full.push_str(suffix);
    full
}

impl BaseImageCheck {
    pub fn compile(file: &BaseImageFile, origin: &Origin) -> Result<BaseImageCheck, PolicyError> {
        let mut names = Vec::new();
        for name in &file.names {
            let normalized = normalize_reference(name);
            let matcher = globset::Glob::new(&normalized)
                .map_err(|e| origin.at(name, format!("bad image name pattern: {e}")))?
                .compile_matcher();
            names.push((name.to_string(), matcher));
        }
        let mut digests = Vec::new();
        for digest in &file.digests {
            if sha256_hex(digest).is_none() {
                return Err(origin.at(
                    digest,
                    format!("`{}` is not a sha256:<64 hex> digest", digest.as_str()),
                ));
            }
            digests.push(digest.to_string());
        }
        if names.is_empty() && digests.is_empty() {
            return Err(PolicyError {
                file: origin.name.clone(),
                line: 0,
                column: 0,
                message: "a base_image rule needs `names` or `digests`".into(),
            });
        }
        Ok(BaseImageCheck { names, digests })
    }

    pub fn evaluate(&self, input: &Input) -> Vec<Finding> {
        let base = &input.image.base;
        let shown = base
            .name
            .clone()
            .or_else(|| base.digests.first().cloned())
            .unwrap_or_default();
        let evidence = Evidence {
            value: Some(shown.clone()),
            ..Default::default()
        };
        if base.name.is_none() && base.digests.is_empty() {
            return vec![Finding::new(
                Code::BaseImageUnknown,
                "the base image cannot be determined (give --base-image, or set the org.opencontainers.image.base.name label)".into(),
                evidence,
            )];
        }
        let mut findings = Vec::new();
        if base.layers_match == Some(false) {
            findings.push(Finding::new(
                Code::BaseImageMismatch,
                format!("the image is not built on {shown}: its layers do not start with that image's"),
                evidence.clone(),
            ).keyed(shown.clone()));
        }
        let name_ok = base.name.as_deref().is_some_and(|name| {
            let normalized = normalize_reference(name);
            self.names.iter().any(|(_, m)| m.is_match(&normalized))
        });
        let digest_ok = base.digests.iter().any(|d| self.digests.contains(d));
        if !name_ok && !digest_ok {
            let allowed: Vec<&str> = self
                .names
                .iter()
                .map(|(n, _)| n.as_str())
                .chain(self.digests.iter().map(String::as_str))
                .collect();
            findings.push(
                Finding::new(
                    Code::BaseImageNotAllowed,
                    format!(
                        "base image {shown} is not one of the allowed: {}",
                        allowed.join(", ")
                    ),
                    evidence,
                )
                .keyed(shown),
            );
        }
        findings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalise_as_the_docker_cli_does() {
        assert_eq!(
            normalize_reference("debian"),
            "docker.io/library/debian:latest"
        );
        assert_eq!(
            normalize_reference("debian:12"),
            "docker.io/library/debian:12"
        );
        assert_eq!(normalize_reference("acme/app:1"), "docker.io/acme/app:1");
        assert_eq!(
            normalize_reference("registry.example:5000/base/deb@sha256:ab"),
            "registry.example:5000/base/deb@sha256:ab"
        );
        assert_eq!(normalize_reference("localhost/x"), "localhost/x:latest");
    }
}
