//! A loopback HTTP/1.1 file server for the database tests: it serves files by path with an ETag (the
//! body's SHA-256) and a Last-Modified, answers `If-None-Match` with 304, and can be told to
//! misbehave per path (cut the body short, send an HTML page, redirect elsewhere) or to stop
//! answering at all. Every request's path and headers are recorded.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// How a path is answered.
#[derive(Clone)]
pub enum Serve {
    /// The body, with its ETag and Content-Length.
    File(Vec<u8>),
    /// Promises the whole body's length but sends only the first `n` bytes, then closes.
    Truncated(Vec<u8>, usize),
    /// A 200 with an HTML page, as a misconfigured mirror or a captive portal answers.
    Html,
    /// A 302 to this location.
    Redirect(String),
}

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HashMap<String, String>,
}

pub struct Mirror {
    pub base: String,
    routes: Arc<Mutex<HashMap<String, Serve>>>,
    requests: Arc<Mutex<Vec<Request>>>,
    stopped: Arc<AtomicBool>,
}

impl Mirror {
    /// Starts a server on a free loopback port.
    pub fn start() -> Mirror {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let routes: Arc<Mutex<HashMap<String, Serve>>> = Arc::default();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let stopped = Arc::new(AtomicBool::new(false));
        let (r, q, s) = (routes.clone(), requests.clone(), stopped.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    // Gone: the listener closes with this thread, and the connection is dropped.
                    break;
                }
                if let Ok(stream) = stream {
                    let (r, q) = (r.clone(), q.clone());
                    std::thread::spawn(move || answer(stream, &r, &q));
                }
            }
        });
        Mirror {
            base,
            routes,
            requests,
            stopped,
        }
    }

    pub fn serve(&self, path: &str, how: Serve) {
        self.routes.lock().unwrap().insert(path.to_string(), how);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    /// Stops answering: the next connection is dropped and the port closed.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
    }
}

fn etag(body: &[u8]) -> String {
    format!("\"{}\"", &super::sha256(body)[7..23])
}

fn answer(
    mut stream: TcpStream,
    routes: &Mutex<HashMap<String, Serve>>,
    requests: &Mutex<Vec<Request>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    requests.lock().unwrap().push(Request {
        path: path.clone(),
        headers: headers.clone(),
    });
    let route = routes.lock().unwrap().get(&path).cloned();
    let head = |status: &str, extra: &str, length: usize| {
        format!("HTTP/1.1 {status}\r\nContent-Length: {length}\r\nConnection: close\r\n{extra}\r\n")
    };
    let _ = match route {
        None => stream.write_all(head("404 Not Found", "", 0).as_bytes()),
        Some(Serve::File(body)) => {
            let tag = etag(&body);
            if headers.get("if-none-match") == Some(&tag) {
                stream
                    .write_all(head("304 Not Modified", &format!("ETag: {tag}\r\n"), 0).as_bytes())
            } else {
                let extra = format!(
                    "ETag: {tag}\r\nLast-Modified: Tue, 01 Dec 2026 00:00:00 GMT\r\nContent-Type: application/zip\r\n"
                );
                stream
                    .write_all(head("200 OK", &extra, body.len()).as_bytes())
                    .and_then(|_| stream.write_all(&body))
            }
        }
        Some(Serve::Truncated(body, sent)) => {
            let extra = format!("ETag: {}\r\nContent-Type: application/zip\r\n", etag(&body));
            stream
                .write_all(head("200 OK", &extra, body.len()).as_bytes())
                .and_then(|_| stream.write_all(&body[..sent]))
        }
        Some(Serve::Html) => {
            let page = b"<html><body>Please log in</body></html>";
            stream
                .write_all(
                    head(
                        "200 OK",
                        "Content-Type: text/html; charset=utf-8\r\n",
                        page.len(),
                    )
                    .as_bytes(),
                )
                .and_then(|_| stream.write_all(page))
        }
        Some(Serve::Redirect(to)) => {
            stream.write_all(head("302 Found", &format!("Location: {to}\r\n"), 0).as_bytes())
        }
    };
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Both);
}
