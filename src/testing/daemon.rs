//! A `git daemon` for the tests that talk git:// (push enabled), killed on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A `git daemon` serving `base` over git:// (push enabled), killed on drop.
pub struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    /// `None` (with a note) when `git daemon` cannot run here.
    pub fn start(base: &Path) -> Option<Daemon> {
        let Some(program) = daemon_program() else {
            super::skip("`git daemon` is not available here (this git:// test needs it)");
            return None;
        };
        for _ in 0..3 {
            let port = free_port();
            let Ok(mut child) = Command::new(&program)
                .arg("--reuseaddr")
                .arg("--listen=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg(format!("--base-path={}", base.display()))
                .arg("--export-all")
                .arg("--enable=receive-pack")
                .arg(base)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
            else {
                break;
            };
            if wait_until_listening(&mut child, port) {
                return Some(Daemon { child, port });
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        super::skip("`git daemon` is not available here (this git:// test needs it)");
        None
    }

    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git-daemon` itself: killing a `git daemon` wrapper would leave the daemon running.
fn daemon_program() -> Option<PathBuf> {
    let output = Command::new("git").arg("--exec-path").output().ok()?;
    let exec_path = String::from_utf8(output.stdout).ok()?;
    let program = Path::new(exec_path.trim()).join("git-daemon");
    program.is_file().then_some(program)
}

/// A port on 127.0.0.1 nothing listens on now.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Whether `child` listens on 127.0.0.1:`port` within 5 s (false if it exits first).
pub fn wait_until_listening(child: &mut Child, port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        sleep(Duration::from_millis(20));
    }
    false
}
