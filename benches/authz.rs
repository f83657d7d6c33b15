//! The authorization plugin's cost on requests that run no image (every `docker ps`, `logs`,
//! `pull`...): the engine waits for the plugin's answer on each API call, so it must come back in
//! well under a millisecond. The plugin's server runs in this process on a unix socket, as the
//! engine reaches it; a client on one kept-alive connection, as the engine's plugin client keeps
//! one, sends `AuthZReq`s as moby writes them: a `GET /containers/json` with no body, and a `POST`
//! that runs nothing with a body near the 1 MiB the engine passes at most. Prints one line.

use base64::Engine as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vouch::authz::{serve, AuthzOptions, Decision, Judge, Privileges};

/// Never asked: the requests measured run no image.
struct Unused;

impl Judge for Unused {
    fn image(&self, _: &str, _: &Privileges) -> Decision {
        Decision::Refuse("asked".into())
    }
    fn container(&self, _: &str) -> Decision {
        Decision::Refuse("asked".into())
    }
    fn exec(&self, _: &str, _: &Privileges) -> Decision {
        Decision::Refuse("asked".into())
    }
    fn volume(&self, _: &Privileges) -> Decision {
        Decision::Refuse("asked".into())
    }
}

fn request(method: &str, uri: &str, body: Option<&[u8]>) -> Vec<u8> {
    let mut doc = serde_json::json!({
        "User": "", "UserAuthNMethod": "", "RequestMethod": method, "RequestUri": uri,
        "RequestHeaders": {"Content-Type": "application/json", "User-Agent": "Docker-Client/20.10.24 (linux)"}
    });
    if let Some(body) = body {
        doc["RequestBody"] = base64::engine::general_purpose::STANDARD
            .encode(body)
            .into();
    }
    let json = doc.to_string();
    format!(
        "POST /AuthZPlugin.AuthZReq HTTP/1.1\r\nHost: plugin\r\nContent-Type: application/vnd.docker.plugins.v1.2+json\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    )
    .into_bytes()
}

/// Sends `request` `runs` times on one connection; the round trips' times, sorted.
fn round_trips(socket: &std::path::Path, request: &[u8], runs: usize) -> Vec<Duration> {
    let stream = UnixStream::connect(socket).expect("the plugin listens");
    let mut reader = BufReader::new(stream.try_clone().expect("a second handle"));
    let mut writer = stream;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        writer.write_all(request).expect("sent");
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).expect("a header line");
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).expect("the answer");
        times.push(started.elapsed());
        assert!(
            body.starts_with(br#"{"Allow":true"#),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    times.sort();
    times
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let socket = dir.path().join("plugin.sock");
    let served = socket.clone();
    std::thread::spawn(move || {
        let options = AuthzOptions {
            decision_timeout: Duration::from_secs(10),
            max_decisions: 16,
        };
        serve(&served, Arc::new(Unused), options, |_| {}).expect("the plugin serves");
    });
    let started = Instant::now();
    while UnixStream::connect(&socket).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the plugin did not listen"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let list = request("GET", "/v1.41/containers/json?all=1", None);
    let big_body = format!(
        r#"{{"Name":"net","Labels":{{"x":"{}"}}}}"#,
        "a".repeat(700 * 1024)
    );
    let big = request("POST", "/v1.41/networks/create", Some(big_body.as_bytes()));
    round_trips(&socket, &list, 1_000); // warm up
    let small = round_trips(&socket, &list, 20_000);
    let large = round_trips(&socket, &big, 500);
    let at = |t: &[Duration], q: f64| micros(t[((t.len() as f64 - 1.0) * q) as usize]);
    println!(
        "authz: requests that run no image, one connection: GET /containers/json median {:.0} µs (p99 {:.0} µs, 20,000 requests); a POST with a {} KiB body median {:.0} µs (p99 {:.0} µs, 500 requests)",
        at(&small, 0.5),
        at(&small, 0.99),
        big.len() / 1024,
        at(&large, 0.5),
        at(&large, 0.99)
    );
    std::process::exit(0);
}
