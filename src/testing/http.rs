//! A static file server for the client-side tests: what a CDN, GitHub Pages or a storage
//! bucket does for a registry's files, on 127.0.0.1.

use std::path::Path;

/// `python3 -m http.server` on 127.0.0.1 serving `dir`, killed on drop.
pub struct StaticServer {
    child: std::process::Child,
    /// `http://127.0.0.1:<port>/`, with the trailing slash.
    pub url: String,
}

impl StaticServer {
    pub fn start(dir: &Path) -> StaticServer {
        let port = super::free_port();
        let mut child = std::process::Command::new("python3")
            .args([
                "-m",
                "http.server",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
            ])
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs");
        assert!(
            super::wait_until_listening(&mut child, port),
            "python3 -m http.server did not listen on 127.0.0.1:{port}"
        );
        StaticServer {
            child,
            url: format!("http://127.0.0.1:{port}/"),
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
