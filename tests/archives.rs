//! Image archives in every supported layout, built byte by byte: the squashed view (replaced files,
//! whiteouts, opaque directories), compression, and the CycloneDX output. No engine needed.

mod support;

use serde_json::Value;
use support::*;

/// Two layers: the base installs `base-files` 12.4, `bash` and (distroless style) `extra-a` and
/// `extra-b`; the upper layer replaces the status file (bash upgraded) and whites out `extra-b`.
fn two_layer_image() -> TestImage {
    let status_v1 =
        dpkg_paragraph("base-files", "12.4+deb12u5") + &dpkg_paragraph("bash", "5.2.15-2+b2");
    let status_v2 =
        dpkg_paragraph("base-files", "12.4+deb12u5") + &dpkg_paragraph("bash", "5.2.15-2+b7");
    let base = Layer::new()
        .dir("etc/")
        .symlink("etc/os-release", "../usr/lib/os-release")
        .dir("usr/")
        .dir("usr/lib/")
        .file("usr/lib/os-release", OS_RELEASE)
        .dir("var/lib/dpkg/")
        .file("var/lib/dpkg/status", &status_v1)
        .dir("var/lib/dpkg/status.d/")
        .file(
            "var/lib/dpkg/status.d/extra-a",
            &dpkg_paragraph("extra-a", "1:1.0-1"),
        )
        .file(
            "var/lib/dpkg/status.d/extra-b",
            &dpkg_paragraph("extra-b", "2.0"),
        )
        .file(
            "var/lib/dpkg/status.d/extra-a.md5sums",
            "d41d8cd98f00b204e9800998ecf8427e  /x\n",
        );
    let upper = Layer::new()
        .file("var/lib/dpkg/status", &status_v2)
        .whiteout("var/lib/dpkg/status.d/extra-b");
    TestImage::new(vec![base.bytes(), upper.bytes()])
}

fn sbom_of(dir: &std::path::Path, image_arg: &str) -> Value {
    let out = run_vouch(dir, &["sbom", image_arg]);
    assert!(
        out.status.success(),
        "sbom {image_arg} failed: {}",
        stderr(&out)
    );
    valid_cyclonedx(&out.stdout)
}

fn assert_two_layer_result(sbom: &Value) {
    let pkgs = packages(sbom);
    let summary: Vec<(&str, &str, usize, &str)> = pkgs
        .iter()
        .map(|(n, v, _, l, p)| (n.as_str(), v.as_str(), *l, p.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("base-files", "12.4+deb12u5", 1, "/var/lib/dpkg/status"),
            ("bash", "5.2.15-2+b7", 1, "/var/lib/dpkg/status"),
            ("extra-a", "1:1.0-1", 0, "/var/lib/dpkg/status.d/extra-a"),
        ],
        "the replaced status file is read from the upper layer; the whited-out package is gone"
    );
    let bash = pkgs.iter().find(|p| p.0 == "bash").unwrap();
    assert_eq!(
        bash.2,
        "pkg:deb/debian/bash@5.2.15-2+b7?arch=amd64&distro=debian-12"
    );
    let extra = pkgs.iter().find(|p| p.0 == "extra-a").unwrap();
    assert_eq!(
        extra.2,
        "pkg:deb/debian/extra-a@1:1.0-1?arch=amd64&distro=debian-12"
    );

    let os: Vec<&Value> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "operating-system")
        .collect();
    assert_eq!(os.len(), 1);
    assert_eq!(os[0]["name"], "debian");
    assert_eq!(os[0]["version"], "12");

    assert_eq!(sbom["specVersion"], "1.5");
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    let image = &sbom["metadata"]["component"];
    assert_eq!(image["type"], "container");
    assert_eq!(image_properties(sbom, "vouch:config:user"), ["1000"]);
    assert_eq!(
        image_properties(sbom, "vouch:config:cmd"),
        [r#"["/bin/app"]"#]
    );
    assert_eq!(
        image_properties(sbom, "vouch:config:label:org.example.team"),
        ["core"]
    );
    assert_eq!(
        image_properties(sbom, "vouch:config:exposedPort"),
        ["8080/tcp"]
    );
    assert_eq!(image_properties(sbom, "vouch:image:layer").len(), 2);
}

#[test]
fn legacy_docker_save_layout() {
    let dir = tempfile::tempdir().unwrap();
    let image = two_layer_image();
    std::fs::write(
        dir.path().join("img.tar"),
        image.docker_archive("example/app:1"),
    )
    .unwrap();
    let sbom = sbom_of(dir.path(), "docker-archive:img.tar");
    assert_two_layer_result(&sbom);
    assert_eq!(sbom["metadata"]["component"]["name"], "example/app:1");
    let id = sha256(&image.config_bytes());
    assert_eq!(
        image_properties(&sbom, "vouch:image:id"),
        std::slice::from_ref(&id)
    );
    assert_eq!(sbom["metadata"]["component"]["version"], id.as_str());
}

#[test]
fn docker25_layout() {
    let dir = dir_with_archive(&two_layer_image().docker25_archive("example/app:25"));
    let sbom = sbom_of(dir.path(), "docker-archive:img.tar");
    assert_two_layer_result(&sbom);
}

#[test]
fn oci_archives_with_each_compression() {
    for compression in [Compression::None, Compression::Gzip, Compression::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let image = two_layer_image();
        std::fs::write(
            dir.path().join("img.tar"),
            image.oci_archive(compression, "example/app:oci"),
        )
        .unwrap();
        let sbom = sbom_of(dir.path(), "oci-archive:img.tar");
        assert_two_layer_result(&sbom);
        let (_, manifest_digest) = image.oci_entries(compression, "example/app:oci");
        assert_eq!(
            sbom["metadata"]["component"]["version"],
            manifest_digest.as_str(),
            "{compression:?}: the OCI manifest digest identifies the image"
        );
    }
}

#[test]
fn oci_directory() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let digest = two_layer_image().write_oci_dir(&layout, Compression::Gzip, "example/app:dir");
    let sbom = sbom_of(dir.path(), "oci-dir:layout");
    assert_two_layer_result(&sbom);
    assert_eq!(
        image_properties(&sbom, "vouch:image:manifestDigest"),
        [digest]
    );
}

#[test]
fn opaque_directory_hides_lower_status_d() {
    let base = Layer::new()
        .file("var/lib/dpkg/status.d/old", &dpkg_paragraph("old", "1.0"))
        .file("var/lib/dpkg/status.d.keep/x", "not a database");
    let upper = Layer::new()
        .dir("var/lib/dpkg/status.d/")
        .opaque("var/lib/dpkg/status.d")
        .file("var/lib/dpkg/status.d/new", &dpkg_paragraph("new", "2.0"));
    let dir =
        dir_with_archive(&TestImage::new(vec![base.bytes(), upper.bytes()]).docker_archive("x:1"));
    let sbom = sbom_of(dir.path(), "docker-archive:img.tar");
    let names: Vec<String> = packages(&sbom).into_iter().map(|p| p.0).collect();
    assert_eq!(names, ["new"]);
    // No os-release: no operating-system component, and the purl has no distro qualifier.
    assert_eq!(packages(&sbom)[0].2, "pkg:deb/debian/new@2.0?arch=amd64");
}

#[test]
fn table_format_lists_packages_and_os() {
    let dir = dir_with_archive(&two_layer_image().docker_archive("example/app:1"));
    let out = run_vouch(
        dir.path(),
        &["sbom", "--format", "table", "docker-archive:img.tar"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("OS:       Debian GNU/Linux 12 (bookworm)"),
        "{table}"
    );
    assert!(table.contains("Packages: 3"), "{table}");
    let bash_row = table
        .lines()
        .find(|l| l.starts_with("bash "))
        .expect("a bash row");
    assert!(
        bash_row.contains("5.2.15-2+b7") && bash_row.contains("deb"),
        "{bash_row}"
    );
}

#[test]
fn output_file_is_written_atomically() {
    let dir = dir_with_archive(&two_layer_image().docker_archive("example/app:1"));
    let out = run_vouch(
        dir.path(),
        &["sbom", "docker-archive:img.tar", "--output", "out.json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        out.stdout.is_empty(),
        "nothing on stdout when --output is given"
    );
    let sbom = valid_cyclonedx(&std::fs::read(dir.path().join("out.json")).unwrap());
    assert_two_layer_result(&sbom);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["img.tar", "out.json"],
        "no temporary file is left behind"
    );
}

#[test]
fn plugin_metadata_and_docker_global_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_vouch(dir.path(), &["docker-cli-plugin-metadata"]);
    assert!(out.status.success());
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(meta["SchemaVersion"], "0.1.0");
    assert_eq!(meta["Version"], env!("CARGO_PKG_VERSION"));

    // As the docker CLI calls a plugin: global flags, then the plugin name, then the command.
    std::fs::write(
        dir.path().join("img.tar"),
        two_layer_image().docker_archive("example/app:1"),
    )
    .unwrap();
    let out = run_vouch(
        dir.path(),
        &[
            "-H",
            "unix:///nonexistent.sock",
            "--tlsverify",
            "vouch",
            "sbom",
            "docker-archive:img.tar",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

fn licenses_of(sbom: &Value, name: &str) -> Value {
    sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .map(|c| c["licenses"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn dpkg_dependencies_and_licenses() {
    let status = "Package: app\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\
                  Pre-Depends: libc6 (>= 2.34)\nDepends: mail-transport-agent, debconf (>= 1.5) | debconf-2.0, libc6:any, missing-lib\n\n"
        .to_string()
        + "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n\n"
        + "Package: exim4\nStatus: install ok installed\nArchitecture: amd64\nVersion: 4.96\nProvides: mail-transport-agent\n\n"
        + "Package: cdebconf\nStatus: install ok installed\nArchitecture: amd64\nVersion: 0.270\nProvides: debconf-2.0\n\n";
    let layer = Layer::new()
        .file("var/lib/dpkg/status", &status)
        .file(
            "usr/share/doc/app/copyright",
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-2+\n\nFiles: vendor/*\nLicense: Expat\n",
        )
        .file("usr/share/doc/libc6/copyright", "See /usr/share/common-licenses/LGPL-2.1 for the license.\n")
        // Debian shares doc directories between related packages through symlinks.
        .symlink("usr/share/doc/exim4", "libc6")
        .file(
            "usr/share/doc/cdebconf/copyright",
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-1+ or Artistic\n\nFiles: x/*\nLicense: BSD-3-clause\n",
        );
    let dir = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("deps:1"));
    let sbom = sbom_of(dir.path(), "docker-archive:img.tar");

    assert_eq!(
        depends_on(&sbom, "pkg:deb/debian/app@"),
        ["cdebconf", "exim4", "libc6"]
    );
    assert_eq!(
        depends_on(&sbom, "pkg:deb/debian/libc6@"),
        Vec::<String>::new()
    );
    assert_eq!(
        sbom["dependencies"].as_array().unwrap().len(),
        4,
        "one entry per package"
    );

    assert_eq!(
        licenses_of(&sbom, "app"),
        serde_json::json!([{"license": {"id": "GPL-2.0-or-later"}}, {"license": {"id": "MIT"}}])
    );
    assert_eq!(
        licenses_of(&sbom, "libc6"),
        serde_json::json!([{"license": {"id": "LGPL-2.1-only"}}])
    );
    assert_eq!(
        licenses_of(&sbom, "exim4"),
        licenses_of(&sbom, "libc6"),
        "through the doc symlink"
    );
    assert_eq!(
        licenses_of(&sbom, "cdebconf"),
        serde_json::json!([{"expression": "BSD-3-Clause AND (GPL-1.0-or-later OR Artistic-1.0-Perl)"}])
    );
}

/// An Alpine 3.19 image's apk database, in the shape apk writes it (checksums, file lists, ACLs).
const ALPINE_OS_RELEASE: &str = "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME=\"Alpine Linux v3.19\"\nHOME_URL=\"https://alpinelinux.org/\"\n";
const APK_INSTALLED: &str = "\
C:Q1SXmX2CkXfb/RBi3mGkIMuvPTe5c=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
S:407278
I:663552
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1705334544
c:1f7b1a6c8b4d5a1a3b4a2b3c4d5e6f708192a3b4
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q1Y4qq6lK8o4N5cJ+gkBQDYqT6jJw=
R:libc.musl-x86_64.so.1

C:Q1AbCdEfGhIjKlMnOpQrStUvWxYz0=
P:busybox
V:1.36.1-r15
A:x86_64
S:509210
I:926720
T:Size optimized toolbox of many common UNIX utilities
U:https://busybox.net/
L:GPL-2.0-only
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1704971512
c:2e0a8d0b5a2a3a4a5a6a7a8a9aaabacadaeafb0b
D:so:libc.musl-x86_64.so.1 !bbsuid<1.36
p:cmd:busybox=1.36.1-r15
F:bin
R:busybox
a:0:0:755
Z:Q1Z0mI6HtMZ2W1s8bhYxVb2ZlEkmA=

P:this-record-is
damaged beyond repair

C:Q1wEW1RRQ4SKC4jdF1AAxNUdCmM3U=
P:ssl_client
V:1.36.1-r15
A:x86_64
S:4780
I:14336
T:EXternal ssl_client for busybox wget
U:https://busybox.net/
L:GPL-2.0-only AND MIT
o:busybox
m:Sören Tempel <soeren+alpine@soeren-tempel.net>
t:1704971512
c:2e0a8d0b5a2a3a4a5a6a7a8a9aaabacadaeafb0b
D:so:libc.musl-x86_64.so.1 busybox>=1.36
F:usr
F:usr/bin
R:ssl_client
a:0:0:755
Z:Q1KEq8p7ZZfZ8XkFfPj9bYg9A8bN0=
";

#[test]
fn apk_database() {
    let layer = Layer::new()
        .file("etc/os-release", ALPINE_OS_RELEASE)
        .file("lib/apk/db/installed", APK_INSTALLED);
    let dir = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("alpine:3.19"));
    let out = run_vouch(dir.path(), &["sbom", "docker-archive:img.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let damaged_line = APK_INSTALLED
        .lines()
        .position(|l| l == "damaged beyond repair")
        .unwrap()
        + 1;
    let expected = format!("/lib/apk/db/installed: line {damaged_line}: not a 'K:value' line");
    assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    let sbom = valid_cyclonedx(&out.stdout);
    let purls: Vec<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    assert_eq!(
        purls,
        [
            "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
            "pkg:apk/alpine/musl@1.2.4_git20230717-r4?arch=x86_64&distro=alpine-3.19.1",
            "pkg:apk/alpine/ssl_client@1.36.1-r15?arch=x86_64&distro=alpine-3.19.1",
        ]
    );
    assert_eq!(
        depends_on(&sbom, "pkg:apk/alpine/busybox@"),
        ["musl"],
        "through so: provides; !conflicts ignored"
    );
    assert_eq!(
        depends_on(&sbom, "pkg:apk/alpine/ssl_client@"),
        ["busybox", "musl"]
    );
    assert_eq!(
        licenses_of(&sbom, "ssl_client"),
        serde_json::json!([{"expression": "GPL-2.0-only AND MIT"}])
    );
    assert_eq!(
        licenses_of(&sbom, "musl"),
        serde_json::json!([{"license": {"id": "MIT"}}])
    );
}

/// Composer 2's installed.json, as `composer install` writes it (trimmed to the fields that vary).
const COMPOSER_INSTALLED: &str = r#"{
    "packages": [
        {
            "name": "monolog/monolog",
            "version": "3.5.0",
            "version_normalized": "3.5.0.0",
            "source": {"type": "git", "url": "https://github.com/Seldaek/monolog.git", "reference": "c915e2634718dbc8a4a15c61b0e62e7a44e14448"},
            "require": {"php": ">=8.1", "psr/log": "^2.0 || ^3.0"},
            "provide": {"psr/log-implementation": "3.0.0"},
            "type": "library",
            "installation-source": "dist",
            "license": ["MIT"],
            "install-path": "../monolog/monolog"
        },
        {
            "name": "psr/log",
            "version": "3.0.0",
            "version_normalized": "3.0.0.0",
            "require": {"php": ">=8.0.0"},
            "type": "library",
            "license": ["MIT"],
            "install-path": "../psr/log"
        },
        {
            "name": "symfony/polyfill-ctype",
            "version": "v1.28.0",
            "require": {"php": ">=7.1", "ext-ctype": "*"},
            "license": ["MIT"]
        }
    ],
    "dev": true,
    "dev-package-names": []
}"#;

/// A .NET 8 application's deps.json, as the SDK writes it.
const DEPS_JSON: &str = r#"{
  "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0", "signature": ""},
  "compilationOptions": {},
  "targets": {
    ".NETCoreApp,Version=v8.0": {
      "WebApp/1.0.0": {
        "dependencies": {"Serilog.AspNetCore": "8.0.0", "Newtonsoft.Json": "13.0.3"},
        "runtime": {"WebApp.dll": {}}
      },
      "Newtonsoft.Json/13.0.3": {
        "runtime": {"lib/net6.0/Newtonsoft.Json.dll": {"assemblyVersion": "13.0.0.0", "fileVersion": "13.0.3.27908"}}
      },
      "Serilog.AspNetCore/8.0.0": {
        "dependencies": {"Serilog": "3.1.1"},
        "runtime": {"lib/net8.0/Serilog.AspNetCore.dll": {}}
      },
      "Serilog/3.1.1": {
        "runtime": {"lib/net7.0/Serilog.dll": {}}
      }
    }
  },
  "libraries": {
    "WebApp/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
    "Newtonsoft.Json/13.0.3": {"type": "package", "serviceable": true, "sha512": "sha512-HrC5BXdl00IP9zeV+0Z848QWPAoCr9P3bDEZguI+gkLcBKAOxix/tLEAAHC+UvDNPv4a2d18lOReHMOagPa+zQ==", "path": "newtonsoft.json/13.0.3", "hashPath": "newtonsoft.json.13.0.3.nupkg.sha512"},
    "Serilog.AspNetCore/8.0.0": {"type": "package", "serviceable": true, "sha512": "sha512-FAjtKPZ4IzqFQBqZKPv6evcXK/F0ls7RoXI/62Pnx2igkDZ6nZ/jn/C/FxVATqQbEQvtqP+KViWYIe4NZIHa2w==", "path": "serilog.aspnetcore/8.0.0"},
    "Serilog/3.1.1": {"type": "package", "serviceable": true, "sha512": "sha512-P6G4/4Kt9bT635bhuwdXlJ2SCqqn2nhh4gqFqQueCOr9bK/e7W9ll/IoX1Ter948cV2Z/5+5v8pAfJYUISY03A==", "path": "serilog/3.1.1"}
  }
}"#;

#[test]
fn composer_and_dotnet_manifests() {
    let layer = Layer::new()
        .file(
            "var/www/app/vendor/composer/installed.json",
            COMPOSER_INSTALLED,
        )
        .file("srv/webapp/WebApp.deps.json", DEPS_JSON)
        .file("srv/other/Broken.deps.json", "{\"libraries\": [1, 2")
        .file(
            "opt/legacy/vendor/composer/installed.json",
            "\"just a string\"",
        );
    let dir = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("langs:1"));
    let out = run_vouch(dir.path(), &["sbom", "docker-archive:img.tar"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("/srv/other/Broken.deps.json: not valid JSON"),
        "{err}"
    );
    assert!(
        err.contains("/opt/legacy/vendor/composer/installed.json: neither a list nor an object"),
        "{err}"
    );
    let sbom = valid_cyclonedx(&out.stdout);
    let mut purls: Vec<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    purls.sort();
    assert_eq!(
        purls,
        [
            "pkg:composer/monolog/monolog@3.5.0",
            "pkg:composer/psr/log@3.0.0",
            "pkg:composer/symfony/polyfill-ctype@1.28.0",
            "pkg:nuget/Newtonsoft.Json@13.0.3",
            "pkg:nuget/Serilog.AspNetCore@8.0.0",
            "pkg:nuget/Serilog@3.1.1",
        ],
        "the application project itself is not a package; a leading v is not part of a Composer version"
    );
    assert_eq!(
        depends_on(&sbom, "pkg:composer/monolog/monolog@"),
        ["log"],
        "php itself is no package"
    );
    assert_eq!(
        depends_on(&sbom, "pkg:nuget/Serilog.AspNetCore@"),
        ["Serilog"]
    );
    assert_eq!(
        licenses_of(&sbom, "psr/log"),
        serde_json::json!([{"license": {"id": "MIT"}}])
    );
}

#[test]
fn a_shaded_jar_is_a_package_besides_what_it_shades() {
    let shaded = stored_zip(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\r\nImplementation-Version: 2.1\r\nImplementation-Vendor-Id: com.example\r\n"),
        ("META-INF/maven/org.lib/inner/pom.properties", b"groupId=org.lib\nartifactId=inner\nversion=1.0\n"),
    ]);
    let plain = stored_zip(&[(
        "META-INF/maven/org.lib/plain/pom.properties",
        b"groupId=org.lib\nartifactId=plain\nversion=3.0\n",
    )]);
    let layer = Layer::new()
        .file_bytes("opt/app/shaded-app-2.1.jar", &shaded)
        .file_bytes("opt/app/plain-3.0.jar", &plain);
    let dir = dir_with_archive(&TestImage::new(vec![layer.bytes()]).docker_archive("jars:1"));
    let sbom = sbom_of(dir.path(), "docker-archive:img.tar");
    let mut purls: Vec<String> = packages(&sbom).into_iter().map(|p| p.2).collect();
    purls.sort();
    assert_eq!(
        purls,
        [
            "pkg:maven/com.example/shaded-app@2.1",
            "pkg:maven/org.lib/inner@1.0",
            "pkg:maven/org.lib/plain@3.0",
        ],
        "the shaded jar is itself a package; a jar its pom.properties describes is not listed twice"
    );
}

#[test]
fn platform_picks_the_image_of_a_multi_platform_layout() {
    // One OCI layout holding an s390x image (listed first) and an amd64 image, as `docker buildx
    // build --platform linux/s390x,linux/amd64 --output type=oci` writes them.
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    let image_of = |marker: &str, architecture: &str| {
        let layer = Layer::new()
            .file("usr/lib/os-release", OS_RELEASE)
            .file("var/lib/dpkg/status", &dpkg_paragraph(marker, "1.0"))
            .bytes();
        let mut image = TestImage::new(vec![layer]);
        image.architecture = architecture.into();
        image
    };
    let s390x =
        image_of("on-s390x", "s390x").write_oci_dir(&layout, Compression::Gzip, "example/multi:1");
    let index_of_one = std::fs::read(layout.join("index.json")).unwrap();
    let amd64 =
        image_of("on-amd64", "amd64").write_oci_dir(&layout, Compression::Gzip, "example/multi:1");
    let mut index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let first: Value = serde_json::from_slice(&index_of_one).unwrap();
    let entries = index["manifests"].as_array_mut().unwrap();
    entries.insert(0, first["manifests"][0].clone());
    std::fs::write(
        layout.join("index.json"),
        serde_json::to_vec(&index).unwrap(),
    )
    .unwrap();

    let names = |sbom: &Value| -> Vec<String> { packages(sbom).into_iter().map(|p| p.0).collect() };
    for (platform, digest, marker) in [
        ("linux/s390x", &s390x, "on-s390x"),
        ("linux/amd64", &amd64, "on-amd64"),
    ] {
        let out = run_vouch(
            dir.path(),
            &["sbom", "oci-dir:layout", "--platform", platform],
        );
        assert!(out.status.success(), "{platform}: {}", stderr(&out));
        let sbom = valid_cyclonedx(&out.stdout);
        assert_eq!(names(&sbom), [marker], "{platform}");
        assert_eq!(
            image_properties(&sbom, "vouch:image:manifestDigest"),
            [digest.as_str()]
        );
    }
    // Without --platform, never the first entry when this machine's platform is listed.
    if std::env::consts::ARCH == "x86_64" {
        assert_eq!(names(&sbom_of(dir.path(), "oci-dir:layout")), ["on-amd64"]);
    }

    // A platform the index does not have, a single-platform image of another platform, and a
    // value that is not a platform.
    let out = run_vouch(
        dir.path(),
        &["sbom", "oci-dir:layout", "--platform", "linux/arm64"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "the image index has no linux/arm64 image (it has: linux/s390x, linux/amd64)"
        ),
        "{}",
        stderr(&out)
    );
    std::fs::write(
        dir.path().join("one.tar"),
        image_of("alone", "amd64").docker_archive("example/one:1"),
    )
    .unwrap();
    let out = run_vouch(
        dir.path(),
        &[
            "check",
            "docker-archive:one.tar",
            "--platform",
            "linux/s390x",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the image is linux/amd64, not linux/s390x"),
        "{}",
        stderr(&out)
    );
    let out = run_vouch(
        dir.path(),
        &["scan", "oci-dir:layout", "--platform", "s390x"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a platform"),
        "{}",
        stderr(&out)
    );
}
