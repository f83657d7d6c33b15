//! Linux kernel modules (`*.ko` under `lib/modules/RELEASE/`, as kernel packages and out-of-tree
//! drivers such as NVIDIA's, ZFS or DKMS builds install them): the `.modinfo` section every module
//! carries, `key=value` strings as `modinfo` prints them (`name`, `version`, `license`, `author`,
//! `description`, `srcversion`, `vermagic`).
//!
//! The section headers lie at the end of the file, so a content probe holds the module (at most
//! [`MAX_MODULE`]; larger ones are not read) and keeps only `.modinfo` (at most 64 KiB). A module
//! is a component when its `vermagic` names the kernel it was built for: named by its `name`, at its
//! `version`, or (in-tree modules have none) at the kernel release it belongs to
//! (`vouch:kernel:moduleOf`). Purl `pkg:generic/linux-kernel-module/NAME@VERSION`; a module an OS
//! package owns is that package's.

use super::elf::Elf;
use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{path, FileIndex, Probe, ProbeScan};
use crate::license::normalize;
use crate::package::Package;
use crate::purl::build_purl;

pub const NAME: &str = "linux-kernel-module";
pub const PROBE: &str = "linux-kernel-modinfo";

/// The largest module read.
const MAX_MODULE: usize = 64 * 1024 * 1024;
/// The largest `.modinfo` kept.
const MAX_MODINFO: usize = 64 * 1024;

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: &[],
    probes: &[|| std::sync::Arc::new(ModinfoProbe)],
    catalog: |input| catalog(input.files, input.owners),
};

/// Reads the `.modinfo` of kernel modules.
pub struct ModinfoProbe;

impl Probe for ModinfoProbe {
    fn name(&self) -> &'static str {
        PROBE
    }

    fn accepts(&self, path: &str, size: u64, head: &[u8]) -> bool {
        path::file_name(path).ends_with(".ko")
            && size <= MAX_MODULE as u64
            && head.starts_with(b"\x7fELF")
    }

    fn start(&self, _path: &str) -> Box<dyn ProbeScan> {
        Box::new(ModinfoScan::default())
    }
}

#[derive(Default)]
struct ModinfoScan {
    bytes: Vec<u8>,
}

impl ProbeScan for ModinfoScan {
    fn feed(&mut self, chunk: &[u8]) -> bool {
        if self.bytes.len() + chunk.len() > MAX_MODULE {
            self.bytes.clear();
            return false;
        }
        self.bytes.extend_from_slice(chunk);
        true
    }

    fn finish(self: Box<Self>) -> Option<Vec<u8>> {
        let section = Elf::of(&self.bytes)?.section(".modinfo")?;
        (section.len() <= MAX_MODINFO).then(|| section.to_vec())
    }
}

/// The value of `key` in a `.modinfo` (the first, as `modinfo -F` prints it first).
fn field<'a>(modinfo: &'a str, key: &str) -> Option<&'a str> {
    modinfo
        .split('\0')
        .filter_map(|entry| entry.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// Every kernel module the probe read that no OS package owns.
pub fn catalog(files: &FileIndex, owned: &super::Owners) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for (entry, found) in files.findings(PROBE) {
        let path = &entry.entry.path;
        if owned.contains_key(path) {
            continue;
        }
        let modinfo = String::from_utf8_lossy(found);
        let Some(release) = field(&modinfo, "vermagic").and_then(|v| v.split_whitespace().next())
        else {
            continue;
        };
        let file_stem = path::file_name(path).trim_end_matches(".ko");
        let name = field(&modinfo, "name").unwrap_or(file_stem);
        let version = field(&modinfo, "version").unwrap_or(release);
        let Ok(purl) = build_purl("generic", Some(NAME), name, version, &[]) else {
            continue;
        };
        let mut properties = vec![("vouch:kernel:moduleOf".into(), release.to_string())];
        for key in ["srcversion", "author", "description"] {
            if let Some(v) = field(&modinfo, key) {
                properties.push((format!("vouch:kernel:{key}").into(), v.to_string()));
            }
        }
        output.packages.push(Package {
            name: name.to_string(),
            version: version.to_string(),
            purl_type: "generic",
            purl,
            cpe: None,
            licenses: field(&modinfo, "license")
                .and_then(module_license)
                .into_iter()
                .collect(),
            evidence: entry.evidence(),
            cataloger: NAME,
            properties,
        });
    }
    output
}

/// A module's license as SPDX, from the kernel's `MODULE_LICENSE` strings (`include/linux/module.h`:
/// `GPL` and `GPL v2` both mean GPL version 2; `Dual BSD/GPL`, `Dual MIT/GPL`, `Dual MPL/GPL`).
fn module_license(text: &str) -> Option<crate::license::License> {
    let spdx = match text {
        "GPL" | "GPL v2" => "GPL-2.0-only",
        "GPL and additional rights" => "GPL-2.0-only",
        "Dual BSD/GPL" => "BSD-3-Clause OR GPL-2.0-only",
        "Dual MIT/GPL" => "MIT OR GPL-2.0-only",
        "Dual MPL/GPL" => "MPL-1.1 OR GPL-2.0-only",
        other => return normalize(other),
    };
    normalize(spdx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_modinfo_fields() {
        let modinfo =
            "version=1.0.5.0-k\0license=GPL v2\0description=VMware Virtual Socket Family\0\
                       srcversion=ABC\0depends=vsock\0name=vmw_vsock_vmci_transport\0\
                       vermagic=6.1.0-57-cloud-amd64 SMP preempt mod_unload modversions \0";
        assert_eq!(field(modinfo, "version"), Some("1.0.5.0-k"));
        assert_eq!(field(modinfo, "name"), Some("vmw_vsock_vmci_transport"));
        assert_eq!(
            field(modinfo, "vermagic").and_then(|v| v.split_whitespace().next()),
            Some("6.1.0-57-cloud-amd64")
        );
        assert_eq!(field(modinfo, "author"), None);
        assert_eq!(
            module_license("Dual BSD/GPL")
                .map(|l| l.as_str().to_string())
                .as_deref(),
            Some("BSD-3-Clause OR GPL-2.0-only")
        );
    }
}
