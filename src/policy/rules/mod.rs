//! The rule kinds, one module each: how a rule's settings are checked and compiled, and how it is
//! evaluated over the [`Input`] into findings.

pub mod base_image;
pub mod config;
pub mod file_content;
pub mod files;
pub mod history;
pub mod licenses;
pub mod packages;
pub mod rego;
pub mod runtime;
pub mod secrets;
pub mod vulnerabilities;

use super::diags::{Origin, PolicyError};
use super::file::RuleFile;
use super::input::{Component, ImageFacts, Input};
use super::verdict::{Evidence, Finding};
use marked_yaml::Spanned;

/// A compiled rule of one kind.
#[derive(Debug)]
pub enum Check {
    BaseImage(base_image::BaseImageCheck),
    Packages(packages::PackagesCheck),
    Licenses(licenses::LicensesCheck),
    Config(config::ConfigCheck),
    Files(files::FilesCheck),
    FileContent(file_content::FileContentCheck),
    Secrets(secrets::SecretsCheck),
    History(history::HistoryCheck),
    Vulnerabilities(vulnerabilities::VulnerabilitiesCheck),
    Rego(rego::RegoCheck),
    Runtime(runtime::RuntimeCheck),
}

/// What evaluating a rule gave: its findings, or why it could not be evaluated.
pub type Evaluation = Result<Vec<Finding>, String>;

impl Check {
    pub const KINDS: [&'static str; 11] = [
        "base_image",
        "packages",
        "licenses",
        "config",
        "files",
        "file_content",
        "secrets",
        "history",
        "vulnerabilities",
        "rego",
        "runtime",
    ];

    /// Compiles the one kind the rule has; `Err(None)` when it has none or several.
    pub fn compile(rule: &RuleFile, origin: &Origin) -> Result<Check, Option<PolicyError>> {
        let present = [
            rule.base_image.is_some(),
            rule.packages.is_some(),
            rule.licenses.is_some(),
            rule.config.is_some(),
            rule.files.is_some(),
            rule.file_content.is_some(),
            rule.secrets.is_some(),
            rule.history.is_some(),
            rule.vulnerabilities.is_some(),
            rule.rego.is_some(),
            rule.runtime.is_some(),
        ];
        if present.iter().filter(|p| **p).count() != 1 {
            return Err(None);
        }
        let id = rule.id.as_str();
        Ok(if let Some(b) = &rule.base_image {
            Check::BaseImage(base_image::BaseImageCheck::compile(b, origin)?)
        } else if let Some(p) = &rule.packages {
            Check::Packages(packages::PackagesCheck::compile(p, origin)?)
        } else if let Some(l) = &rule.licenses {
            Check::Licenses(licenses::LicensesCheck::compile(l, origin)?)
        } else if let Some(c) = &rule.config {
            Check::Config(config::ConfigCheck::compile(c, origin)?)
        } else if let Some(f) = &rule.files {
            Check::Files(files::FilesCheck::compile(f, origin)?)
        } else if let Some(f) = &rule.file_content {
            Check::FileContent(file_content::FileContentCheck::compile(f, origin)?)
        } else if let Some(s) = &rule.secrets {
            Check::Secrets(secrets::SecretsCheck::compile(s, origin)?)
        } else if let Some(h) = &rule.history {
            Check::History(history::HistoryCheck::compile(h, origin)?)
        } else if let Some(v) = &rule.vulnerabilities {
            Check::Vulnerabilities(vulnerabilities::VulnerabilitiesCheck::compile(v, origin)?)
        } else if let Some(r) = &rule.rego {
            Check::Rego(rego::RegoCheck::compile(id, r, origin)?)
        } else if let Some(r) = &rule.runtime {
            Check::Runtime(runtime::RuntimeCheck::compile(r, origin)?)
        } else {
            return Err(None);
        })
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Check::BaseImage(_) => "base_image",
            Check::Packages(_) => "packages",
            Check::Licenses(_) => "licenses",
            Check::Config(_) => "config",
            Check::Files(_) => "files",
            Check::FileContent(_) => "file_content",
            Check::Secrets(_) => "secrets",
            Check::History(_) => "history",
            Check::Vulnerabilities(_) => "vulnerabilities",
            Check::Rego(_) => "rego",
            Check::Runtime(_) => "runtime",
        }
    }

    /// `excepted` tells whether an active exception of this rule covers a finding with these keys
    /// (rules that count findings leave excepted ones out of the count).
    pub fn evaluate(&self, input: &Input, excepted: &dyn Fn(&[String]) -> bool) -> Evaluation {
        match self {
            Check::BaseImage(c) => Ok(c.evaluate(input)),
            Check::Packages(c) => Ok(c.evaluate(input)),
            Check::Licenses(c) => Ok(c.evaluate(input)),
            Check::Config(c) => Ok(c.evaluate(input)),
            Check::Files(c) => match input.files {
                Some(files) => Ok(c.evaluate(input, files)),
                None => Err("the image's files were not read: it was judged from its SBOM".into()),
            },
            Check::FileContent(c) => match input.files {
                Some(files) => c.evaluate(input, files),
                None => Err("the image's files were not read: it was judged from its SBOM".into()),
            },
            Check::Secrets(c) => Ok(c.evaluate(input)),
            Check::History(c) => c.evaluate(input),
            Check::Vulnerabilities(c) => c.evaluate(input, excepted),
            Check::Rego(c) => c.evaluate(input),
            Check::Runtime(_) => Err(runtime::NOT_AT_BUILD.into()),
        }
    }
}

/// A glob over purls without version (`pkg:deb/debian/openssl`, `pkg:npm/@babel/*`).
#[derive(Debug)]
pub struct PurlPattern {
    pub text: String,
    matcher: globset::GlobMatcher,
}

impl PurlPattern {
    pub fn compile(text: &Spanned<String>, origin: &Origin) -> Result<PurlPattern, PolicyError> {
        let trimmed = text.trim();
        let Some(rest) = trimmed.strip_prefix("pkg:") else {
            return Err(origin.at(
                text,
                format!("`{trimmed}` is not a purl pattern (it must start with `pkg:`)"),
            ));
        };
        if !rest.contains('/') || trimmed.contains(['@', '?', '#']) {
            return Err(origin.at(
                text,
                format!(
                    "`{trimmed}` must be `pkg:TYPE/[NAMESPACE/]NAME`, without version or qualifiers"
                ),
            ));
        }
        let decoded = crate::purl::purl_base(trimmed);
        let matcher = globset::Glob::new(&decoded)
            .map_err(|e| origin.at(text, format!("bad purl pattern `{trimmed}`: {e}")))?
            .compile_matcher();
        Ok(PurlPattern {
            text: trimmed.to_string(),
            matcher,
        })
    }

    /// The purl type the pattern names (`deb`), when it is not a wildcard.
    pub fn purl_type(&self) -> Option<&str> {
        let t = crate::purl::purl_type(&self.text)?;
        (!t.contains(['*', '?', '[', '{'])).then_some(t)
    }

    pub fn matches(&self, component: &Component) -> bool {
        self.matcher.is_match(component.purl_base())
    }
}

/// A glob over image paths, written from the root (`/root/.ssh/**` or `**/*.pem`).
#[derive(Debug)]
pub struct PathPattern {
    pub text: String,
    pub glob: globset::Glob,
    pub matcher: globset::GlobMatcher,
}

impl PathPattern {
    pub fn compile(text: &Spanned<String>, origin: &Origin) -> Result<PathPattern, PolicyError> {
        let relative = text.trim().trim_start_matches('/');
        if relative.is_empty() {
            return Err(origin.at(text, "an empty path pattern"));
        }
        let glob = globset::GlobBuilder::new(relative)
            .literal_separator(true)
            .build()
            .map_err(|e| origin.at(text, format!("bad path pattern `{}`: {e}", text.as_str())))?;
        Ok(PathPattern {
            text: text.to_string(),
            matcher: glob.compile_matcher(),
            glob,
        })
    }
}

/// A set of path patterns, matched against root-relative paths.
pub fn path_set(patterns: &[PathPattern]) -> globset::GlobSet {
    let mut builder = globset::GlobSetBuilder::new();
    for p in patterns {
        builder.add(p.glob.clone());
    }
    builder
        .build()
        .unwrap_or_else(|_| globset::GlobSet::empty())
}

/// Evidence about a component: its identity and the layer that brought it.
pub fn component_evidence(component: &Component, image: &ImageFacts) -> Evidence {
    Evidence {
        package: Some(component.name.clone()),
        version: Some(component.version.clone()),
        purl: Some(component.purl.clone()),
        path: component.path.clone(),
        layer: component
            .layer_index
            .and_then(|i| image.layer(i))
            .map(str::to_string),
        layer_index: component.layer_index,
        base_image_layer: component.layer_index.and_then(|i| image.in_base(i)),
        ..Default::default()
    }
}

/// Evidence about a file: its path and layer.
pub fn file_evidence(path: &str, layer_index: usize, image: &ImageFacts) -> Evidence {
    Evidence {
        path: Some(format!("/{path}")),
        layer: image.layer(layer_index).map(str::to_string),
        layer_index: Some(layer_index),
        base_image_layer: image.in_base(layer_index),
        ..Default::default()
    }
}
