//! The binary classifiers on real binaries from this machine's Debian packages (python3.11, node,
//! libcrypto, libcurl), copied where no package owns them, with versions checked against what each
//! tool prints itself; and the same python binary where a dpkg package owns it, not reported twice.

mod support;

use std::process::Command;
use support::*;

fn output_of(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The first `N.N.N` after `marker` in `text`.
fn version_after(text: &str, marker: &str) -> String {
    let rest = &text[text
        .find(marker)
        .unwrap_or_else(|| panic!("{marker:?} in {text:?}"))
        + marker.len()..];
    rest.chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect()
}

#[test]
fn runtimes_are_classified_unless_an_os_package_owns_them() {
    let read =
        |p: &str| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e} (make deps installs it)"));
    let python = read("/usr/bin/python3.11");
    let node = read(
        &std::fs::canonicalize("/usr/bin/node")
            .unwrap()
            .to_string_lossy(),
    );
    let crypto = read("/usr/lib/x86_64-linux-gnu/libcrypto.so.3");
    let curl = read("/usr/lib/x86_64-linux-gnu/libcurl.so.4");
    let python_version =
        version_after(&output_of("/usr/bin/python3.11", &["--version"]), "Python ");
    let node_version = version_after(&output_of("/usr/bin/node", &["--version"]), "v");
    let openssl_version = version_after(&output_of("openssl", &["version"]), "OpenSSL ");
    let curl_version = version_after(&output_of("curl", &["--version"]), "libcurl/");

    let status = "Package: python3.11-minimal\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.11.2-6+deb12u6\n\n";
    let layer = Layer::new()
        .file_bytes("opt/python/bin/python3.11", &python)
        .file_bytes("opt/node/bin/node", &node)
        .file_bytes("opt/ssl/lib/libcrypto.so.3", &crypto)
        .file_bytes("opt/curl/lib/libcurl.so.4", &curl)
        .file_bytes("usr/bin/python3.11", &python)
        .file("var/lib/dpkg/status", status)
        .file(
            "var/lib/dpkg/info/python3.11-minimal.list",
            "/.\n/usr\n/usr/bin\n/usr/bin/python3.11\n",
        );
    let dir = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("runtimes:1"));
    let out = run_vouch(dir.path(), &["sbom", "docker-archive:img.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sbom = valid_cyclonedx(&out.stdout);
    let mut generic: Vec<(String, String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:generic/"))
        .map(|(name, version, _, _, path)| (name, version, path))
        .collect();
    generic.sort();
    assert_eq!(
        generic,
        [
            (
                "curl".to_string(),
                curl_version,
                "/opt/curl/lib/libcurl.so.4".to_string()
            ),
            (
                "node".to_string(),
                node_version,
                "/opt/node/bin/node".to_string()
            ),
            (
                "openssl".to_string(),
                openssl_version,
                "/opt/ssl/lib/libcrypto.so.3".to_string()
            ),
            (
                "python".to_string(),
                python_version,
                "/opt/python/bin/python3.11".to_string()
            ),
        ],
        "/usr/bin/python3.11 belongs to python3.11-minimal and is not reported again"
    );
    let node = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "node")
        .unwrap();
    assert_eq!(
        node["cpe"],
        format!(
            "cpe:2.3:a:nodejs:node.js:{}:*:*:*:*:*:*:*",
            node["version"].as_str().unwrap()
        )
    );
}
