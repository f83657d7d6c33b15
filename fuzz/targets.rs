//! The fuzz targets: each takes untrusted bytes the way vouch meets them and must neither panic,
//! hang nor run away with memory. Shared by the libFuzzer binaries (`fuzz/fuzz_targets/`, run by
//! `make fuzz` through `cargo fuzz`) and the CI smoke run (`tests/fuzz_smoke.rs`, a seeded
//! mutation loop). Seeds are real files of this machine (Debian's dpkg status, Python's and npm's
//! package metadata, Ruby gemspecs, jars, ELF binaries), laid out where their package managers put
//! them; see [`seeds`].

#![allow(dead_code)]

use std::io::Cursor;
use std::sync::OnceLock;
use vouch::layers::{read_layer, squash, Limits};

/// A fuzz target: untrusted bytes in, nothing out (a panic or a hang is the finding).
pub type Target = fn(&[u8]);

/// Every target, by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("layer", layer),
    ("catalog_file", catalog_file),
    ("index_walk", index_walk),
    ("admission", admission),
    ("envelope", envelope),
    ("keyless", keyless),
    ("osv_record", osv_record),
    ("osv_zip", osv_zip),
    ("vex", vex),
    ("scanner_report", scanner_report),
    ("policy", policy),
    ("image_config", image_config),
    ("private_key", private_key),
];

/// A layer tar (plain, gzip or zstd, as the layer pass meets them), through the layer pass, the
/// squash and every cataloger.
pub fn layer(data: &[u8]) {
    let wanted = vouch::catalog::wanted();
    let Ok((reader, _)) = vouch::layers::decompress::decompressed(Cursor::new(data)) else {
        return;
    };
    let mut buffered = Vec::new();
    // The decompressed stream is bounded here: a fuzz input must not make the harness itself
    // allocate without end.
    if std::io::Read::read_to_end(&mut std::io::Read::take(reader, 64 << 20), &mut buffered)
        .is_err()
    {
        return;
    }
    if let Ok(files) = read_layer(Cursor::new(buffered), &wanted, &Limits::default()) {
        let _ = vouch::catalog::catalog(&squash(vec![files]));
    }
}

/// Where each cataloger looks, for [`catalog_file`]: the first byte of an input picks one.
pub const CATALOGED_PATHS: &[&str] = &[
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/base",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/python3/dist-packages/pkg-1.0.dist-info/METADATA",
    "usr/lib/python3/dist-packages/pkg.egg-info/PKG-INFO",
    "app/node_modules/pkg/package.json",
    "var/lib/gems/3.1.0/specifications/pkg-1.0.gemspec",
    "app/vendor/composer/installed.json",
    "app/app.deps.json",
    "etc/os-release",
    "usr/bin/app",
    "app/app.jar",
];

/// One file at a cataloged path (chosen by the first byte), the rest of the input its content:
/// the parsers reached directly, without the tar framing in the way.
pub fn catalog_file(data: &[u8]) {
    let Some((&choice, content)) = data.split_first() else {
        return;
    };
    let path = CATALOGED_PATHS[choice as usize % CATALOGED_PATHS.len()];
    layer(&tar_of(&[(path, content)]));
}

/// The [`catalog_file`] input that puts `content` at `path` (one of [`CATALOGED_PATHS`]).
pub fn catalog_file_input(path: &str, content: &[u8]) -> Option<Vec<u8>> {
    let choice = CATALOGED_PATHS.iter().position(|p| *p == path)?;
    let mut input = vec![u8::try_from(choice).ok()?];
    input.extend_from_slice(content);
    Some(input)
}

/// A tar of regular files (for seeds and [`catalog_file`]).
pub fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, content) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(content.len() as u64);
        header.set_mode(0o755);
        header.set_entry_type(tar::EntryType::Regular);
        if builder.append_data(&mut header, path, *content).is_err() {
            return Vec::new();
        }
    }
    builder.into_inner().unwrap_or_default()
}

/// An image index (or manifest) as a registry or a layout serves it, walked and chosen from for
/// a few platforms; nested indexes are looked up among the JSON documents of the input's lines.
pub fn index_walk(data: &[u8]) {
    let documents: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    let digest = |bytes: &[u8]| {
        use sha2::Digest;
        format!("sha256:{:x}", sha2::Sha256::digest(bytes))
    };
    let store: std::collections::HashMap<String, Vec<u8>> =
        documents.iter().map(|d| (digest(d), d.to_vec())).collect();
    let root = documents[0];
    let Ok(tree) = vouch::oci::walk::walk::<std::convert::Infallible>(&digest(root), root, |d| {
        Ok(store.get(d).cloned())
    }) else {
        return;
    };
    for platform in [
        "linux/amd64",
        "linux/amd64/v3",
        "linux/arm64",
        "linux/arm/v6",
        "windows/amd64",
    ] {
        if let Ok(platform) = platform.parse() {
            let _ = tree.choose(&platform);
        }
    }
    let _ = tree.describe_platforms();
}

/// A file that may hold private keys (PEM blocks of every label, PuTTY keys), parsed whole and
/// through the layer pass's probe in uneven chunks.
pub fn private_key(data: &[u8]) {
    use vouch::layers::Probe;
    let _ = vouch::private_keys::describe(data);
    let mut scan = vouch::facts::PrivateKeyProbe.start("key");
    for chunk in data.chunks(997) {
        if !scan.feed(chunk) {
            break;
        }
    }
    let _ = scan.finish();
}

/// An AdmissionReview body as the API server (or anyone reaching the webhook) sends it.
pub fn admission(data: &[u8]) {
    let _ = vouch::serve::admission::parse_review(data);
}

/// A DSSE envelope (or a Sigstore bundle carrying one), parsed and checked against a key.
pub fn envelope(data: &[u8]) {
    static KEY: OnceLock<Vec<vouch::attest::keys::PublicKey>> = OnceLock::new();
    let keys = KEY.get_or_init(|| {
        let (_, public) = vouch::attest::keys::generate(b"").expect("a key pair");
        vec![
            vouch::attest::keys::PublicKey::from_pem(public.as_bytes(), "fuzz.pub")
                .expect("the public key"),
        ]
    });
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let envelope = value.get("dsseEnvelope").cloned().unwrap_or(value);
    if let Ok(envelope) = serde_json::from_value::<vouch::attest::dsse::Envelope>(envelope) {
        let _ = envelope.verify(keys);
        let _ = envelope.payload_bytes();
    }
}

/// Keyless material as a registry carries it, verified as `verify` does (against the embedded
/// public-good root): a JSON object of strings read as a cosign `.att` layer's annotations, else a
/// Sigstore bundle (media type, verification material, DSSE envelope) as a referrer carries it.
pub fn keyless(data: &[u8]) {
    use vouch::attest::set::{KeylessMaterial, Signed};
    static SIGNERS: OnceLock<vouch::verify::Signers> = OnceLock::new();
    let signers = SIGNERS.get_or_init(|| {
        let env = std::collections::HashMap::from([(
            "VOUCH_TRUST_DIR".to_string(),
            "/nonexistent/vouch-fuzz".to_string(),
        )]);
        vouch::verify::Signers {
            keys: Vec::new(),
            keyless: Some(vouch::verify::Keyless {
                signer: vouch::bundles::Signer::Identity {
                    identity: vouch::bundles::Claim::regex(".*").expect("a pattern"),
                    issuer: vouch::bundles::Claim::Exact("https://issuer.example".into()),
                },
                root: vouch::bundles::trusted_root(None, &env).expect("the embedded root"),
            }),
        }
    });
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let keyless =
        match serde_json::from_value::<std::collections::BTreeMap<String, String>>(value.clone()) {
            Ok(annotations) => vouch::bundles::cosign::verification_material(&annotations),
            Err(_) => Some(Ok(KeylessMaterial {
                media_type: value["mediaType"].as_str().unwrap_or_default().to_string(),
                material: value["verificationMaterial"].clone(),
            })),
        };
    let envelope = serde_json::from_value::<vouch::attest::dsse::Envelope>(
        value.get("dsseEnvelope").cloned().unwrap_or_default(),
    )
    .unwrap_or_else(|_| serde_json::from_str(KEYLESS_ENVELOPE).expect("the seed envelope"));
    let digest = format!("sha256:{}", "ab".repeat(32));
    let _ = signers.verify(&Signed { envelope, keyless }, &[digest]);
}

/// An in-toto statement about `sha256:abab...` in an envelope, for the keyless target's
/// annotations (a layer's envelope is its blob, not in its annotations).
const KEYLESS_ENVELOPE: &str = r#"{"payloadType":"application/vnd.in-toto+json","payload":"eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEiLCJzdWJqZWN0IjpbeyJuYW1lIjoiaSIsImRpZ2VzdCI6eyJzaGEyNTYiOiJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiYWJhYmFiIn19XSwicHJlZGljYXRlVHlwZSI6IngiLCJwcmVkaWNhdGUiOnt9fQ==","signatures":[{"keyid":"","sig":"MEUCIQ=="}]}"#;

/// An OSV record, matched against a few versions in each ecosystem's ordering.
pub fn osv_record(data: &[u8]) {
    use vouch::version::Scheme;
    let Ok(record) = serde_json::from_slice::<vouch::vuln::osv::Record>(data) else {
        return;
    };
    let _ = record.aliases_and_upstream();
    for affected in &record.affected {
        let _ = record.severity(affected);
        for scheme in [
            Scheme::Dpkg,
            Scheme::Rpm,
            Scheme::Apk,
            Scheme::Pep440,
            Scheme::Semver,
            Scheme::Maven,
            Scheme::Gem,
        ] {
            for version in [
                "0",
                "1.0.0",
                "2:1.2-3",
                "1.0rc1",
                "v1.2.3-0.20230101-abcdef",
            ] {
                let _ = affected.affects(scheme, version);
            }
        }
    }
}

/// A fetched all.zip, checked whole as `db update` checks one before it replaces the kept zip (read
/// from a file of this thread's, as the check reads the download).
pub fn osv_zip(data: &[u8]) {
    let path = std::env::temp_dir().join(format!(
        "vouch-fuzz-osv-zip-{}-{:?}.zip",
        std::process::id(),
        std::thread::current().id()
    ));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).expect("a time");
    let _ = vouch::vuln::db::update::check_zip(&path, "PyPI", now);
    let _ = std::fs::remove_file(&path);
}

/// An OpenVEX or CycloneDX VEX document.
pub fn vex(data: &[u8]) {
    let _ = vouch::vuln::vex::parse(data, "fuzz.vex.json");
}

/// The image ID the fuzzed scanner reports are about (a report naming another image is refused
/// before its findings are read).
const REPORT_IMAGE_ID: &str =
    "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

/// A Trivy or Grype JSON report, tied to a few components.
pub fn scanner_report(data: &[u8]) {
    let subject = vouch::vuln::ImageSubject {
        reference: "fuzz:1".into(),
        id: REPORT_IMAGE_ID.into(),
        digests: vec![],
        repositories: vec!["fuzz".into()],
        diff_ids: vec!["sha256:00".into()],
    };
    let component = vouch::sbom::read::Component {
        name: "bash".into(),
        version: "5.2.15-2".into(),
        purl: "pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12".into(),
        purl_type: "deb".into(),
        ..Default::default()
    };
    let _ = vouch::vuln::report::parse(data, "fuzz.json", &subject, &[component]);
}

/// A policy file (YAML or JSON, with Rego modules inline).
pub fn policy(data: &[u8]) {
    let origin = vouch::policy::diags::Origin {
        name: "fuzz.yaml".into(),
        dir: None,
    };
    let _ = vouch::policy::config::Policy::parse(data, &origin);
}

/// An image config.
pub fn image_config(data: &[u8]) {
    if let Ok(config) = serde_json::from_slice::<vouch::image::ImageConfig>(data) {
        let _ = config.diff_ids();
    }
}

/// Seeds for `target`: real files of this machine, in the shape the target takes. Files that are
/// not there are skipped (the list says which were found).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let read = |path: &str| std::fs::read(path).ok();
    let first_of = |pattern_dir: &str, suffix: &str| -> Option<Vec<u8>> {
        let mut entries: Vec<_> = std::fs::read_dir(pattern_dir).ok()?.flatten().collect();
        entries.sort_by_key(|e| e.path());
        entries
            .iter()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with(suffix))
            .and_then(|p| std::fs::read(p).ok())
    };
    let mut real: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut add = |path: &'static str, bytes: Option<Vec<u8>>| {
        if let Some(bytes) = bytes {
            // A seed of at most 256 KiB (the head of a large file).
            real.push((path, bytes.into_iter().take(256 * 1024).collect()));
        }
    };
    add("var/lib/dpkg/status", read("/var/lib/dpkg/status"));
    add("etc/os-release", read("/etc/os-release"));
    add("usr/bin/app", read("/usr/bin/ls"));
    add(
        "usr/lib/python3/dist-packages/pkg-1.0.dist-info/METADATA",
        first_of_dist_info(),
    );
    add(
        "app/node_modules/pkg/package.json",
        read("/usr/share/nodejs/semver/package.json")
            .or_else(|| read("/usr/lib/node_modules/npm/package.json")),
    );
    add(
        "var/lib/gems/3.1.0/specifications/pkg-1.0.gemspec",
        first_of(
            "/usr/share/rubygems-integration/all/specifications",
            ".gemspec",
        ),
    );
    add("app/app.jar", read("/usr/share/java/commons-lang3.jar"));
    add("app/go", first_go_binary());
    // No apk, Composer or .NET tool on Debian: documents in the exact shape those tools write.
    add("lib/apk/db/installed", Some(b"C:Q1Jq8FwvHJyzfDcHGxM9RkjMpRf8w=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\nI:622592\nT:the musl c library (libc) implementation\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Timo Teras <timo.teras@iki.fi>\nt:1698690017\nc:1f6a3b7a0e9bd7c4e5e9c1dfbd3c1c6c1c5f0e4c\np:so:libc.musl-x86_64.so.1=1\nF:lib\nR:ld-musl-x86_64.so.1\na:0:0:755\nZ:Q1zXq1lZ3Ko5tWn0e0vKJq1dVsy7c=\n\nC:Q1G7s=\nP:busybox\nV:1.36.1-r15\nA:x86_64\nD:so:libc.musl-x86_64.so.1\no:busybox\n\n".to_vec()));
    add("app/vendor/composer/installed.json", Some(br#"{"packages":[{"name":"monolog/monolog","version":"3.5.0","version_normalized":"3.5.0.0","type":"library","license":["MIT"],"require":{"php":">=8.1","psr/log":"^2.0 || ^3.0"}},{"name":"psr/log","version":"3.0.0","type":"library","license":["MIT"]}],"dev":true,"dev-package-names":[]}"#.to_vec()));
    add("app/app.deps.json", Some(br#"{"runtimeTarget":{"name":".NETCoreApp,Version=v8.0","signature":""},"targets":{".NETCoreApp,Version=v8.0":{"app/1.0.0":{"dependencies":{"Newtonsoft.Json":"13.0.3"},"runtime":{"app.dll":{}}},"Newtonsoft.Json/13.0.3":{"runtime":{"lib/net6.0/Newtonsoft.Json.dll":{"assemblyVersion":"13.0.0.0","fileVersion":"13.0.3.27908"}}}}},"libraries":{"app/1.0.0":{"type":"project","serviceable":false,"sha512":""},"Newtonsoft.Json/13.0.3":{"type":"package","serviceable":true,"sha512":"sha512-HrC5BXdl00IP9zeV+0Z848QWPAoCr9P3bDEZguI+gkLcBKAOxix/tLEAAHC+UvDNPv4a2d18lOReHMOagPa+zQ==","path":"newtonsoft.json/13.0.3","hashPath":"newtonsoft.json.13.0.3.nupkg.sha512"}}}"#.to_vec()));
    match target {
        "layer" => real.iter().map(|(path, bytes)| tar_of(&[(path, bytes)])).collect(),
        "catalog_file" => real
            .iter()
            .filter_map(|(path, bytes)| catalog_file_input(path, bytes))
            .collect(),
        "index_walk" => vec![
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","size":1,"platform":{"os":"linux","architecture":"amd64","variant":"v3"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":1,"platform":{"os":"linux","architecture":"arm64","os.features":["x"]}}]}"#.to_vec(),
        ],
        "admission" => vec![
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"kind":"Deployment"},"operation":"UPDATE","object":{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"r/a:1"}]}}}},"oldObject":{"spec":{"template":{"spec":{"initContainers":[{"image":"r/b@sha256:00"}]}}}}}}"#.to_vec(),
        ],
        "keyless" => vec![
            br#"{"dev.cosignproject.cosign/signature":"","dev.sigstore.cosign/certificate":"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUAQ==\n-----END CERTIFICATE-----\n","dev.sigstore.cosign/bundle":"{\"SignedEntryTimestamp\":\"MEUCIQ==\",\"Payload\":{\"body\":\"eyJhcGlWZXJzaW9uIjoiMC4wLjEiLCJraW5kIjoiZHNzZSIsInNwZWMiOnt9fQ==\",\"integratedTime\":1700000000,\"logIndex\":1,\"logID\":\"c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d\"}}","predicateType":"https://cyclonedx.org/bom"}"#.to_vec(),
            br#"{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{"certificate":{"rawBytes":"MIIBszCCAVmgAwIBAgIUAQ=="},"tlogEntries":[{"logIndex":"1","logId":{"keyId":"wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0="},"kindVersion":{"kind":"dsse","version":"0.0.1"},"integratedTime":"1700000000","inclusionPromise":{"signedEntryTimestamp":"MEUCIQ=="},"canonicalizedBody":"e30="}]},"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"","sig":"MEUCIQ=="}]}}"#.to_vec(),
        ],
        "envelope" => vec![
            br#"{"payloadType":"application/vnd.in-toto+json","payload":"eyJhIjoxfQ==","signatures":[{"keyid":"","sig":"MEUCIQ=="}]}"#.to_vec(),
        ],
        // Zips written by Python's zipfile (osv.dev's exporter's writer) are added by
        // tests/fuzz_smoke.rs; a jar is a zip written by another tool.
        "osv_zip" => read("/usr/share/java/commons-lang3.jar")
            .into_iter()
            .filter(|jar| jar.len() <= 1024 * 1024)
            .collect(),
        "osv_record" => vec![
            br#"{"id":"DSA-1","modified":"2024-01-01T00:00:00Z","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"Debian:12","name":"bash"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"5.2.15-2+b3"}]}],"versions":["5.2.15-2"]}],"severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}"#.to_vec(),
        ],
        "vex" => vec![
            br#"{"@context":"https://openvex.dev/ns/v0.2.0","@id":"x","author":"a","timestamp":"2024-01-01T00:00:00Z","version":1,"statements":[{"vulnerability":{"name":"CVE-1"},"products":[{"@id":"pkg:deb/debian/bash@5.2"}],"status":"not_affected","justification":"component_not_present"}]}"#.to_vec(),
        ],
        "scanner_report" => vec![
            format!(r#"{{"SchemaVersion":2,"ArtifactName":"fuzz:1","ArtifactType":"container_image","Metadata":{{"ImageID":"{REPORT_IMAGE_ID}","RepoDigests":["fuzz@sha256:aaaa"]}},"Results":[{{"Target":"debian","Class":"os-pkgs","Type":"debian","Vulnerabilities":[{{"VulnerabilityID":"CVE-2022-3715","PkgName":"bash","PkgIdentifier":{{"PURL":"pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12"}},"InstalledVersion":"5.2.15-2","FixedVersion":"5.2.15-2+b3","Layer":{{"DiffID":"sha256:00"}},"Severity":"HIGH","Title":"bash: a heap-buffer-overflow","CVSS":{{"nvd":{{"V3Vector":"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H","V3Score":7.8}}}}}}]}}]}}"#).into_bytes(),
            format!(r#"{{"matches":[{{"vulnerability":{{"id":"CVE-2022-3715","severity":"High","fix":{{"versions":["5.2.15-2+b3"],"state":"fixed"}},"cvss":[]}},"relatedVulnerabilities":[{{"id":"CVE-2022-3715"}}],"artifact":{{"name":"bash","version":"5.2.15-2","type":"deb","purl":"pkg:deb/debian/bash@5.2.15-2?arch=amd64&distro=debian-12","locations":[{{"path":"/var/lib/dpkg/status","layerID":"sha256:00"}}]}}}}],"source":{{"type":"image","target":{{"userInput":"fuzz:1","imageID":"{REPORT_IMAGE_ID}","manifestDigest":"sha256:ffff","repoDigests":[],"layers":[]}}}}}}"#).into_bytes(),
        ],
        "policy" => vec![vouch::policy::config::DEFAULT_POLICY.as_bytes().to_vec()],
        // Keys made by the real tools are added by tests/fuzz_smoke.rs; these are the machine's
        // files that hold markers as text or a package's demo key.
        "private_key" => [
            "/usr/lib/go-1.19/src/crypto/tls/testdata/example-key.pem",
            "/usr/lib/python3/dist-packages/cryptography/hazmat/primitives/serialization/ssh.py",
            "/etc/ssl/certs/ca-certificates.crt",
        ]
        .iter()
        .filter_map(|path| read(path))
        .map(|bytes| bytes.into_iter().take(256 * 1024).collect())
        .collect(),
        "image_config" => vec![
            br#"{"architecture":"amd64","os":"linux","config":{"User":"1000","Cmd":["/app"],"Labels":{"a":"b"},"ExposedPorts":{"80/tcp":{}}},"rootfs":{"type":"layers","diff_ids":["sha256:00"]}}"#.to_vec(),
        ],
        _ => Vec::new(),
    }
}

fn first_of_dist_info() -> Option<Vec<u8>> {
    for dir in [
        "/usr/lib/python3/dist-packages",
        "/usr/lib/python3.11/site-packages",
    ] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut infos: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.to_string_lossy().ends_with(".dist-info"))
            .collect();
        infos.sort();
        if let Some(bytes) = infos
            .iter()
            .find_map(|p| std::fs::read(p.join("METADATA")).ok())
        {
            return Some(bytes);
        }
    }
    None
}

fn first_go_binary() -> Option<Vec<u8>> {
    let entries = std::fs::read_dir("/usr/lib").ok()?;
    let mut gos: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("go-"))
        })
        .collect();
    gos.sort();
    gos.iter()
        .find_map(|p| std::fs::read(p.join("bin/gofmt")).ok())
}
