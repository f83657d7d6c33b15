//! The package record every cataloger produces and the SBOM consumes: identity (name, version, purl),
//! where its evidence was found (layer and path), and what else the database said about it.

/// The layer and path of the file a package was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    /// Image-root-relative path, without the leading slash (shared: the 200,000 packages of one
    /// dpkg status name it once).
    pub path: std::sync::Arc<str>,
    /// Position of the layer in the image's layer list (lowest is 0).
    pub layer_index: usize,
}

/// The operating system the image declares (from os-release).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distro {
    /// `ID`, e.g. `debian`.
    pub id: String,
    /// `VERSION_ID`, e.g. `12`.
    pub version_id: Option<String>,
    pub version_codename: Option<String>,
    pub pretty_name: Option<String>,
    pub id_like: Vec<String>,
    pub evidence: Evidence,
}

impl Distro {
    /// The purl `distro` qualifier: `debian-12` (or `debian-trixie` when there is no version).
    pub fn purl_qualifier(&self) -> String {
        match self.version_id.as_ref().or(self.version_codename.as_ref()) {
            Some(v) => format!("{}-{}", self.id, v),
            None => self.id.clone(),
        }
    }
}

/// A property's name: a constant for most (`vouch:dpkg:source`), built for a few
/// (`vouch:go:build:KEY`), so that 200,000 packages do not each allocate the same names.
pub type PropertyName = std::borrow::Cow<'static, str>;

/// One package found in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    /// The purl type (`deb`, `apk`, `pypi`, ...).
    pub purl_type: &'static str,
    pub purl: String,
    /// CPE 2.3 name, where the product's NVD vendor and product are known (not guessed).
    pub cpe: Option<String>,
    /// Declared licenses, SPDX where possible.
    pub licenses: Vec<crate::license::License>,
    pub evidence: Evidence,
    /// The cataloger that found it (`dpkg`).
    pub cataloger: &'static str,
    /// Extra facts as `vouch:*` property name and value (source package, architecture, ...).
    pub properties: Vec<(PropertyName, String)>,
}

/// `cpe:2.3:a:VENDOR:PRODUCT:VERSION:*:*:*:*:*:*:*`, with the version's CPE-special characters escaped.
pub fn cpe(vendor: &str, product: &str, version: &str) -> String {
    let mut escaped = String::with_capacity(version.len());
    for c in version.chars() {
        if !(c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    format!("cpe:2.3:a:{vendor}:{product}:{escaped}:*:*:*:*:*:*:*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpe_escapes_special_characters() {
        assert_eq!(
            cpe("python", "python", "3.11.2"),
            "cpe:2.3:a:python:python:3.11.2:*:*:*:*:*:*:*"
        );
        assert_eq!(
            cpe("golang", "go", "1.22rc1+x"),
            "cpe:2.3:a:golang:go:1.22rc1\\+x:*:*:*:*:*:*:*"
        );
    }
}
