//! Shared helpers for the integration tests: running the built binary, requiring a real Docker
//! engine, and building image archives byte by byte (legacy `docker save`, Docker 25+ and OCI
//! layouts) so that each layout and each kind of damage can be exercised exactly.
#![allow(dead_code)]

pub mod http;
pub mod keys;
pub mod osv;
pub mod registry;
pub mod rpmdb;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

/// The docker-vouch binary built by cargo for these tests.
pub fn vouch() -> Command {
    Command::new(env!("CARGO_BIN_EXE_docker-vouch"))
}

/// Runs docker-vouch with `args` in `cwd` and returns its output.
pub fn run_vouch(cwd: &Path, args: &[&str]) -> Output {
    vouch()
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("docker-vouch runs")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Fails the test unless a Docker engine answers: these tests need the real thing.
pub fn require_engine() {
    let ok = Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "no Docker engine answers: start one with `integration/engine.sh start` (make test does this)"
    );
}

/// Runs a docker CLI command and returns stdout, failing the test with its stderr otherwise.
pub fn docker(args: &[&str]) -> String {
    let out = Command::new("docker")
        .args(args)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .expect("docker CLI runs");
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The debootstrap Debian 12 root `integration/rootfs.sh` made (`VOUCH_DEBIAN_ROOTFS`).
pub fn debian_rootfs() -> std::path::PathBuf {
    let path = std::env::var("VOUCH_DEBIAN_ROOTFS").unwrap_or_default();
    assert!(
        !path.is_empty() && Path::new(&path).join("var/lib/dpkg/status").is_file(),
        "VOUCH_DEBIAN_ROOTFS must name a debootstrap Debian 12 root: run `integration/rootfs.sh` (make test does)"
    );
    std::path::PathBuf::from(path)
}

/// The debootstrap root imported into the engine with `CMD ["/bin/bash"]`; returns its tag. One
/// image for every test process while the root is unchanged (its tag names the root's dpkg status
/// by size and time): each import is another full copy on the engine's vfs storage.
pub fn debian_image() -> String {
    static TAG: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TAG.get_or_init(|| {
        require_engine();
        let root = debian_rootfs();
        let status =
            std::fs::metadata(root.join("var/lib/dpkg/status")).expect("the root's status");
        let modified = status
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let tag = format!("vouch-test/debian-base:{}-{modified}", status.len());
        let present = Command::new("docker")
            .args(["image", "inspect", &tag])
            .output()
            .is_ok_and(|o| o.status.success());
        if present {
            return tag;
        }
        import_dir_with(&root, &tag, &["-c", "CMD [\"/bin/bash\"]"])
    })
    .clone()
}

/// Builds `dockerfile` (with `files` in its context) on the engine's legacy builder as `tag`.
pub fn build_image(tag: &str, dockerfile: &str, files: &[(&str, &[u8])]) -> String {
    let context = build_context(dockerfile, files);
    docker(&[
        "build",
        "-q",
        "-t",
        tag,
        &context.path().display().to_string(),
    ]);
    tag.to_string()
}

/// A build context: `dockerfile` as its Dockerfile, and `files`.
fn build_context(dockerfile: &str, files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let context = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(context.path().join("Dockerfile"), dockerfile).expect("Dockerfile written");
    for (name, body) in files {
        let path = context.path().join(name);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
        std::fs::write(path, body).expect("context file written");
    }
    context
}

/// Builds `dockerfile` (with `files` in its context) with BuildKit (`docker buildx build --load`,
/// the buildx of `$VOUCH_BUILDX_CONFIG` that `integration/buildx.sh` fetches), on the host's
/// network (the test engine has no bridge), as `tag`.
pub fn buildkit_image(tag: &str, dockerfile: &str, files: &[(&str, &[u8])]) -> String {
    require_engine();
    let buildx = Path::new(&std::env::var("VOUCH_BUILDX_CONFIG").unwrap_or_default())
        .join("cli-plugins/docker-buildx");
    assert!(
        buildx.is_file(),
        "VOUCH_BUILDX_CONFIG must name a docker config directory with cli-plugins/docker-buildx: run `integration/buildx.sh` (make test does)"
    );
    let context = build_context(dockerfile, files);
    // A docker config of this build's own, holding only the plugin (kept out of the context).
    let config = context.path().join(".docker");
    std::fs::create_dir_all(config.join("cli-plugins")).expect("directories");
    std::os::unix::fs::symlink(&buildx, config.join("cli-plugins/docker-buildx"))
        .expect("the plugin linked");
    std::fs::write(context.path().join(".dockerignore"), ".docker\n").expect("written");
    let out = Command::new("docker")
        .args([
            "buildx",
            "build",
            "-q",
            "--load",
            "--network",
            "host",
            "-t",
            tag,
        ])
        .arg(context.path())
        .env("DOCKER_CONFIG", &config)
        .output()
        .expect("docker CLI runs");
    assert!(
        out.status.success(),
        "docker buildx build failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tag.to_string()
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The parsed SBOM's package components as (name, version, purl, layer index, path).
pub fn packages(sbom: &Value) -> Vec<(String, String, String, usize, String)> {
    let mut out: Vec<_> = sbom["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["type"] == "library")
        .map(|c| {
            let prop = |name: &str| {
                c["properties"]
                    .as_array()
                    .and_then(|ps| ps.iter().find(|p| p["name"] == name))
                    .and_then(|p| p["value"].as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c["version"].as_str().unwrap_or_default().to_string(),
                c["purl"].as_str().unwrap_or_default().to_string(),
                prop("vouch:layerIndex").parse().unwrap_or(usize::MAX),
                prop("vouch:path"),
            )
        })
        .collect();
    out.sort();
    out
}

/// The value of the property `name` of an SBOM component.
pub fn component_property(component: &Value, name: &str) -> Option<String> {
    component["properties"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == name)
        .and_then(|p| p["value"].as_str())
        .map(str::to_string)
}

/// A property of `metadata.component`.
pub fn image_properties(sbom: &Value, name: &str) -> Vec<String> {
    sbom["metadata"]["component"]["properties"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .filter(|p| p["name"] == name)
                .filter_map(|p| p["value"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Layer and archive builders
// ---------------------------------------------------------------------------------------------

/// Builds a layer tar entry by entry. Names are written raw into the header so that hostile names
/// (`../x`, `/abs`) can be produced, which the tar crate's safe setters refuse.
#[derive(Default)]
pub struct Layer {
    tar: Vec<u8>,
}

impl Layer {
    pub fn new() -> Self {
        Layer::default()
    }

    fn entry(mut self, name: &str, kind: tar::EntryType, body: &[u8], link: Option<&str>) -> Self {
        let mut header = tar::Header::new_gnu();
        {
            let bytes = header.as_mut_bytes();
            assert!(name.len() < 100, "test names stay under 100 bytes");
            bytes[..name.len()].copy_from_slice(name.as_bytes());
        }
        header.set_entry_type(kind);
        header.set_size(body.len() as u64);
        header.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        header.set_mtime(1_700_000_000);
        if let Some(target) = link {
            header.set_link_name(target).expect("link name");
        }
        header.set_cksum();
        self.tar.extend_from_slice(header.as_bytes());
        self.tar.extend_from_slice(body);
        let pad = (512 - body.len() % 512) % 512;
        self.tar.extend(std::iter::repeat_n(0u8, pad));
        self
    }

    pub fn file(self, name: &str, body: &str) -> Self {
        self.entry(name, tar::EntryType::Regular, body.as_bytes(), None)
    }

    pub fn file_bytes(self, name: &str, body: &[u8]) -> Self {
        self.entry(name, tar::EntryType::Regular, body, None)
    }

    pub fn dir(self, name: &str) -> Self {
        self.entry(name, tar::EntryType::Directory, b"", None)
    }

    pub fn symlink(self, name: &str, target: &str) -> Self {
        self.entry(name, tar::EntryType::Symlink, b"", Some(target))
    }

    pub fn hardlink(self, name: &str, target: &str) -> Self {
        self.entry(name, tar::EntryType::Link, b"", Some(target))
    }

    /// A GNU long-name entry (`././@LongLink`, type `L`) declaring and holding `size` bytes.
    pub fn gnu_long_name(mut self, size: usize) -> Self {
        let mut header = tar::Header::new_gnu();
        header.as_mut_bytes()[..13].copy_from_slice(b"././@LongLink");
        header.set_entry_type(tar::EntryType::GNULongName);
        header.set_size(size as u64);
        header.set_mode(0o644);
        header.set_cksum();
        self.tar.extend_from_slice(header.as_bytes());
        self.tar
            .resize(self.tar.len() + size.div_ceil(512) * 512, b'a');
        self
    }

    /// A whiteout deleting `path` from lower layers.
    pub fn whiteout(self, path: &str) -> Self {
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (format!("{d}/"), n),
            None => (String::new(), path),
        };
        self.file(&format!("{dir}.wh.{name}"), "")
    }

    /// An opaque marker hiding lower-layer contents of `dir`.
    pub fn opaque(self, dir: &str) -> Self {
        self.file(&format!("{dir}/.wh..wh..opq"), "")
    }

    /// The finished tar (two zero blocks at the end).
    pub fn bytes(&self) -> Vec<u8> {
        let mut tar = self.tar.clone();
        tar.extend(std::iter::repeat_n(0u8, 1024));
        tar
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

pub fn compress(tar: &[u8], compression: Compression) -> Vec<u8> {
    match compression {
        Compression::None => tar.to_vec(),
        Compression::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(tar).unwrap();
            gz.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(tar, 3).unwrap(),
    }
}

/// An image made of layer tars and a runtime config, writable in every supported layout.
pub struct TestImage {
    pub layers: Vec<Vec<u8>>,
    pub runtime_config: Value,
    /// Overrides the diffIDs written to the config (to simulate tampering).
    pub diff_ids_override: Option<Vec<String>>,
    /// The config's (and the OCI index entry's) architecture; `amd64` unless set.
    pub architecture: String,
}

impl TestImage {
    pub fn new(layers: Vec<Vec<u8>>) -> Self {
        TestImage {
            layers,
            runtime_config: json!({"User": "1000", "Cmd": ["/bin/app"], "Labels": {"org.example.team": "core"}, "ExposedPorts": {"8080/tcp": {}}}),
            diff_ids_override: None,
            architecture: "amd64".into(),
        }
    }

    pub fn config_bytes(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self
            .diff_ids_override
            .clone()
            .unwrap_or_else(|| self.layers.iter().map(|l| sha256(l)).collect());
        serde_json::to_vec(&json!({
            "architecture": self.architecture,
            "os": "linux",
            "config": self.runtime_config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": [],
        }))
        .unwrap()
    }

    /// The legacy `docker save` layout: `<id>/layer.tar`, `<config>.json`, `manifest.json` last.
    pub fn docker_archive(&self, tag: &str) -> Vec<u8> {
        let config = self.config_bytes();
        let config_name = format!("{}.json", &sha256(&config)[7..]);
        let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
        let mut layer_paths = Vec::new();
        for layer in &self.layers {
            let path = format!("{}/layer.tar", &sha256(layer)[7..]);
            entries.push((path.clone(), layer.clone()));
            layer_paths.push(path);
        }
        entries.push((config_name.clone(), config));
        let manifest = json!([{"Config": config_name, "RepoTags": [tag], "Layers": layer_paths}]);
        entries.push((
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ));
        tar_of(&entries)
    }

    /// The layout Docker 25+ writes: OCI blobs plus a `manifest.json` pointing into them.
    pub fn docker25_archive(&self, tag: &str) -> Vec<u8> {
        let (mut entries, manifest_digest) = self.oci_entries(Compression::None, tag);
        let config_digest = sha256(&self.config_bytes());
        let layers: Vec<String> = self
            .layers
            .iter()
            .map(|l| format!("blobs/sha256/{}", &sha256(l)[7..]))
            .collect();
        let manifest = json!([{"Config": format!("blobs/sha256/{}", &config_digest[7..]), "RepoTags": [tag], "Layers": layers}]);
        entries.push((
            "manifest.json".into(),
            serde_json::to_vec(&manifest).unwrap(),
        ));
        let _ = manifest_digest;
        tar_of(&entries)
    }

    /// OCI image layout files: `oci-layout`, `index.json`, `blobs/sha256/*`; returns them and the
    /// manifest digest.
    pub fn oci_entries(
        &self,
        compression: Compression,
        tag: &str,
    ) -> (Vec<(String, Vec<u8>)>, String) {
        let config = self.config_bytes();
        let mut entries = vec![(
            "oci-layout".to_string(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        )];
        let media = match compression {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        };
        let mut layer_descriptors = Vec::new();
        for layer in &self.layers {
            let blob = compress(layer, compression);
            let digest = sha256(&blob);
            layer_descriptors
                .push(json!({"mediaType": media, "digest": digest, "size": blob.len()}));
            entries.push((format!("blobs/sha256/{}", &digest[7..]), blob));
        }
        let config_digest = sha256(&config);
        entries.push((
            format!("blobs/sha256/{}", &config_digest[7..]),
            config.clone(),
        ));
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": layer_descriptors,
        }))
        .unwrap();
        let manifest_digest = sha256(&manifest);
        entries.push((
            format!("blobs/sha256/{}", &manifest_digest[7..]),
            manifest.clone(),
        ));
        let index = json!({
            "schemaVersion": 2,
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": manifest_digest,
                "size": manifest.len(),
                "annotations": {"io.containerd.image.name": tag, "org.opencontainers.image.ref.name": "latest"},
                "platform": {"os": "linux", "architecture": self.architecture},
            }],
        });
        entries.push(("index.json".into(), serde_json::to_vec(&index).unwrap()));
        (entries, manifest_digest)
    }

    pub fn oci_archive(&self, compression: Compression, tag: &str) -> Vec<u8> {
        tar_of(&self.oci_entries(compression, tag).0)
    }

    pub fn write_oci_dir(&self, dir: &Path, compression: Compression, tag: &str) -> String {
        let (entries, digest) = self.oci_entries(compression, tag);
        for (path, bytes) in entries {
            let target = dir.join(path);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(target, bytes).unwrap();
        }
        digest
    }
}

/// A plain tar of (path, bytes) regular files.
pub fn tar_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder.append_data(&mut header, path, &bytes[..]).unwrap();
    }
    builder.into_inner().unwrap()
}

pub const OS_RELEASE: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nID=debian\n";

/// A dpkg status paragraph for an installed package.
pub fn dpkg_paragraph(name: &str, version: &str) -> String {
    format!("Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {version}\nDescription: test package {name}\n\n")
}

/// Validates an SBOM against the pinned official CycloneDX 1.5 schema with Python's jsonschema
/// (`integration/validate_cyclonedx.py`), and returns it parsed.
pub fn valid_cyclonedx(bytes: &[u8]) -> Value {
    use std::process::Stdio;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/integration/validate_cyclonedx.py"
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the schema validator (make deps installs jsonschema)");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the SBOM does not validate against the CycloneDX 1.5 schema:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(bytes).expect("the SBOM is JSON")
}

/// Validates a JSON or YAML document against `schemas/<schema>` with Python's jsonschema
/// (`integration/validate_schema.py`); `suffix` tells it which of the two the document is.
pub fn validate_schema(schema: &str, document: &[u8], suffix: &str) {
    let file = tempfile::Builder::new()
        .suffix(suffix)
        .tempfile()
        .expect("a temporary file");
    std::fs::write(file.path(), document).expect("the document is written");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/validate_schema.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(schema)
        .arg(file.path())
        .output()
        .expect("python3 runs (make deps installs jsonschema and PyYAML)");
    assert!(
        out.status.success(),
        "not valid against {schema}: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(document)
    );
}

/// A fresh temporary directory holding `bytes` as `img.tar`.
pub fn dir_with_archive(bytes: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::write(dir.path().join("img.tar"), bytes).expect("the archive is written");
    dir
}

/// `docker import`s a directory as an image tagged `tag` (output captured, failure fails the test).
pub fn import_dir(root: &Path, tag: &str) -> String {
    import_dir_with(root, tag, &[])
}

/// `docker import` with extra arguments (`-c INSTRUCTION`).
pub fn import_dir_with(root: &Path, tag: &str, args: &[&str]) -> String {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(root)
        .args(["-c", "."])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("tar runs");
    let out = Command::new("docker")
        .arg("import")
        .args(args)
        .args(["-", tag])
        .stdin(tar.stdout.take().expect("tar's output"))
        .output()
        .expect("docker runs");
    assert!(
        tar.wait().is_ok_and(|s| s.success()),
        "tar -C {}",
        root.display()
    );
    assert!(
        out.status.success(),
        "docker import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    tag.to_string()
}

/// A zip of stored (uncompressed) entries with sizes in the local headers, as `jar -0` writes them.
pub fn stored_zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, body) in entries {
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&10u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&0u16.to_le_bytes()); // stored
        out.extend_from_slice(&[0; 4]); // time, date
        out.extend_from_slice(&crc32fast_free(body).to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(body);
    }
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes()); // the central directory starts
    out
}

/// CRC-32 (IEEE), bit by bit: test archives are tiny.
fn crc32fast_free(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The SBOM of an engine image: the command must succeed and its document validate against the
/// CycloneDX schema. Returns the document and what the command printed on stderr (its warnings).
pub fn sbom_of_image(tag: &str) -> (Value, String) {
    let out = run_vouch(&std::env::temp_dir(), &["sbom", tag]);
    assert!(out.status.success(), "sbom {tag}: {}", stderr(&out));
    (valid_cyclonedx(&out.stdout), stderr(&out))
}

/// A purl's package name: its last path segment, without the version.
pub fn purl_name(purl: &str) -> String {
    let without_version = purl.split('@').next().unwrap_or(purl);
    without_version
        .rsplit('/')
        .next()
        .unwrap_or(without_version)
        .to_string()
}

/// The package names (last purl path segment) that the component whose bom-ref starts with `prefix`
/// depends on, sorted.
pub fn depends_on(sbom: &Value, prefix: &str) -> Vec<String> {
    let entry = sbom["dependencies"]
        .as_array()
        .expect("a dependencies section")
        .iter()
        .find(|d| d["ref"].as_str().is_some_and(|r| r.starts_with(prefix)))
        .unwrap_or_else(|| panic!("a dependencies entry for {prefix}"));
    let mut names: Vec<String> = entry["dependsOn"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r.as_str()).map(purl_name).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// A stock Ubuntu 24.04 root made by debootstrap (`integration/ubuntu-rootfs.sh`, cached after the
/// first run).
pub fn ubuntu_root() -> std::path::PathBuf {
    root_from_script("ubuntu-rootfs.sh", &[], "Ubuntu's mirror")
}

/// A Debian 12 root with `packages`, as debootstrap and apt lay them out (`integration/rootfs.sh`,
/// cached after the first run).
pub fn debian_root_with(name: &str, packages: &str) -> std::path::PathBuf {
    root_from_script("rootfs.sh", &[name, packages], "Debian's mirror")
}

/// Runs one of the `integration/*rootfs.sh` scripts, which print the root they made or found.
fn root_from_script(script: &str, args: &[&str], mirror: &str) -> std::path::PathBuf {
    let out = Command::new(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("integration")
            .join(script),
    )
    .args(args)
    .output()
    .unwrap_or_else(|e| panic!("integration/{script} runs: {e}"));
    assert!(
        out.status.success(),
        "integration/{script} {args:?} (needs root, debootstrap and {mirror}): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A self-signed certificate for 127.0.0.1 made by openssl: `NAME.crt` and `NAME.key` in `dir`.
pub fn self_signed(dir: &Path, name: &str) {
    let openssl = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            &format!("/CN=vouch-webhook-{name}"),
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.crt"),
        ])
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(openssl.status.success(), "openssl: {}", stderr(&openssl));
}

/// The .deb files of Debian 12 `packages`, fetched (not installed) by `integration/debs.sh` and
/// cached: package name → path.
pub fn debian_debs(packages: &[&str]) -> std::collections::HashMap<String, std::path::PathBuf> {
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/debs.sh"))
        .args(packages)
        .output()
        .expect("integration/debs.sh runs");
    assert!(
        out.status.success(),
        "integration/debs.sh (needs Debian's mirror): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(p, d)| (p.to_string(), std::path::PathBuf::from(d)))
        .collect()
}

/// Unpacks the .deb files of Debian 12 `packages` into `root` with `dpkg-deb -x`: their files as
/// the packages lay them out, without a dpkg database.
pub fn unpack_debs(packages: &[&str], root: &Path) {
    for deb in debian_debs(packages).values() {
        let out = Command::new("dpkg-deb")
            .arg("-x")
            .arg(deb)
            .arg(root)
            .output()
            .expect("dpkg-deb runs");
        assert!(
            out.status.success(),
            "dpkg-deb -x {}: {}",
            deb.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A peer tool installed by `integration/peers.sh` (run by `integration/deps.sh`): `syft` or
/// `trivy`, or the path in `VOUCH_SYFT` / `VOUCH_TRIVY`.
#[allow(dead_code)]
pub fn peer(name: &str) -> String {
    let candidates = [
        std::env::var(format!("VOUCH_{}", name.to_uppercase())).unwrap_or_default(),
        format!(
            "{}/.cache/vouch-peers/bin/{name}",
            std::env::var("HOME").unwrap_or_default()
        ),
    ];
    candidates
        .into_iter()
        .find(|c| !c.is_empty() && Path::new(c).is_file())
        .unwrap_or_else(|| {
            panic!(
                "{name} not found: run integration/peers.sh (integration/deps.sh does) or set VOUCH_{}",
                name.to_uppercase()
            )
        })
}

/// What Syft finds in the engine image `tag` (saved as an archive in `work`), as its JSON (the
/// `artifacts` with `foundBy`, `name`, `version`, `purl`).
#[allow(dead_code)]
pub fn syft_json(work: &Path, tag: &str) -> Value {
    let archive = work.join("syft.tar");
    docker(&["save", "-o", &archive.display().to_string(), tag]);
    let out = Command::new(peer("syft"))
        .arg(format!("docker-archive:{}", archive.display()))
        .args(["-o", "json", "-q"])
        .output()
        .expect("syft runs");
    assert!(out.status.success(), "syft: {}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("Syft's JSON")
}

/// Validates a SARIF log twice, independently of vouch: against the SARIF 2.1.0 JSON schema with
/// Python's jsonschema, and with Microsoft's SARIF multitool (`integration/sarif_multitool.sh`, the
/// SDK's validator: the schema and the SARIF rules). Returns the multitool's warnings (`SARIFnnnn:
/// message` lines); an error of either fails.
#[allow(dead_code)]
pub fn validate_sarif(document: &[u8]) -> Vec<String> {
    let out =
        Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("integration/sarif_multitool.sh"))
            .output()
            .expect("integration/sarif_multitool.sh runs");
    assert!(
        out.status.success(),
        "sarif_multitool.sh (needs npm): {}",
        stderr(&out)
    );
    let tool = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string());
    let schema = tool
        .parent()
        .expect("the package directory")
        .join("sarif-2.1.0.json");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = dir.path().join("vouch.sarif");
    std::fs::write(&log, document).expect("the log is written");
    validate_draft7(&schema, &log, "the SARIF 2.1.0 schema");
    let validated = Command::new(&tool)
        .arg("validate")
        .arg(&log)
        .output()
        .expect("the SARIF multitool runs");
    let said = String::from_utf8_lossy(&validated.stdout).to_string();
    assert!(
        validated.status.success() && said.contains("Analysis completed successfully"),
        "the SARIF multitool: {said}{}",
        stderr(&validated)
    );
    let errors: Vec<&str> = said.lines().filter(|l| l.contains(": error ")).collect();
    assert!(errors.is_empty(), "the SARIF multitool: {errors:?}");
    said.lines()
        .filter_map(|l| l.split_once(": warning ").map(|(_, w)| w.to_string()))
        .collect()
}

/// Validates a JUnit XML report against the Jenkins xUnit plugin's `junit-10.xsd` (from pytest's
/// source distribution, `integration/junit_schema.sh`) with lxml, and returns what
/// `integration/validate_junit.py` reads from it: per suite, its counts, properties and cases.
#[allow(dead_code)]
pub fn validate_junit(document: &[u8]) -> serde_json::Value {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join("integration/junit_schema.sh"))
        .output()
        .expect("integration/junit_schema.sh runs");
    assert!(
        out.status.success(),
        "junit_schema.sh (needs python3 and PyPI): {}",
        stderr(&out)
    );
    let schema = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("report.xml");
    std::fs::write(&report, document).expect("the report is written");
    let checked = Command::new("python3")
        .arg(root.join("integration/validate_junit.py"))
        .arg(&schema)
        .arg(&report)
        .output()
        .expect("python3 runs");
    assert!(
        checked.status.success(),
        "not valid against junit-10.xsd: {}\n{}",
        stderr(&checked),
        String::from_utf8_lossy(document)
    );
    serde_json::from_slice(&checked.stdout).expect("the validator's JSON")
}

/// Validates a GitLab container-scanning report with Python's jsonschema against
/// `tests/support/gitlab_container_scanning.schema.json` (the constraints of GitLab's schema
/// 15.2.1).
#[allow(dead_code)]
pub fn validate_gitlab(document: &[u8]) {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support/gitlab_container_scanning.schema.json");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let report = dir.path().join("gl-container-scanning-report.json");
    std::fs::write(&report, document).expect("the report is written");
    validate_draft7(&schema, &report, "GitLab's container-scanning schema");
}

/// Validates the JSON file `document` against the JSON Schema (draft 7) `schema` with Python's
/// jsonschema; fails the test, naming `what` and the errors, when it is not valid.
fn validate_draft7(schema: &Path, document: &Path, what: &str) {
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        jsonschema.Draft7Validator(schema).validate(json.load(open(sys.argv[2])))\n";
    let checked = Command::new("python3")
        .args(["-c", script])
        .arg(schema)
        .arg(document)
        .output()
        .expect("python3 runs");
    assert!(
        checked.status.success(),
        "not valid against {what}: {}\n{}",
        stderr(&checked),
        std::fs::read_to_string(document).unwrap_or_default()
    );
}

/// Serves the files under `root` over HTTP on a loopback port (GET only; 404 for what is not
/// there); returns the base URL.
pub fn serve_dir(root: std::path::PathBuf) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let n = std::io::Read::read(&mut stream, &mut request).unwrap_or(0);
            let line = String::from_utf8_lossy(&request[..n]).to_string();
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
            let file = root.join(path.trim_start_matches('/'));
            let reply = match (path.contains(".."), std::fs::read(&file)) {
                (false, Ok(body)) => {
                    let mut reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    reply.extend_from_slice(&body);
                    reply
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = std::io::Write::write_all(&mut stream, &reply);
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Runs a helper of `integration/` (with `program`, or itself); its stdout, the test failing with
/// `hint` and its stderr otherwise.
pub fn integration_helper(
    program: Option<&str>,
    script: &str,
    args: &[&Path],
    hint: &str,
) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("integration")
        .join(script);
    let mut command = match program {
        Some(program) => {
            let mut c = std::process::Command::new(program);
            c.arg(&path);
            c
        }
        None => std::process::Command::new(&path),
    };
    let out = command.args(args).output().expect("the helper runs");
    assert!(out.status.success(), "{script} ({hint}): {}", stderr(&out));
    out.stdout
}

/// The checks a `verify --format json` report failed: (name, detail).
#[allow(dead_code)]
pub fn failed_checks(report: &Value) -> Vec<(String, String)> {
    report["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["passed"] == false)
        .map(|c| {
            (
                c["name"].as_str().unwrap_or_default().to_string(),
                c["detail"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
