//! The Ruby cataloger on a real image: the gemspecs Debian's Ruby installs (bundled gems and
//! `specifications/default`), read through the Docker engine and compared with what RubyGems itself
//! loads from the same files (`Gem::Specification.load`).

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use support::*;

fn copy_dir(from: &Path, to: &Path) {
    let out = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cp: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn gemspecs_match_rubygems() {
    require_engine();
    let gems = Command::new("ruby")
        .args([
            "-e",
            "print File.dirname(File.dirname(Gem.default_specifications_dir))",
        ])
        .output()
        .expect("ruby runs (make deps installs it)");
    let gem_dir = std::path::PathBuf::from(String::from_utf8(gems.stdout).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    let target = root.join(gem_dir.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&target).unwrap();
    copy_dir(&gem_dir.join("specifications"), &target);
    // A gemspec that is not one: a warning, the rest still cataloged.
    std::fs::write(
        target.join("specifications/broken-0.1.gemspec"),
        "Gem::Specification.new do |s|\nend\n",
    )
    .unwrap();

    let script = "(Dir[File.join(ARGV[0], '**', 'specifications', '*.gemspec')] + \
                  Dir[File.join(ARGV[0], '**', 'specifications', 'default', '*.gemspec')]).each { |f| \
                  s = Gem::Specification.load(f); puts \"#{s.name}\\t#{s.version}\" if s && s.name }";
    let out = Command::new("ruby")
        .args(["-e", script])
        .arg(&root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: BTreeSet<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    assert!(
        expected.len() > 30,
        "Ruby ships dozens of gems: {expected:?}"
    );

    let tag = format!("vouch-test/ruby:{}", std::process::id());
    import_dir(&root, &tag);
    let (sbom, warnings) = sbom_of_image(&tag);
    assert!(
        warnings.contains("broken-0.1.gemspec: no `name` in the gemspec"),
        "{}",
        warnings
    );
    let found: BTreeSet<(String, String)> = packages(&sbom)
        .into_iter()
        .filter(|p| p.2.starts_with("pkg:gem/"))
        .map(|(name, version, _, _, _)| (name, version))
        .collect();
    assert_eq!(found, expected, "the same gems RubyGems loads");
    let rake = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "rake")
        .expect("rake");
    assert_eq!(
        rake["purl"],
        format!("pkg:gem/rake@{}", rake["version"].as_str().unwrap())
    );
    assert_eq!(
        rake["licenses"],
        serde_json::json!([{"license": {"id": "MIT"}}])
    );
    Command::new("docker")
        .args(["rmi", "-f", &tag])
        .output()
        .unwrap();
}
