use std::fmt;

use serde::{Deserialize, Serialize};

use super::{SchemaError, is_clean_relative_path};

/// Where a package's source lives: a GitHub repository or any git URL, optionally in a
/// subdirectory. JSON: `{"githubOwner","githubRepo","subdir"?}` or `{"gitUrl","subdir"?}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawLocation", into = "RawLocation")]
pub enum Location {
    GitHub {
        owner: String,
        repo: String,
        subdir: Option<String>,
    },
    Git {
        url: String,
        subdir: Option<String>,
    },
}

/// URL schemes a `gitUrl` may use.
const GIT_URL_SCHEMES: &[&str] = &["https", "http", "git", "ssh", "file"];

impl Location {
    pub fn github(owner: &str, repo: &str, subdir: Option<&str>) -> Result<Self, SchemaError> {
        check_github_part("githubOwner", owner)?;
        check_github_part("githubRepo", repo)?;
        Ok(Location::GitHub {
            owner: owner.to_owned(),
            repo: repo.to_owned(),
            subdir: check_subdir(subdir)?,
        })
    }

    pub fn git(url: &str, subdir: Option<&str>) -> Result<Self, SchemaError> {
        let scheme = url.split_once("://").map(|(s, _)| s);
        match scheme {
            Some(s) if GIT_URL_SCHEMES.contains(&s) && url.len() > s.len() + 3 => {}
            _ => {
                return Err(SchemaError::Location {
                    reason: format!(
                        "`gitUrl` `{}` is not a URL: expected one of the schemes {}",
                        crate::text::value(url),
                        GIT_URL_SCHEMES.join(", ")
                    ),
                });
            }
        }
        let credentials = userinfo(url)
            .is_some_and(|info| info.contains(':') || matches!(scheme, Some("https" | "http")));
        if credentials {
            return Err(SchemaError::Location {
                reason: format!(
                    "`gitUrl` `{}` carries credentials: expected a URL without a user or password (it is published in metadata)",
                    crate::text::value(&redact_url(url))
                ),
            });
        }
        if url.chars().any(char::is_whitespace) {
            return Err(SchemaError::Location {
                reason: format!(
                    "`gitUrl` `{}` contains whitespace: expected a URL without whitespace",
                    crate::text::value(url)
                ),
            });
        }
        Ok(Location::Git {
            url: url.to_owned(),
            subdir: check_subdir(subdir)?,
        })
    }

    pub fn subdir(&self) -> Option<&str> {
        match self {
            Location::GitHub { subdir, .. } | Location::Git { subdir, .. } => subdir.as_deref(),
        }
    }

    /// The URL to clone: GitHub locations map to `<github_base>/<owner>/<repo>.git`.
    ///
    /// ```
    /// use regis::schema::Location;
    /// let l = Location::github("purescript", "purescript-prelude", None).unwrap();
    /// assert_eq!(l.clone_url("https://github.com"), "https://github.com/purescript/purescript-prelude.git");
    /// ```
    pub fn clone_url(&self, github_base: &str) -> String {
        match self {
            Location::GitHub { owner, repo, .. } => {
                format!("{}/{owner}/{repo}.git", github_base.trim_end_matches('/'))
            }
            Location::Git { url, .. } => url.clone(),
        }
    }

    /// The place this location names, as text: equal for two locations exactly when
    /// [`Location::same_place`] holds (GitHub names lowercased; any other URL as written),
    /// e.g. `github o/r` or `git https://example.com/r.git`, then ` subdir <dir>` if any.
    pub fn place_key(&self) -> String {
        let place = match self.github_repo() {
            Some((owner, repo)) => format!(
                "github {}/{}",
                owner.to_ascii_lowercase(),
                repo.to_ascii_lowercase()
            ),
            // Only a git URL elsewhere has no GitHub repo; its clone URL is the URL.
            None => format!("git {}", self.clone_url("")),
        };
        match self.subdir() {
            Some(dir) => format!("{place} subdir {dir}"),
            None => place,
        }
    }

    /// True when two locations name the same repository and subdirectory. GitHub owner
    /// and repository names are case-insensitive.
    pub fn same_place(&self, other: &Location) -> bool {
        match (self.github_repo(), other.github_repo()) {
            (Some((o1, r1)), Some((o2, r2))) => {
                o1.eq_ignore_ascii_case(o2)
                    && r1.eq_ignore_ascii_case(r2)
                    && self.subdir() == other.subdir()
            }
            _ => self == other,
        }
    }

    /// The GitHub owner and repository this location names: a GitHub location, or a git
    /// URL on `github.com` (`https://github.com/o/r.git` is the same place as `o/r`).
    fn github_repo(&self) -> Option<(&str, &str)> {
        match self {
            Location::GitHub { owner, repo, .. } => Some((owner, repo)),
            Location::Git { url, .. } => {
                let rest = ["https://", "http://", "git://", "ssh://git@"]
                    .iter()
                    .find_map(|scheme| url.strip_prefix(scheme))?;
                let rest = rest
                    .strip_prefix("github.com/")
                    .or_else(|| rest.strip_prefix("www.github.com/"))?;
                let rest = rest.trim_end_matches('/');
                let rest = rest.strip_suffix(".git").unwrap_or(rest);
                let (owner, repo) = rest.split_once('/')?;
                (!owner.is_empty() && !repo.is_empty() && !repo.contains('/'))
                    .then_some((owner, repo))
            }
        }
    }
}

fn check_github_part(field: &str, value: &str) -> Result<(), SchemaError> {
    let ok = !value.is_empty()
        && value != "."
        && value != ".."
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SchemaError::Location {
            reason: format!(
                "`{field}` `{}` is not a GitHub name: expected ASCII letters, digits, `-`, `_` and `.`",
                crate::text::value(value)
            ),
        })
    }
}

fn check_subdir(subdir: Option<&str>) -> Result<Option<String>, SchemaError> {
    match subdir {
        None => Ok(None),
        Some(s) if is_clean_relative_path(s) => Ok(Some(s.to_owned())),
        Some(s) => Err(SchemaError::Location {
            reason: format!(
                "`subdir` `{}` must be a relative path inside the repository (no leading `/`, no `.` or `..` parts)",
                crate::text::value(s)
            ),
        }),
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // For people: a part a payload made long is cut (serde writes it whole).
        use crate::text::value;
        match self {
            Location::GitHub { owner, repo, .. } => {
                write!(f, "github:{}/{}", value(owner), value(repo))?
            }
            Location::Git { url, .. } => write!(f, "{}", value(url))?,
        }
        match self.subdir() {
            Some(s) => write!(f, " (subdir {})", value(s)),
            None => Ok(()),
        }
    }
}

/// The wire shape: every key optional, checked by `TryFrom`.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawLocation {
    #[serde(skip_serializing_if = "Option::is_none")]
    github_owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    github_repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    git_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subdir: Option<String>,
}

impl TryFrom<RawLocation> for Location {
    type Error = SchemaError;
    fn try_from(raw: RawLocation) -> Result<Self, SchemaError> {
        match raw {
            RawLocation { github_owner: Some(o), github_repo: Some(r), git_url: None, subdir } => {
                Location::github(&o, &r, subdir.as_deref())
            }
            RawLocation { github_owner: None, github_repo: None, git_url: Some(u), subdir } => {
                Location::git(&u, subdir.as_deref())
            }
            _ => Err(SchemaError::Location {
                reason: "expected `{\"githubOwner\", \"githubRepo\", \"subdir\"?}` or `{\"gitUrl\", \"subdir\"?}`"
                    .into(),
            }),
        }
    }
}

impl From<Location> for RawLocation {
    fn from(l: Location) -> RawLocation {
        match l {
            Location::GitHub {
                owner,
                repo,
                subdir,
            } => RawLocation {
                github_owner: Some(owner),
                github_repo: Some(repo),
                git_url: None,
                subdir,
            },
            Location::Git { url, subdir } => RawLocation {
                github_owner: None,
                github_repo: None,
                git_url: Some(url),
                subdir,
            },
        }
    }
}

/// `url` without any `user:password@` part, for messages: cut out of the text as written,
/// or, when that would leave credentials (a shape the cut does not know), the URL as the
/// `url` crate writes it without them.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    if parsed.username().is_empty() && parsed.password().is_none() {
        return url.to_owned();
    }
    if let Some(info) = written_userinfo(url, &parsed) {
        let cut = format!("{}{}", &url[..info.start], &url[info.end + 1..]);
        if userinfo(&cut).is_none() {
            return cut;
        }
    }
    let _ = parsed.set_password(None);
    let _ = parsed.set_username("");
    parsed.into()
}

/// `text` with the credentials of `url` removed wherever they appear, as written and as
/// the `url` crate writes them (percent-encoded).
pub(crate) fn scrub(text: &str, url: &str) -> String {
    let Some(parsed_info) = userinfo(url) else {
        return text.to_owned();
    };
    let mut forms = vec![parsed_info];
    if let Ok(parsed) = url::Url::parse(url)
        && let Some(info) = written_userinfo(url, &parsed)
    {
        forms.push(url[info].to_owned());
    }
    // the longer first, so that one form inside the other is not half replaced
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    let mut out = text.to_owned();
    for info in forms.iter().filter(|f| !f.is_empty()) {
        out = out
            .replace(&format!("{info}@"), "")
            .replace(info.as_str(), "***");
    }
    out
}

/// Where the userinfo of `url` (which parses as `parsed`) is in its text, the `@` after it
/// excluded: after the scheme's `:` and the slashes, up to the last `@` before the
/// authority ends — as the URL standard finds it, and as written, which may differ from
/// `parsed.username()`/`password()`: the `url` crate percent-encodes them (a password
/// with `=`, `;`, `|` or a control character) and drops tabs and newlines.
fn written_userinfo(url: &str, parsed: &url::Url) -> Option<std::ops::Range<usize>> {
    let special = matches!(
        parsed.scheme(),
        "http" | "https" | "ws" | "wss" | "ftp" | "file"
    );
    let slash = |c: char| c == '/' || (special && c == '\\');
    let colon = url.find(':')?;
    let start = colon
        + 1
        + url[colon + 1..].find(|c: char| !(slash(c) || matches!(c, '\t' | '\n' | '\r')))?;
    let authority = url[start..]
        .find(|c: char| slash(c) || c == '?' || c == '#')
        .map_or(&url[start..], |end| &url[start..start + end]);
    let at = authority.rfind('@')?;
    Some(start..start + at)
}

/// The `user` or `user:password` of `scheme://user:password@host/…` as written, if the
/// URL parses and has any.
pub(crate) fn userinfo(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let info = match parsed.password() {
        Some(password) => format!("{}:{password}", parsed.username()),
        None => parsed.username().to_owned(),
    };
    (!info.is_empty()).then_some(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Location, String> {
        serde_json::from_str(s).map_err(|e| e.to_string())
    }

    #[test]
    fn both_shapes_roundtrip_in_key_order() {
        for s in [
            r#"{"githubOwner":"purescript","githubRepo":"purescript-prelude"}"#,
            r#"{"githubOwner":"o","githubRepo":"r","subdir":"lib/a"}"#,
            r#"{"gitUrl":"https://example.com/x.git"}"#,
            r#"{"gitUrl":"file:///tmp/x","subdir":"pkg"}"#,
            r#"{"gitUrl":"ssh://git@example.com/x.git"}"#,
        ] {
            assert_eq!(serde_json::to_string(&parse(s).unwrap()).unwrap(), s);
        }
    }

    #[test]
    fn rejects_mixed_missing_and_unsafe() {
        for s in [
            r#"{"githubOwner":"o"}"#,
            r#"{"githubOwner":"o","githubRepo":"r","gitUrl":"https://x/y"}"#,
            r#"{"gitUrl":"not a url"}"#,
            r#"{"gitUrl":"ftp://x/y"}"#,
            r#"{"githubOwner":"o/p","githubRepo":"r"}"#,
            r#"{"githubOwner":"o","githubRepo":"r","subdir":"../x"}"#,
            r#"{"githubOwner":"o","githubRepo":"r","subdir":"/abs"}"#,
            r#"{"githubOwner":"o","githubRepo":"r","extra":1}"#,
            r#"{"gitUrl":"https://user:token@example.com/x.git"}"#,
            r#"{"gitUrl":"https://token@example.com/x.git"}"#,
        ] {
            assert!(parse(s).is_err(), "{s} should be rejected");
        }
        insta::assert_snapshot!(parse(r#"{"githubOwner":"o"}"#).unwrap_err(), @r#"invalid location: expected `{"githubOwner", "githubRepo", "subdir"?}` or `{"gitUrl", "subdir"?}`"#);
    }

    #[test]
    fn clone_urls_and_sameness() {
        let a = Location::github("Owner", "Repo", None).unwrap();
        let b = Location::github("owner", "repo", None).unwrap();
        assert!(a.same_place(&b));
        assert_eq!(
            a.clone_url("file:///srv/gh/"),
            "file:///srv/gh/Owner/Repo.git"
        );
        let g = Location::git("git://127.0.0.1:9418/x.git", None).unwrap();
        assert_eq!(
            g.clone_url("https://github.com"),
            "git://127.0.0.1:9418/x.git"
        );
        assert!(!g.same_place(&a));
    }

    #[test]
    fn a_github_url_is_the_same_place_as_the_github_location() {
        let gh = Location::github("PureScript", "purescript-aff", None).unwrap();
        for url in [
            "https://github.com/purescript/purescript-aff.git",
            "https://github.com/purescript/purescript-aff",
            "https://github.com/purescript/purescript-aff/",
            "git://github.com/purescript/purescript-aff.git",
        ] {
            let git = Location::git(url, None).unwrap();
            assert!(git.same_place(&gh) && gh.same_place(&git), "{url}");
        }
        for url in [
            "https://gitlab.com/purescript/purescript-aff.git",
            "https://github.com/purescript/purescript-aff-extra.git",
            "https://github.com/purescript/purescript-aff/tree/main",
        ] {
            assert!(!Location::git(url, None).unwrap().same_place(&gh), "{url}");
        }
        let sub =
            Location::git("https://github.com/purescript/purescript-aff", Some("lib")).unwrap();
        assert!(!sub.same_place(&gh), "another subdir is another place");
    }

    #[test]
    fn urls_lose_their_credentials() {
        let url = "https://user:s3cret@github.com/owner/repo.git";
        assert_eq!(redact_url(url), "https://github.com/owner/repo.git");
        assert_eq!(redact_url("https://tok@host/x"), "https://host/x");
        assert_eq!(
            redact_url("https://github.com/a/b@c"),
            "https://github.com/a/b@c"
        );
        assert_eq!(
            redact_url("git@github.com:a/b.git"),
            "git@github.com:a/b.git"
        );
        assert_eq!(redact_url("/plain/path"), "/plain/path");
        assert_eq!(
            scrub(&format!("failed for {url}; user:s3cret rejected"), url),
            "failed for https://github.com/owner/repo.git; *** rejected"
        );
    }

    /// Found by the `schema` fuzz target: the `url` crate percent-encodes a password's
    /// `=`, `|`, spaces and control characters, so the credentials as it reports them were
    /// not in the text, and the text kept them.
    #[test]
    fn credentials_the_url_crate_would_encode_are_removed_as_written() {
        for (url, redacted) in [
            (
                "https://user:s3\u{11}\0cret@host/x.git",
                "https://host/x.git",
            ),
            ("https://user:abc==@host/x", "https://host/x"),
            ("https://us\ter:p|w;d@host/x", "https://host/x"),
            ("https://a@b@host/x", "https://host/x"),
            ("https:\\\\user:pw@host/x", "https:\\\\host/x"),
            ("ssh://git:p^w@host/x", "ssh://host/x"),
        ] {
            assert_eq!(redact_url(url), redacted, "{url:?}");
            let message = format!("cannot reach {url}");
            assert_eq!(scrub(&message, url), format!("cannot reach {redacted}"));
        }
    }
}
