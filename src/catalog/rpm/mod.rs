//! The rpm cataloger: Red Hat-family packages (RHEL, Fedora, CentOS, Rocky, Alma, Amazon Linux, SUSE)
//! from the rpm database in `var/lib/rpm` or `usr/lib/sysimage/rpm`, in each of its three formats,
//! told apart by their bytes: `rpmdb.sqlite` (rpm 4.16+; opened in memory with rusqlite's bundled
//! SQLite), Berkeley DB `Packages` (older releases; [`bdb`]) and NDB `Packages.db` (SUSE; [`ndb`]).
//! Nothing is written to disk. Each database record is an rpm header blob ([`header`]).
//!
//! `Requires` edges resolve to installed packages by name, through `Provides`, or through the files a
//! package owns (`/bin/sh`).

pub mod bdb;
pub mod header;
pub mod manifest;
pub mod ndb;

use super::relations::{self, Relations};
use super::sqlite;
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{FileIndex, IndexedEntry};
use crate::license::normalize;
use crate::package::{Distro, Evidence, Package};
use crate::purl::build_purl;
use header::Header;

pub const NAME: &str = "rpm";
pub const GLOBS: &[&str] = &[
    "var/lib/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
];

const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Os,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files, input.distro),
};

/// Finds every installed rpm package.
pub fn catalog(files: &FileIndex, distro: Option<&Distro>) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for entry in files.entries() {
        let p = entry.entry.path.as_str();
        if !GLOBS.contains(&p) {
            continue;
        }
        let Some(bytes) = entry.contents() else {
            continue;
        };
        let read = if bytes.starts_with(SQLITE_MAGIC) {
            sqlite_header_blobs(bytes)
        } else if ndb::is_ndb(bytes) {
            ndb::header_blobs(bytes)
        } else if bdb::is_bdb(bytes) {
            bdb::header_blobs(bytes)
        } else {
            Err("not an rpm database in any format rpm writes (SQLite, Berkeley DB, NDB)".into())
        };
        match read {
            Ok(read) => {
                let Blobs { blobs, warnings } = read;
                output
                    .warnings
                    .extend(warnings.into_iter().map(|w| format!("/{p}: {w}")));
                add_packages(&blobs, entry, distro, &mut output);
            }
            Err(e) => output
                .warnings
                .push(format!("/{p}: {e}; its packages are missing")),
        }
    }
    output
}

/// What a database held: every package's header blob, and problems with single records that did
/// not stop the read.
#[derive(Debug, Default)]
pub struct Blobs {
    pub blobs: Vec<Vec<u8>>,
    pub warnings: Vec<String>,
}

/// Reads every header blob from an rpmdb.sqlite held in memory.
fn sqlite_header_blobs(bytes: &[u8]) -> Result<Blobs, String> {
    let blobs =
        read_sqlite_blobs(bytes).map_err(|e| format!("cannot read the rpm database ({e})"))?;
    Ok(Blobs {
        blobs,
        warnings: Vec::new(),
    })
}

/// The most header bytes read from one database.
const SQLITE_BLOB_BYTES: usize = 256 * 1024 * 1024;

/// `Packages` must be a real table (see [`sqlite::open_untrusted`] for how the database is
/// opened), and the read is bounded in total bytes.
fn read_sqlite_blobs(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let text = |e: rusqlite::Error| e.to_string();
    let connection = sqlite::open_untrusted(bytes)?;
    sqlite::require_table(&connection, "Packages")?;
    let mut statement = connection
        .prepare("SELECT blob FROM Packages")
        .map_err(text)?;
    let mut rows = statement.query([]).map_err(text)?;
    let mut blobs = Vec::new();
    let mut total = 0usize;
    while let Some(row) = rows.next().map_err(sqlite::read_error)? {
        let blob: Vec<u8> = row.get(0).map_err(text)?;
        total += blob.len();
        if total > SQLITE_BLOB_BYTES {
            return Err(format!("its headers exceed {SQLITE_BLOB_BYTES} bytes"));
        }
        blobs.push(blob);
    }
    Ok(blobs)
}

/// Where the image's rpm purls live: `pkg:rpm/NAMESPACE/...?distro=QUALIFIER`.
pub struct Purls {
    namespace: String,
    distro_qualifier: Option<String>,
}

impl Purls {
    /// The namespace is the os-release `ID` (`redhat` for RHEL, and when none is known).
    pub fn of(distro: Option<&Distro>) -> Purls {
        let namespace = match distro.map(|d| d.id.as_str()) {
            Some("rhel") | None => "redhat",
            Some(id) => id,
        };
        Purls {
            namespace: namespace.to_string(),
            distro_qualifier: distro.map(Distro::purl_qualifier),
        }
    }
}

/// One installed rpm, as a database header or a manifest line states it.
pub struct Installed<'a> {
    pub name: &'a str,
    pub version: &'a str,
    /// Empty when unknown.
    pub release: String,
    pub epoch: Option<u32>,
    pub arch: Option<String>,
    pub source_rpm: Option<String>,
    pub vendor: Option<String>,
    pub license: Option<String>,
}

impl Installed<'_> {
    /// The package: `pkg:rpm/NAMESPACE/NAME@VERSION-RELEASE?arch=..&epoch=..&distro=..`, shown as
    /// `[EPOCH:]VERSION-RELEASE`, found by `cataloger` in the file `evidence` names.
    pub fn package(
        self,
        purls: &Purls,
        evidence: Evidence,
        cataloger: &'static str,
    ) -> Result<Package, String> {
        let purl_version = if self.release.is_empty() {
            self.version.to_string()
        } else {
            format!("{}-{}", self.version, self.release)
        };
        let epoch_text = self.epoch.map(|e| e.to_string());
        let mut qualifiers: Vec<(&str, &str)> = Vec::new();
        if let Some(a) = &self.arch {
            qualifiers.push(("arch", a));
        }
        if let Some(e) = &epoch_text {
            qualifiers.push(("epoch", e));
        }
        if let Some(d) = &purls.distro_qualifier {
            qualifiers.push(("distro", d));
        }
        let purl = build_purl(
            "rpm",
            Some(&purls.namespace),
            self.name,
            &purl_version,
            &qualifiers,
        )?;
        let mut properties = Vec::new();
        for (value, key) in [(self.source_rpm, "sourceRpm"), (self.vendor, "vendor")] {
            if let Some(v) = value {
                properties.push((format!("vouch:rpm:{key}").into(), v));
            }
        }
        if let Some(a) = self.arch {
            properties.push(("vouch:rpm:architecture".into(), a));
        }
        Ok(Package {
            name: self.name.to_string(),
            version: match epoch_text {
                Some(e) => format!("{e}:{purl_version}"),
                None => purl_version,
            },
            purl_type: "rpm",
            purl,
            cpe: None,
            licenses: self
                .license
                .as_deref()
                .and_then(normalize)
                .into_iter()
                .collect(),
            evidence,
            cataloger,
            properties,
        })
    }
}

fn add_packages(
    blobs: &[Vec<u8>],
    entry: &IndexedEntry,
    distro: Option<&Distro>,
    output: &mut CatalogOutput,
) {
    let db_path = &entry.entry.path;
    let purls = Purls::of(distro);
    let mut relations_list = Vec::new();
    for (row, blob) in blobs.iter().enumerate() {
        let header = match Header::parse(blob) {
            Ok(h) => h,
            Err(e) => {
                output
                    .warnings
                    .push(format!("/{db_path}: package row {}: {e}; skipped", row + 1));
                continue;
            }
        };
        let (Some(name), Some(version)) =
            (header.string(header::NAME), header.string(header::VERSION))
        else {
            output.warnings.push(format!(
                "/{db_path}: package row {} has no name or version; skipped",
                row + 1
            ));
            continue;
        };
        if name == "gpg-pubkey" {
            continue; // imported signing keys, not software
        }
        let installed = Installed {
            name: &name,
            version: &version,
            release: header.string(header::RELEASE).unwrap_or_default(),
            epoch: header.int32(header::EPOCH),
            arch: header.string(header::ARCH).filter(|a| !a.is_empty()),
            source_rpm: header.string(header::SOURCERPM),
            vendor: header.string(header::VENDOR),
            license: header.string(header::LICENSE),
        };
        let arch = installed.arch.clone();
        let evidence = Evidence {
            path: db_path.as_str().into(),
            layer_index: entry.layer_index,
        };
        match installed.package(&purls, evidence, NAME) {
            Ok(package) => output.packages.push(package),
            Err(e) => {
                output.warnings.push(format!("/{db_path}: {e}; skipped"));
                continue;
            }
        }
        let mut provides = header.string_array(header::PROVIDENAME);
        let paths = header.file_paths();
        let index = output.packages.len() - 1;
        output
            .owned_files
            .extend(paths.iter().map(|p| (p.clone(), index)));
        provides.extend(paths);
        relations_list.push(Relations {
            name,
            arch,
            depends: header
                .string_array(header::REQUIRENAME)
                .into_iter()
                .filter(|r| !r.starts_with("rpmlib("))
                .map(|r| vec![r])
                .collect(),
            provides,
        });
    }
    let offset = output.packages.len() - relations_list.len();
    output.dependencies.extend(
        relations::resolve(&relations_list)
            .into_iter()
            .map(|(a, b)| (a + offset, b + offset)),
    );
}
