//! A mock GitHub REST API (wiremock) for the `GitHubApi` and `process-issue` tests.

use wiremock::{Mock, MockServer, Request};

/// A mock GitHub. The server runs on its own thread; the runtime here only drives its
/// async setup, so the blocking `GitHubApi` is called from the plain test thread.
pub struct MockGitHub {
    // Dropped first: dropping the server checks each mock's `expect`.
    server: MockServer,
    runtime: tokio::runtime::Runtime,
}

impl MockGitHub {
    pub fn start() -> MockGitHub {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(MockServer::start());
        MockGitHub { server, runtime }
    }

    pub fn mount(&self, mock: Mock) {
        self.runtime.block_on(mock.mount(&self.server));
    }

    pub fn uri(&self) -> String {
        self.server.uri()
    }

    pub fn received(&self) -> Vec<Request> {
        self.runtime
            .block_on(self.server.received_requests())
            .unwrap()
    }
}

/// The body GitHub answers `GET /repos/{owner}/{name}` with (abridged).
pub fn repository_json(owner: &str, name: &str) -> serde_json::Value {
    serde_json::json!({
        "id": 123,
        "name": name,
        "full_name": format!("{owner}/{name}"),
        "owner": {"login": owner, "type": "User"},
        "private": false,
        "html_url": format!("https://github.com/{owner}/{name}"),
    })
}
