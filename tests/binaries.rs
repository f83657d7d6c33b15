//! The binary classifiers on real binaries: this machine's python3.11, node, libcrypto and libcurl,
//! copied where no package owns them, with versions checked against what each tool prints itself,
//! and the same python binary where a dpkg package owns it, not reported twice; and every other
//! classifier on its binary from a Debian 12 package, each alone in an image imported into the
//! engine (no package database), its version the package's upstream version.

mod support;

use std::path::Path;
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

/// (Debian package, glob of the binary in it, classifier's package name, NVD vendor:product).
const DEBIAN_BINARIES: &[(&str, &str, &str, &str)] = &[
    (
        "apache2-bin",
        "usr/sbin/apache2",
        "httpd",
        "apache:http_server",
    ),
    ("php8.2-cli", "usr/bin/php8.2", "php", "php:php"),
    ("php8.2-fpm", "usr/sbin/php-fpm8.2", "php", "php:php"),
    (
        "libapache2-mod-php8.2",
        "usr/lib/apache2/modules/libphp8.2.so",
        "php",
        "php:php",
    ),
    ("perl-base", "usr/bin/perl", "perl", "perl:perl"),
    (
        "libruby3.1",
        "usr/lib/*/libruby-3.1.so.*",
        "ruby",
        "ruby-lang:ruby",
    ),
    (
        "golang-1.19-go",
        "usr/lib/go-1.19/bin/go",
        "go",
        "golang:go",
    ),
    (
        "libstd-rust-1.63",
        "usr/lib/*/libstd-*.so",
        "rust",
        "rust-lang:rust",
    ),
    (
        "memcached",
        "usr/bin/memcached",
        "memcached",
        "memcached:memcached",
    ),
    ("haproxy", "usr/sbin/haproxy", "haproxy", "haproxy:haproxy"),
    (
        "mariadb-server-core",
        "usr/sbin/mariadbd",
        "mariadb",
        "mariadb:mariadb",
    ),
    ("bash", "bin/bash", "bash", "gnu:bash"),
    (
        "libsqlite3-0",
        "usr/lib/*/libsqlite3.so.0.*",
        "sqlite",
        "sqlite:sqlite",
    ),
    ("git", "usr/bin/git", "git", "git-scm:git"),
    (
        "lighttpd",
        "usr/sbin/lighttpd",
        "lighttpd",
        "lighttpd:lighttpd",
    ),
    (
        "proftpd-core",
        "usr/sbin/proftpd",
        "proftpd",
        "proftpd:proftpd",
    ),
    ("zstd", "usr/bin/zstd", "zstd", "facebook:zstandard"),
    ("xz-utils", "usr/bin/xz", "xz", "tukaani:xz"),
    ("jq", "usr/bin/jq", "jq", "jqlang:jq"),
    (
        "openssh-server",
        "usr/sbin/sshd",
        "openssh",
        "openbsd:openssh",
    ),
    ("sudo", "usr/bin/sudo", "sudo", "sudo_project:sudo"),
    ("libc6", "lib/*/libc.so.6", "glibc", "gnu:glibc"),
    ("zlib1g", "lib/*/libz.so.1.*", "zlib", "zlib:zlib"),
    (
        "dnsmasq-base",
        "usr/sbin/dnsmasq",
        "dnsmasq",
        "thekelleys:dnsmasq",
    ),
    (
        "unbound",
        "usr/sbin/unbound",
        "unbound",
        "nlnetlabs:unbound",
    ),
    ("lua5.4", "usr/bin/lua5.4", "lua", "lua:lua"),
    ("libtcl8.6", "usr/lib/*/libtcl8.6.so", "tcl", "tcl:tcl"),
    ("pypy3", "usr/lib/*/libpypy3*-c.so", "pypy", "pypy:pypy"),
    (
        "varnish",
        "usr/sbin/varnishd",
        "varnish",
        "varnish-software:varnish_cache",
    ),
    ("gawk", "usr/bin/gawk", "gawk", "gnu:gawk"),
    (
        "libavcodec59",
        "usr/lib/*/libavcodec.so.59.*",
        "ffmpeg",
        "ffmpeg:ffmpeg",
    ),
    (
        "libpcre2-8-0",
        "usr/lib/*/libpcre2-8.so.0.*",
        "pcre2",
        "pcre:pcre2",
    ),
    (
        "libexpat1",
        "lib/*/libexpat.so.1.*",
        "expat",
        "libexpat_project:libexpat",
    ),
    ("squid", "usr/sbin/squid", "squid", "squid-cache:squid"),
    ("nginx", "usr/sbin/nginx", "nginx", "f5:nginx"),
    (
        "postgresql-15",
        "usr/lib/postgresql/15/bin/postgres",
        "postgresql",
        "postgresql:postgresql",
    ),
    (
        "redis-tools",
        "usr/bin/redis-check-rdb",
        "redis",
        "redis:redis",
    ),
    ("busybox", "bin/busybox", "busybox", "busybox:busybox"),
];

/// The upstream version of a Debian version: no epoch, no Debian revision, what a `+really`
/// names, and no repack suffix (`+dfsg1`, `.dfsg`, `~deb12u1`).
fn upstream_version(debian: &str) -> String {
    let no_epoch = debian.split_once(':').map_or(debian, |(_, v)| v);
    let no_revision = no_epoch.rsplit_once('-').map_or(no_epoch, |(v, _)| v);
    let real = no_revision
        .split_once("+really")
        .map_or(no_revision, |(_, v)| v);
    let cut = real.split(['+', '~']).next().unwrap_or(real);
    cut.strip_suffix(".dfsg").unwrap_or(cut).to_string()
}

/// The package's Version field, as dpkg-deb reads it.
fn deb_version(deb: &Path) -> String {
    let out = Command::new("dpkg-deb")
        .args(["-f"])
        .arg(deb)
        .arg("Version")
        .output()
        .expect("dpkg-deb runs");
    assert!(out.status.success(), "dpkg-deb -f {}", deb.display());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The first regular file of the package whose path fits `glob`: (its path, its bytes).
fn file_from_deb(deb: &Path, glob: &str) -> (String, Vec<u8>) {
    let matcher = globset::GlobBuilder::new(glob)
        .literal_separator(true)
        .build()
        .unwrap()
        .compile_matcher();
    let out = Command::new("dpkg-deb")
        .arg("--fsys-tarfile")
        .arg(deb)
        .output()
        .expect("dpkg-deb runs");
    assert!(
        out.status.success(),
        "dpkg-deb --fsys-tarfile {}",
        deb.display()
    );
    let mut archive = tar::Archive::new(&out.stdout[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let path = path.trim_start_matches("./").to_string();
        if entry.header().entry_type().is_file() && matcher.is_match(&path) {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            return (path, bytes);
        }
    }
    panic!("no {glob} in {}", deb.display());
}

#[test]
fn debian_binaries_alone_in_an_image_are_classified_at_their_upstream_version() {
    require_engine();
    let packages: Vec<&str> = DEBIAN_BINARIES.iter().map(|b| b.0).collect();
    let debs = debian_debs(&packages);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    // Each binary under /opt/PACKAGE/ at its path in the package; no dpkg database, no os-release.
    let mut expected = Vec::new();
    for (package, glob, name, cpe) in DEBIAN_BINARIES {
        let deb = &debs[*package];
        let (path, bytes) = file_from_deb(deb, glob);
        let in_image = format!("opt/{package}/{path}");
        let target = root.join(&in_image);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, bytes).unwrap();
        let version = upstream_version(&deb_version(deb));
        expected.push((
            format!("/{in_image}"),
            name.to_string(),
            version,
            cpe.to_string(),
        ));
    }
    let tag = import_dir(&root, "vouch-test/debian-binaries:1");
    let (sbom, _) = sbom_of_image(&tag);
    let mut found: Vec<(String, String, String, String)> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:generic/"))
        })
        .map(|c| {
            let path = component_property(c, "vouch:path").unwrap_or_default();
            let version = c["version"].as_str().unwrap_or_default().to_string();
            let cpe = c["cpe"].as_str().unwrap_or_default();
            // vendor:product of the CPE, and the version and update it names.
            let fields: Vec<&str> = cpe.split(':').collect();
            assert!(fields.len() >= 7, "{cpe}");
            let cpe_version = if fields[6] == "*" {
                fields[5].to_string()
            } else {
                format!("{}{}", fields[5], fields[6])
            };
            assert_eq!(cpe_version, version, "{cpe} names the component's version");
            (
                path,
                c["name"].as_str().unwrap_or_default().to_string(),
                version,
                format!("{}:{}", fields[3], fields[4]),
            )
        })
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
}

/// Erlang/OTP without a package database (Debian's erlang-base unpacked without dpkg): its
/// release comes from `releases/MAJOR/OTP_VERSION` and equals the package's upstream version, with
/// the NVD's CPE.
#[test]
fn erlang_otp_is_named_by_its_release_file() {
    require_engine();
    let debs = debian_debs(&["erlang-base"]);
    let deb = debs.values().next().expect("erlang-base's .deb");
    let version = upstream_version(&deb_version(deb));
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    unpack_debs(&["erlang-base"], &root);
    let tag = import_dir(&root, &format!("vouch-test/erlang:{}", std::process::id()));
    let (sbom, _) = sbom_of_image(&tag);
    let otp: Vec<&serde_json::Value> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "erlang-otp")
        .collect();
    assert_eq!(otp.len(), 1, "{otp:?}");
    assert_eq!(otp[0]["version"], version.as_str());
    assert_eq!(
        otp[0]["cpe"],
        format!("cpe:2.3:a:erlang:erlang\\/otp:{version}:*:*:*:*:*:*:*")
    );
    docker(&["rmi", "-f", &tag]);
}
