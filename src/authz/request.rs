//! The engine's authorization requests, read as the engine's router will act on them: which ones
//! run an image. The engine passes the URI as the client sent it and the body only when it is JSON
//! and under 1 MiB; its router decodes percent-escapes, takes any `/vX.Y` version prefix, and its
//! JSON decoder matches field names case-insensitively. A request is classified the same way, and
//! one that cannot be read with certainty is refused rather than waved through.

use base64::Engine as _;
use serde::Deserialize;

/// An `AuthZPlugin.AuthZReq` body, as the engine sends it (moby's `pkg/authorization.Request`:
/// `RequestUri`, not `RequestURI`; `RequestBody` is base64, left unread until a request that runs
/// an image needs it). A request without a method or URI is not read as one that runs nothing:
/// it fails to parse, and is refused.
#[derive(Debug, Deserialize)]
pub struct AuthzRequest {
    #[serde(rename = "RequestMethod")]
    pub method: String,
    #[serde(rename = "RequestUri")]
    pub uri: String,
    #[serde(rename = "RequestBody", default)]
    body: Option<Box<serde_json::value::RawValue>>,
    #[serde(rename = "User", default)]
    pub user: String,
}

/// What a request does, as far as running images goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// `POST /containers/create` of this image reference.
    Create { image: String },
    /// `POST /containers/{name}/start` (or `restart`).
    Start { container: String },
    /// Runs no image.
    Other,
}

impl AuthzRequest {
    pub fn parse(bytes: &[u8]) -> Result<AuthzRequest, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("not an authorization request ({e})"))
    }

    /// What the request does; an error when a request that may run an image cannot be read.
    pub fn action(&self) -> Result<Action, String> {
        let method = self.method.to_ascii_uppercase();
        if method != "POST" {
            return Ok(Action::Other);
        }
        let path = route_path(&self.uri)?;
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["containers", "create"] => Ok(Action::Create {
                image: self.create_image()?,
            }),
            // A restart starts the container again, from the same image: judged as a start.
            ["containers", name, "start" | "restart"] => Ok(Action::Start {
                container: (*name).to_string(),
            }),
            _ => Ok(Action::Other),
        }
    }

    /// The `Image` of a create request's body (matched as Go's decoder matches it).
    fn create_image(&self) -> Result<String, String> {
        let body = match &self.body {
            Some(raw) if raw.get() != "null" => raw,
            _ => {
                return Err("the engine passed no request body (it passes only JSON under 1 MiB), so the image cannot be told".into())
            }
        };
        let encoded: String = serde_json::from_str(body.get())
            .map_err(|e| format!("the request body is not base64 text ({e})"))?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_bytes())
            .map_err(|e| format!("the request body is not base64 ({e})"))?;
        let fields: Fields = serde_json::from_slice(&decoded)
            .map_err(|e| format!("the container configuration is not a JSON object ({e})"))?;
        let mut images = fields
            .0
            .into_iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case("image"));
        let image = match (images.next(), images.next()) {
            (Some((_, serde_json::Value::String(image))), None) => image,
            (Some(_), Some(_)) => {
                return Err("the container configuration names its image more than once".into())
            }
            (Some(_), None) => return Err("the container configuration's Image is not text".into()),
            (None, _) => return Err("the container configuration names no image".into()),
        };
        if image.trim().is_empty() {
            return Err("the container configuration names no image".into());
        }
        Ok(image)
    }
}

/// A JSON object's fields in order, duplicates kept (a parser that keeps the last and one that
/// keeps the first would otherwise see different images).
struct Fields(Vec<(String, serde_json::Value)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Fields, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(Fields(fields))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// The path the engine's router matches: the URI's path, percent-decoded, with `.`, `..` and empty
/// segments resolved and any `/vX.Y` version prefix taken off.
fn route_path(uri: &str) -> Result<String, String> {
    let raw = uri.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(raw).ok_or_else(|| format!("{uri:?}: not a readable path"))?;
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    if segments.first().is_some_and(|first| is_version(first)) {
        segments.remove(0);
    }
    Ok(format!("/{}", segments.join("/")))
}

/// `v1.41`, `v1`: the API version prefix the engine's router accepts.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .is_some_and(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `%XX` escapes decoded; `None` for a malformed escape or text that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: &str, uri: &str, body: Option<&str>) -> AuthzRequest {
        let body = body.map(|b| base64::engine::general_purpose::STANDARD.encode(b));
        AuthzRequest::parse(
            serde_json::json!({
                "User": "", "UserAuthNMethod": "", "RequestMethod": method, "RequestUri": uri,
                "RequestBody": body, "RequestHeaders": {"Content-Type": "application/json"}
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap()
    }

    fn create(image: &str) -> Action {
        Action::Create {
            image: image.to_string(),
        }
    }

    #[test]
    fn creates_and_starts_are_found_however_the_path_is_written() {
        let body = Some(r#"{"Image":"app:1","Cmd":["true"],"HostConfig":{}}"#);
        for uri in [
            "/containers/create",
            "/v1.41/containers/create?name=web",
            "/v1.24//containers/create",
            "/v1.41/containers/%63reate",
            "/v1.41/images/../containers/create",
            "/v1/containers/./create/",
        ] {
            assert_eq!(
                request("POST", uri, body).action(),
                Ok(create("app:1")),
                "{uri}"
            );
        }
        assert_eq!(
            request("POST", "/v1.41/containers/abc123/start", None).action(),
            Ok(Action::Start {
                container: "abc123".into()
            })
        );
        assert_eq!(
            request("POST", "/v1.41/containers/web/restart?t=3", None).action(),
            Ok(Action::Start {
                container: "web".into()
            })
        );
        for (method, uri) in [
            ("GET", "/v1.41/containers/json"),
            ("POST", "/v1.41/images/create?fromImage=app"),
            ("POST", "/v1.41/containers/abc/stop"),
            ("GET", "/_ping"),
        ] {
            assert_eq!(
                request(method, uri, None).action(),
                Ok(Action::Other),
                "{uri}"
            );
        }
        assert!(request("POST", "/v1.41/containers/%zzcreate", body)
            .action()
            .is_err());
    }

    /// The engine's field names, and nothing less: a request the plugin cannot place is refused.
    #[test]
    fn requests_without_method_or_uri_do_not_parse() {
        assert!(AuthzRequest::parse(
            br#"{"RequestMethod":"POST","RequestURI":"/containers/create"}"#
        )
        .is_err());
        assert!(AuthzRequest::parse(br#"{"RequestUri":"/containers/create"}"#).is_err());
        assert!(AuthzRequest::parse(b"[]").is_err());
    }

    /// Go's decoder takes `image` and `IMAGE` for `Image`: so does the plugin, and a configuration
    /// naming it twice, or not at all, or a create without a body, is refused.
    #[test]
    fn the_image_is_read_as_the_engine_reads_it() {
        let uri = "/v1.41/containers/create";
        assert_eq!(
            request("POST", uri, Some(r#"{"image":"evil:1"}"#)).action(),
            Ok(create("evil:1"))
        );
        for body in [
            r#"{"Image":"good:1","IMAGE":"evil:1"}"#,
            r#"{"Image":"good:1","Image":"evil:1"}"#,
            r#"{"Cmd":["true"]}"#,
            r#"{"Image":""}"#,
            r#"{"Image":7}"#,
            "[]",
            "not json",
        ] {
            assert!(request("POST", uri, Some(body)).action().is_err(), "{body}");
        }
        let err = request("POST", uri, None).action().unwrap_err();
        assert!(err.contains("no request body"), "{err}");
    }
}
