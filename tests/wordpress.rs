//! WordPress as Debian ships it (core, the Akismet plugin, a default theme), unpacked without dpkg
//! into an image imported into the engine, compared with what WordPress's own `get_file_data()`
//! (run by php-cli on the same files) reads of the core version and each plugin's and theme's
//! header.

mod support;

use std::process::Command;
use support::*;

const WORDPRESS: &str = "usr/share/wordpress";

#[test]
fn wordpress_core_plugins_and_themes_match_get_file_data() {
    require_engine();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    unpack_debs(&["wordpress", "wordpress-theme-twentytwentythree"], &root);
    // A single-file plugin beside the directories, as `wp-content/plugins/hello.php` is upstream.
    std::fs::write(
        root.join(WORDPRESS).join("wp-content/plugins/vouch-hello.php"),
        "<?php\n/**\n * @package Vouch_Hello\n * @version 1.7.2\n */\n/*\nPlugin Name: Vouch Hello\nVersion: 1.7.2\nLicense: GPLv2 or later\n*/\n",
    )
    .unwrap();
    let site = root.join(WORDPRESS).canonicalize().unwrap();
    let script = format!(
        r#"define("ABSPATH", "{}/"); define("WPINC", "wp-includes"); define("KB_IN_BYTES", 1024);
function apply_filters($tag, $value) {{ return $value; }}
require ABSPATH . "wp-includes/functions.php";
include ABSPATH . "wp-includes/version.php";
echo "wordpress\t\t$wp_version\n";
$plugins = array_merge(glob(ABSPATH . "wp-content/plugins/*.php"), glob(ABSPATH . "wp-content/plugins/*/*.php"));
foreach ($plugins as $file) {{
    $data = get_file_data($file, array("Name" => "Plugin Name", "Version" => "Version"));
    if ($data["Name"] === "") continue;
    $parent = basename(dirname($file));
    $slug = $parent === "plugins" ? basename($file, ".php") : $parent;
    echo "$slug\twordpress-plugins\t{{$data["Version"]}}\n";
}}
foreach (glob(ABSPATH . "wp-content/themes/*/style.css") as $file) {{
    $data = get_file_data($file, array("Name" => "Theme Name", "Version" => "Version"));
    if ($data["Name"] === "") continue;
    echo basename(dirname($file)) . "\twordpress-themes\t{{$data["Version"]}}\n";
}}"#,
        site.display()
    );
    let out = Command::new("php")
        .arg("-r")
        .arg(&script)
        .output()
        .expect("php runs (make deps installs php-cli)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            match f[1] {
                "" => format!("pkg:generic/{}@{}", f[0], f[2]),
                namespace => format!("pkg:generic/{namespace}/{}@{}", f[0], f[2]),
            }
        })
        .collect();
    expected.sort();
    assert!(
        expected.len() >= 4,
        "core, akismet, the single-file plugin and a theme: {expected:?}"
    );

    let tag = import_dir(
        &root,
        &format!("vouch-test/wordpress:{}", std::process::id()),
    );
    let (sbom, _) = sbom_of_image(&tag);
    let mut found: Vec<String> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:generic/wordpress"))
        .map(|p| p.2)
        .collect();
    found.sort();
    assert_eq!(found, expected);
    let core = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "wordpress")
        .unwrap();
    assert_eq!(
        core["cpe"],
        format!(
            "cpe:2.3:a:wordpress:wordpress:{}:*:*:*:*:*:*:*",
            core["version"].as_str().unwrap()
        )
    );
    docker(&["rmi", "-f", &tag]);
}
