//! PHP's PEAR and PECL packages, from registries PEAR's own installer wrote: Debian's php-pear
//! registry (PEAR's packages, as official PHP images carry them) and a PECL-channel package that
//! `pear install` installed; compared with what `pear list -a` reads from the same registry, through
//! an image imported into the engine (no dpkg database).

mod support;

use std::path::Path;
use std::process::Command;
use support::*;

fn run(program: &str, args: &[&str], cwd: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (make deps installs php-pear): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// (channel, package, version) of every package `pear list -a` prints.
fn pear_list(listing: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut channel = None;
    for line in listing.lines() {
        if let Some(rest) = line.strip_prefix("INSTALLED PACKAGES, CHANNEL ") {
            channel = Some(rest.trim_end_matches(':').to_ascii_lowercase());
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let (Some(channel), [name, version, _state]) = (&channel, fields.as_slice()) {
            if *name != "PACKAGE" && !name.starts_with('(') {
                found.push((channel.clone(), name.to_string(), version.to_string()));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn pear_and_pecl_registries_match_pear_list() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let conf = dir.path().join("pear.conf");
    let (root_s, conf_s) = (root.display().to_string(), conf.display().to_string());
    // PEAR's layout under ROOT/usr/local: php_dir is ROOT/usr/local/pear/php.
    run(
        "pear",
        &["config-create", &format!("{root_s}/usr/local"), &conf_s],
        dir.path(),
    );
    // A package of the PECL channel, packaged and installed by PEAR itself, offline.
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("vouchtest.php"), "<?php // vouch test\n").unwrap();
    std::fs::write(
        src.join("package.xml"),
        r#"<?xml version="1.0" encoding="UTF-8"?>
<package version="2.0" xmlns="http://pear.php.net/dtd/package-2.0">
 <name>vouchtest</name>
 <channel>pecl.php.net</channel>
 <summary>A test package</summary>
 <description>A test package.</description>
 <lead><name>Test</name><user>test</user><email>test@example.org</email><active>yes</active></lead>
 <date>2026-12-01</date>
 <version><release>2.3.4</release><api>2.0.0</api></version>
 <stability><release>stable</release><api>stable</api></stability>
 <license uri="https://www.php.net/license/3_01.txt">PHP-3.01</license>
 <notes>First.</notes>
 <contents><dir name="/"><file name="vouchtest.php" role="php"/></dir></contents>
 <dependencies><required><php><min>5.3.0</min></php><pearinstaller><min>1.4.0</min></pearinstaller></required></dependencies>
 <phprelease/>
</package>
"#,
    )
    .unwrap();
    run("pear", &["package", "package.xml"], &src);
    run(
        "pear",
        &[
            "-c",
            &conf_s,
            "install",
            "--offline",
            "--nodeps",
            "vouchtest-2.3.4.tgz",
        ],
        &src,
    );
    // Debian's php-pear registry (PEAR, Archive_Tar, XML_Util, ...), into the same registry.
    let deb = debian_debs(&["php-pear"])["php-pear"].display().to_string();
    let unpacked = dir.path().join("deb");
    run(
        "dpkg-deb",
        &["-x", &deb, &unpacked.display().to_string()],
        dir.path(),
    );
    let registry = root.join("usr/local/pear/php/.registry");
    for file in std::fs::read_dir(unpacked.join("usr/share/php/.registry")).unwrap() {
        let file = file.unwrap().path();
        if file.extension().is_some_and(|e| e == "reg") {
            std::fs::copy(&file, registry.join(file.file_name().unwrap())).unwrap();
        }
    }
    let expected = pear_list(&run("pear", &["-c", &conf_s, "list", "-a"], dir.path()));
    assert!(expected.len() >= 7, "{expected:?}");
    assert!(
        expected.iter().any(|p| p.0 == "pecl.php.net"),
        "{expected:?}"
    );

    let tag = import_dir(&root, &format!("vouch-test/pear:{}", std::process::id()));
    let (sbom, _) = sbom_of_image(&tag);
    let mut found: Vec<(String, String, String)> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            let purl = c["purl"].as_str()?;
            let rest = purl
                .strip_prefix("pkg:pear/")
                .or_else(|| purl.strip_prefix("pkg:pecl/"))?;
            let channel = rest.split('/').next()?.to_string();
            assert_eq!(
                purl,
                format!(
                    "pkg:{}/{channel}/{}@{}",
                    if channel == "pecl.php.net" {
                        "pecl"
                    } else {
                        "pear"
                    },
                    c["name"].as_str()?,
                    c["version"].as_str()?
                )
            );
            Some((
                channel,
                c["name"].as_str()?.to_string(),
                c["version"].as_str()?.to_string(),
            ))
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
    docker(&["rmi", "-f", &tag]);
}
