//! PHP's PEAR and PECL packages, from the registry the PEAR installer keeps beside the PHP code it
//! installed (`php/.registry/NAME.reg` for the default channel, `php/.registry/.channel.CHANNEL/
//! NAME.reg` for the others, `pecl install` among them): each file is one package, a PHP-serialized
//! array whose `name`, `channel`, `version.release` and `license` are read. Official PHP images
//! carry PEAR's own packages this way; Debian's php-pear installs them under `/usr/share/php`.
//!
//! Purls: `pkg:pear/CHANNEL/NAME@VERSION`, `pkg:pecl/CHANNEL/NAME@VERSION` for the PECL channel.
//! The serialized data is read as a stream of tokens (phpserz), never as nested values: a hostile
//! file's nesting costs a counter, not the stack.

use super::{CatalogOutput, Cataloger, Kind};
use crate::layers::{FileIndex, IndexedEntry};
use crate::license::normalize;
use crate::package::{Evidence, Package};
use crate::purl::build_purl;
use phpserz::{PhpParser, PhpToken};

pub const NAME: &str = "php-pear";
/// By extension alone (globset's cheapest matcher, tried on every path of every layer);
/// [`registry_channel`] keeps the registry's files.
pub const GLOBS: &[&str] = &["**/*.reg"];

/// The channel PEAR's registry files name when it is the default one.
const DEFAULT_CHANNEL: &str = "pear.php.net";
const PECL_CHANNEL: &str = "pecl.php.net";

/// This cataloger, as [`super::CATALOGERS`] lists it.
pub const CATALOGER: Cataloger = Cataloger {
    name: NAME,
    kind: Kind::Language,
    globs: GLOBS,
    probes: &[],
    catalog: |input| catalog(input.files),
};

/// What one registry file says of its package.
#[derive(Debug, Default, PartialEq)]
struct Registered {
    name: Option<String>,
    channel: Option<String>,
    version: Option<String>,
    license: Option<String>,
}

/// Every package a PEAR registry lists.
pub fn catalog(files: &FileIndex) -> CatalogOutput {
    let mut output = CatalogOutput::default();
    for entry in files.entries() {
        let path = entry.entry.path.as_str();
        let Some(channel_dir) = registry_channel(path) else {
            continue;
        };
        let Some(bytes) = entry.contents() else {
            continue;
        };
        match parse(bytes) {
            Ok(registered) => {
                if let Some(package) = package_of(registered, channel_dir, entry) {
                    output.packages.push(package);
                } else {
                    output
                        .warnings
                        .push(format!("/{path}: no package name or version; skipped"));
                }
            }
            Err(e) => output
                .warnings
                .push(format!("/{path}: not a PEAR registry entry ({e}); skipped")),
        }
    }
    output
}

/// For a registry file, the channel its directory names (`None` for the default channel's
/// `.registry/NAME.reg`); not a registry file at all: `None` outside.
fn registry_channel(path: &str) -> Option<Option<&str>> {
    // Every kept path passes here: the suffix, cheapest, first.
    if !path.ends_with(".reg") {
        return None;
    }
    let (_, rest) = path
        .rsplit_once("/.registry/")
        .or_else(|| path.strip_prefix(".registry/").map(|r| ("", r)))?;
    let file = rest.strip_suffix(".reg")?;
    match rest.split_once('/') {
        None if !file.is_empty() && !file.starts_with('.') => Some(None),
        Some((dir, name)) if !name.contains('/') && name.len() > 4 => dir
            .strip_prefix(".channel.")
            .filter(|c| !c.is_empty())
            .map(Some),
        _ => None,
    }
}

fn package_of(
    registered: Registered,
    channel_dir: Option<&str>,
    entry: &IndexedEntry,
) -> Option<Package> {
    let name = registered.name.filter(|n| !n.trim().is_empty())?;
    let version = registered.version.filter(|v| !v.trim().is_empty())?;
    let channel = registered
        .channel
        .or_else(|| channel_dir.map(str::to_string))
        .unwrap_or_else(|| DEFAULT_CHANNEL.to_string())
        .to_ascii_lowercase();
    let purl_type = if channel == PECL_CHANNEL {
        "pecl"
    } else {
        "pear"
    };
    let purl = build_purl(purl_type, Some(&channel), &name, &version, &[]).ok()?;
    Some(Package {
        name,
        version,
        purl_type,
        purl,
        licenses: registered
            .license
            .as_deref()
            .and_then(normalize)
            .into_iter()
            .collect(),
        cpe: None,
        evidence: Evidence {
            path: entry.entry.path.as_str().into(),
            layer_index: entry.layer_index,
        },
        cataloger: NAME,
        properties: vec![("vouch:pear:channel".into(), channel)],
    })
}

/// Reads the top-level `name`, `channel`, `version` (`release`) and `license` (a string, or
/// `_content` of an array with attributes) of a serialized registry array.
fn parse(bytes: &[u8]) -> Result<Registered, phpserz::Error> {
    let mut parser = PhpParser::new(bytes);
    let PhpToken::Array { elements } = parser.read_token()? else {
        return Err(not_an_array());
    };
    let mut registered = Registered::default();
    for _ in 0..elements {
        let key = match parser.read_token()? {
            PhpToken::String(s) => s.as_bytes(),
            PhpToken::Integer(_) => b"",
            _ => return Err(not_an_array()),
        };
        match key {
            b"name" => registered.name = text(&mut parser)?,
            b"channel" => registered.channel = text(&mut parser)?,
            b"version" => registered.version = field_of(&mut parser, b"release")?,
            b"license" => registered.license = field_of(&mut parser, b"_content")?,
            _ => skip_value(&mut parser)?,
        }
    }
    Ok(registered)
}

/// A string value (anything else is skipped and read as none).
fn text(parser: &mut PhpParser) -> Result<Option<String>, phpserz::Error> {
    let token = parser.read_token()?;
    match token {
        PhpToken::String(s) => Ok(Some(String::from_utf8_lossy(s.as_bytes()).into_owned())),
        other => {
            skip_rest(parser, &other)?;
            Ok(None)
        }
    }
}

/// A string value, or the string at `field` of an array value.
fn field_of(parser: &mut PhpParser, field: &[u8]) -> Result<Option<String>, phpserz::Error> {
    let token = parser.read_token()?;
    let PhpToken::Array { elements } = token else {
        return match token {
            PhpToken::String(s) => Ok(Some(String::from_utf8_lossy(s.as_bytes()).into_owned())),
            other => {
                skip_rest(parser, &other)?;
                Ok(None)
            }
        };
    };
    let mut found = None;
    for _ in 0..elements {
        let key = parser.read_token()?;
        if matches!(key, PhpToken::String(s) if s.as_bytes() == field) {
            found = text(parser)?;
        } else {
            skip_value(parser)?;
        }
    }
    expect_end(parser)?;
    Ok(found)
}

/// Skips one whole value.
fn skip_value(parser: &mut PhpParser) -> Result<(), phpserz::Error> {
    let token = parser.read_token()?;
    skip_rest(parser, &token)
}

/// Skips what is left of a value whose first token was `first`: an array's or object's members up
/// to its end, counted, not recursed into.
fn skip_rest(parser: &mut PhpParser, first: &PhpToken) -> Result<(), phpserz::Error> {
    if !matches!(first, PhpToken::Array { .. } | PhpToken::Object { .. }) {
        return Ok(());
    }
    let mut depth: usize = 1;
    while depth > 0 {
        match parser.read_token()? {
            PhpToken::Array { .. } | PhpToken::Object { .. } => depth += 1,
            PhpToken::End => depth -= 1,
            _ => {}
        }
    }
    Ok(())
}

fn expect_end(parser: &mut PhpParser) -> Result<(), phpserz::Error> {
    match parser.read_token()? {
        PhpToken::End => Ok(()),
        _ => Err(not_an_array()),
    }
}

fn not_an_array() -> phpserz::Error {
    phpserz::Error::from(phpserz::ErrorKind::Deserialize {
        message: "not a serialized array of package fields".to_string(),
        position: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_paths() {
        assert_eq!(
            registry_channel("usr/share/php/.registry/xml_util.reg"),
            Some(None)
        );
        assert_eq!(
            registry_channel("usr/local/lib/php/.registry/.channel.pecl.php.net/redis.reg"),
            Some(Some("pecl.php.net"))
        );
        assert_eq!(
            registry_channel("usr/share/php/.channels/pear.php.net.reg"),
            None
        );
        assert_eq!(registry_channel("usr/share/php/.registry/.depdb"), None);
        assert_eq!(registry_channel("x/.registry/.channel.a/b/c.reg"), None);
    }

    #[test]
    fn top_level_fields_only_and_nesting_costs_no_stack() {
        let reg = br#"a:5:{s:4:"name";s:8:"XML_Util";s:9:"changelog";a:1:{i:0;a:2:{s:7:"version";a:1:{s:7:"release";s:3:"0.1";}s:4:"name";s:1:"x";}}s:7:"channel";s:12:"pear.php.net";s:7:"version";a:2:{s:7:"release";s:5:"1.4.5";s:3:"api";s:5:"1.4.0";}s:7:"license";a:2:{s:7:"attribs";a:1:{s:3:"uri";s:4:"http";}s:8:"_content";s:3:"BSD";}}"#;
        assert_eq!(
            parse(reg).unwrap(),
            Registered {
                name: Some("XML_Util".into()),
                channel: Some("pear.php.net".into()),
                version: Some("1.4.5".into()),
                license: Some("BSD".into()),
            }
        );
        let mut deep = b"a:1:{s:1:\"x\";".to_vec();
        for _ in 0..200_000 {
            deep.extend_from_slice(b"a:1:{i:0;");
        }
        assert!(parse(&deep).is_err(), "ends inside: an error, not a crash");
        assert!(parse(b"s:3:\"abc\";").is_err());
        assert!(parse(b"a:99999999:{").is_err());
    }
}
