//! A release's README, read from its tarball and rendered for its package page: Markdown
//! through pulldown-cmark (CommonMark with GitHub's tables, strikethrough and task lists),
//! then sanitised by ammonia's allow-list, since a README is untrusted HTML. The page
//! fetches nothing from elsewhere: an image becomes a link to it (its alt text, or its URL,
//! as the link's text), raw `<img>` tags are dropped, and relative links point at the
//! source repository at the release's ref.

use std::io::Read as _;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A README larger than this is not shown (its page says so).
pub const README_BYTES_MAX: u64 = 512 * 1024;

/// What a release's tarball says about its README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readme {
    /// The rendered, sanitised HTML.
    Html(String),
    /// No README at the package's root.
    None,
    /// Why the README cannot be shown (too large, the tarball unreadable).
    Unshown(String),
}

impl Readme {
    /// How the build cache stores it: `html:` + the HTML, `none:`, or `unshown:` + why.
    pub fn to_cache(&self) -> String {
        match self {
            Readme::Html(html) => format!("html:{html}"),
            Readme::None => "none:".to_owned(),
            Readme::Unshown(why) => format!("unshown:{why}"),
        }
    }

    pub fn from_cache(text: &str) -> Option<Readme> {
        let (kind, rest) = text.split_once(':')?;
        match kind {
            "html" => Some(Readme::Html(rest.to_owned())),
            "none" => Some(Readme::None),
            "unshown" => Some(Readme::Unshown(rest.to_owned())),
            _ => None,
        }
    }
}

/// The README of the release packed in `tarball` (a `.tar.gz` whose files sit below one
/// top directory, as regis packs them): the first of `README.md`, `README.markdown`,
/// `README` and `README.txt` at the package's root, rendered; links relative to it resolve
/// against `base` (the release's source at its ref), or are dropped without one.
pub fn from_tarball(tarball: &[u8], base: Option<&str>) -> Readme {
    const NAMES: [&str; 4] = ["README.md", "README.markdown", "README", "README.txt"];
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tarball));
    let entries = match archive.entries() {
        Ok(entries) => entries,
        Err(e) => return Readme::Unshown(format!("the tarball cannot be read: {e}")),
    };
    let mut found: Option<(usize, String, Vec<u8>)> = None;
    for entry in entries {
        let mut entry = match entry {
            Ok(entry) => entry,
            Err(e) => return Readme::Unshown(format!("the tarball cannot be read: {e}")),
        };
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let Ok(path) = entry.path() else { continue };
        let parts: Vec<_> = path.components().collect();
        let [_top, file] = parts.as_slice() else {
            continue;
        };
        let file = file.as_os_str().to_string_lossy().into_owned();
        let Some(rank) = NAMES.iter().position(|n| *n == file) else {
            continue;
        };
        if found.as_ref().is_some_and(|(r, ..)| *r <= rank) {
            continue;
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        if size > README_BYTES_MAX {
            return Readme::Unshown(format!(
                "`{file}` is {} bytes, more than the {} a page shows",
                crate::text::thousands(size),
                crate::text::thousands(README_BYTES_MAX)
            ));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        if let Err(e) = (&mut entry).take(README_BYTES_MAX).read_to_end(&mut bytes) {
            return Readme::Unshown(format!("the tarball cannot be read: {e}"));
        }
        found = Some((rank, file, bytes));
    }
    match found {
        None => Readme::None,
        Some((_, file, bytes)) => {
            let text = String::from_utf8_lossy(&bytes);
            if file.ends_with(".md") || file.ends_with(".markdown") {
                Readme::Html(markdown(&text, base))
            } else {
                Readme::Html(format!(
                    "<pre class=\"readme-text\">{}</pre>",
                    escaped(&text)
                ))
            }
        }
    }
}

/// `text` as HTML text (`<`, `>`, `&` and quotes escaped), as the templates escape values.
fn escaped(text: &str) -> String {
    askama::filters::escape(text, askama::filters::Html)
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// Markdown to sanitised HTML that fetches nothing.
pub fn markdown(text: &str, base: Option<&str>) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    // An image becomes a link to it, its alt text the link's text (the URL when empty).
    let mut in_image: Option<(String, bool)> = None;
    let events = Parser::new_ext(text, options).map(|event| match event {
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            in_image = Some((dest_url.to_string(), false));
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            })
        }
        Event::End(TagEnd::Image) => {
            let (url, had_text) = in_image.take().unwrap_or_default();
            if had_text {
                Event::End(TagEnd::Link)
            } else {
                // Closing the link after its URL as text: two events, so queue as HTML.
                Event::Html(format!("{}</a>", escaped(&url)).into())
            }
        }
        Event::Text(t) => {
            if let Some((_, had_text)) = in_image.as_mut() {
                *had_text |= !t.trim().is_empty();
            }
            Event::Text(t)
        }
        other => other,
    });
    let mut html = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    sanitise(&html, base)
}

/// `html` through ammonia's allow-list, without images, relative links resolved against
/// `base` (dropped without one), every link `rel="nofollow noopener noreferrer"`, and a
/// link left with no text (its image dropped) given its URL as text.
fn sanitise(html: &str, base: Option<&str>) -> String {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .link_rel(Some("nofollow noopener noreferrer"));
    match base.and_then(|b| url::Url::parse(b).ok()) {
        Some(base) => {
            builder.url_relative(ammonia::UrlRelative::RewriteWithBase(base));
        }
        None => {
            builder.url_relative(ammonia::UrlRelative::Deny);
        }
    }
    fill_empty_links(&builder.clean(html).to_string())
}

/// Gives each `<a href="…" …>` with nothing but whitespace before its `</a>` its URL as
/// text, so no link is nameless. `html` is html5ever's serialisation (ammonia's output),
/// in which `>` never appears inside an attribute value.
fn fill_empty_links(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<a ") {
        let Some(open_len) = rest[start..].find('>') else {
            break;
        };
        let open_end = start + open_len + 1;
        out.push_str(&rest[..open_end]);
        let after = &rest[open_end..];
        let trimmed = after.trim_start();
        if trimmed.starts_with("</a>") {
            let tag = &rest[start..open_end];
            let href = tag
                .split_once("href=\"")
                .and_then(|(_, v)| v.split_once('"'))
                .map_or("link", |(v, _)| v);
            out.push_str(href);
        }
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_is_sanitised_and_fetches_nothing() {
        let html = markdown(
            "# Title\n\n![build](https://ci.example/badge.svg) [![](https://x.example/b.svg)](https://x.example/)\n\n<img src=\"https://t.example/p.gif\" onerror=\"alert(1)\">\n\n<script>alert(1)</script>\n\n[docs](docs/guide.md) <a href=\"javascript:alert(1)\">x</a>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
            Some("https://github.com/o/r/blob/v1.0.0/"),
        );
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(
            html.contains(r#"<a href="https://ci.example/badge.svg" rel="nofollow noopener noreferrer">build</a>"#),
            "{html}"
        );
        assert!(
            html.contains(r#"href="https://github.com/o/r/blob/v1.0.0/docs/guide.md""#),
            "{html}"
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(
            !html.contains("\"></a>"),
            "no link is left without text: {html}"
        );
    }

    #[test]
    fn relative_links_are_dropped_without_a_base() {
        let html = markdown("[docs](docs/guide.md)", None);
        assert!(!html.contains("docs/guide.md\""), "{html}");
        assert!(html.contains("docs"), "{html}");
    }

    #[test]
    fn the_cache_round_trips() {
        for readme in [
            Readme::Html("<p>x: y</p>".into()),
            Readme::None,
            Readme::Unshown("too big".into()),
        ] {
            assert_eq!(Readme::from_cache(&readme.to_cache()), Some(readme));
        }
    }
}
