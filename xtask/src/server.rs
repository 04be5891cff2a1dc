//! A small static file server (std only) with the headers the site needs: cross-origin
//! isolation (COOP same-origin + COEP require-corp) for the threaded build, and the MIME types
//! browsers insist on for modules and wasm. Every response may be read from other origins (CORS `*`,
//! CORP cross-origin): the embeds (`embed.js`) load the site's modules, wasm and model from a
//! blog on another origin.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};

/// What to serve.
#[derive(Clone)]
pub enum Site {
    /// The development layout: `www/` at `/`, with the wasm builds (`/pkg*/`, see `BUILDS`) from the root, and
    /// `/peer/` from `tests/bench/` (the benchmark's peer, never part of the site).
    Dev(PathBuf),
    /// One self-contained folder (`dist/`).
    Dir(PathBuf),
}

impl Site {
    /// Maps a URL path to a file, refusing anything that climbs out of the site.
    fn resolve(&self, url_path: &str) -> Option<PathBuf> {
        let rel = url_path.trim_start_matches('/');
        let rel = Path::new(rel);
        if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
            return None;
        }
        let mut file = match self {
            Site::Dir(dir) => dir.join(rel),
            Site::Dev(root) => {
                let first = rel.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned());
                match first.as_deref() {
                    Some(dir) if crate::BUILDS.iter().any(|b| b.out == dir) => root.join(rel),
                    // The benchmark's peer (TensorFlow.js, from tests/bench/node_modules): dev only.
                    Some("peer") => root.join("tests/bench").join(rel.strip_prefix("peer").ok()?),
                    _ => root.join("www").join(rel),
                }
            }
        };
        if file.is_dir() {
            file = file.join("index.html");
        }
        Some(file)
    }
}

/// Serves until the process ends, one thread per connection.
pub fn serve(listener: TcpListener, site: Site, isolation: bool) {
    for stream in listener.incoming().flatten() {
        let site = site.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &site, isolation);
        });
    }
}

fn handle(mut stream: TcpStream, site: &Site, isolation: bool) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut keep_alive = true;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 || header == "\r\n" || header == "\n" {
                break;
            }
            if header.to_ascii_lowercase().starts_with("connection:") && header.to_ascii_lowercase().contains("close") {
                keep_alive = false;
            }
        }
        let mut parts = request_line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("/"));
        let path = target.split(['?', '#']).next().unwrap_or("/");
        let path = percent_decode(path);
        let (status, body, mime) = if method != "GET" && method != "HEAD" {
            ("405 Method Not Allowed", b"only GET and HEAD\n".to_vec(), "text/plain; charset=utf-8")
        } else {
            match site.resolve(&path).and_then(|f| std::fs::read(&f).ok().map(|b| (f, b))) {
                Some((file, body)) => ("200 OK", body, mime_type(&file)),
                None => ("404 Not Found", format!("not found: {path}\n").into_bytes(), "text/plain; charset=utf-8"),
            }
        };
        let mut head = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {mime}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nCross-Origin-Resource-Policy: cross-origin\r\nAccess-Control-Allow-Origin: *\r\n",
            body.len()
        );
        if isolation {
            head.push_str("Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: require-corp\r\n");
        }
        head.push_str(if keep_alive { "Connection: keep-alive\r\n\r\n" } else { "Connection: close\r\n\r\n" });
        stream.write_all(head.as_bytes())?;
        if method != "HEAD" {
            stream.write_all(&body)?;
        }
        if !keep_alive {
            return Ok(());
        }
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The MIME type for a file. Browsers refuse modules and streaming wasm without the right one.
pub fn mime_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "wgsl" => "text/plain; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "webmanifest" => "application/manifest+json",
        "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_inside_the_site_only() {
        let site = Site::Dev(PathBuf::from("/r"));
        assert_eq!(site.resolve("/pkg/glassgpt.js"), Some(PathBuf::from("/r/pkg/glassgpt.js")));
        assert_eq!(site.resolve("/app.js"), Some(PathBuf::from("/r/www/app.js")));
        assert_eq!(site.resolve("/peer/peer.html"), Some(PathBuf::from("/r/tests/bench/peer.html")));
        assert_eq!(site.resolve("/../etc/passwd"), None);
        assert_eq!(site.resolve("/a/../../x"), None);
    }

    #[test]
    fn mime_types_for_modules_and_wasm() {
        assert_eq!(mime_type(Path::new("a.wasm")), "application/wasm");
        assert_eq!(mime_type(Path::new("a.js")), "text/javascript; charset=utf-8");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("/a%20b.txt"), "/a b.txt");
        assert_eq!(percent_decode("/100%"), "/100%");
    }
}
