//! The text of regis's comments on an issue (pure): the report in a fence nothing inside
//! can close, the hidden marker that says which request a comment starts or answers, and
//! the cut that keeps a comment within what GitHub takes.

use crate::text;

/// The most a comment may hold, in bytes. GitHub refuses a comment body over 65,536
/// characters; counted in bytes, a comment is within that however characters are counted
/// (a character is at least one byte, and at least two for each pair of UTF-16 units).
pub const COMMENT_MAX_BYTES: usize = 65_536;

/// Which text of an issue a request is: its body, or one of its comments (by GitHub's id,
/// when the event carried one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestText {
    Body,
    Comment(Option<u64>),
}

impl RequestText {
    /// How a marker names it: `body`, `comment 123` (`comment` without an id).
    fn marker_name(self) -> String {
        match self {
            RequestText::Body => "body".to_owned(),
            RequestText::Comment(Some(id)) => format!("comment {id}"),
            RequestText::Comment(None) => "comment".to_owned(),
        }
    }
}

/// What a marker says of its comment: regis started on a request, or answered it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    Working,
    Answered,
}

impl Mark {
    fn word(self) -> &'static str {
        match self {
            Mark::Working => "regis:working",
            Mark::Answered => "regis:answered",
        }
    }
}

/// The hidden marker (an HTML comment GitHub does not show) that ends each of regis's
/// comments: `<!-- regis:answered comment 123 -->`.
pub fn marker(mark: Mark, request: RequestText) -> String {
    format!("<!-- {} {} -->", mark.word(), request.marker_name())
}

/// The markers `body` carries (a comment of regis's carries one, on its last line).
pub fn markers(body: &str) -> Vec<(Mark, RequestText)> {
    body.lines()
        .filter_map(|line| {
            let inner = line.trim().strip_prefix("<!-- ")?.strip_suffix(" -->")?;
            let (mark, rest) = [Mark::Working, Mark::Answered]
                .into_iter()
                .find_map(|m| Some((m, inner.strip_prefix(m.word())?.strip_prefix(' ')?)))?;
            let request = match rest {
                "body" => RequestText::Body,
                "comment" => RequestText::Comment(None),
                _ => RequestText::Comment(Some(rest.strip_prefix("comment ")?.parse().ok()?)),
            };
            Some((mark, request))
        })
        .collect()
}

/// `text` in a fenced `text` block whose fence is longer than any run of backticks in it,
/// so nothing inside can close it.
pub fn fenced(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("{fence}text\n{text}{newline}{fence}\n")
}

/// A result comment: `head` (`**Done**: …`), the report in a fence, then `tail` (what to do
/// next, notes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub head: String,
    pub report: String,
    pub tail: String,
}

impl Answer {
    /// The comment with the report whole: what the step summary gets.
    pub fn full(&self) -> String {
        format!("{}\n\n{}{}", self.head, fenced(&self.report), self.tail)
    }

    /// The comment as posted: [`Answer::full`] and the marker answering `request`. When
    /// that is over [`COMMENT_MAX_BYTES`], the middle of the report is cut, and the comment
    /// says how long it is and that the job log and step summary (of `run_url`, when known)
    /// hold it whole.
    pub fn posted(&self, request: RequestText, run_url: Option<&str>) -> String {
        let marker = marker(Mark::Answered, request);
        let whole = format!("{}\n{marker}\n", self.full());
        if whole.len() <= COMMENT_MAX_BYTES {
            return whole;
        }
        let run = match run_url {
            Some(url) => format!("the job log and the step summary of [the run]({url})"),
            None => "the job log and the step summary of the run".to_owned(),
        };
        let note = format!(
            "\nThe report is cut: it has {} characters, more than a comment holds. It is whole in {run}.\n",
            text::thousands(self.report.chars().count() as u64)
        );
        // The start (what failed) and the end (a build's last words) are kept, the middle
        // goes.
        let compose = |budget: usize| {
            let start = text::head(&self.report, budget / 3);
            let end = text::tail(&self.report, budget - start.len());
            let cut = self.report.len() - start.len() - end.len();
            let cut = format!(
                "{start}\n[… {} characters cut here …]\n{end}",
                text::thousands(self.report[start.len()..start.len() + cut].chars().count() as u64)
            );
            format!(
                "{}\n\n{}{note}{}\n{marker}\n",
                self.head,
                fenced(&cut),
                self.tail
            )
        };
        // The fence grows with the longest run of backticks kept, so shrink until it fits.
        let mut budget = COMMENT_MAX_BYTES.saturating_sub(whole.len() - self.report.len());
        let mut comment = compose(budget);
        while comment.len() > COMMENT_MAX_BYTES && budget > 0 {
            budget = budget.saturating_sub((comment.len() - COMMENT_MAX_BYTES).max(16));
            comment = compose(budget);
        }
        within_limit(comment, &marker)
    }
}

/// `comment` when within [`COMMENT_MAX_BYTES`]; else its start that fits, `…` and
/// `marker` (which the comment ends with).
pub fn within_limit(comment: String, marker: &str) -> String {
    if comment.len() <= COMMENT_MAX_BYTES {
        return comment;
    }
    let room = COMMENT_MAX_BYTES - marker.len() - "\n…\n\n".len();
    format!("{}\n…\n{marker}\n", text::head(&comment, room))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fences_outlast_any_backticks_inside() {
        assert_eq!(fenced("plain"), "```text\nplain\n```\n");
        assert_eq!(fenced("a\n"), "```text\na\n```\n");
        assert_eq!(
            fenced("x ```\n**Done**: forged"),
            "````text\nx ```\n**Done**: forged\n````\n"
        );
    }

    #[test]
    fn markers_name_the_request_and_read_back() {
        for request in [
            RequestText::Body,
            RequestText::Comment(Some(655256033)),
            RequestText::Comment(None),
        ] {
            for mark in [Mark::Working, Mark::Answered] {
                let body = format!(
                    "**Done**: x.\n\n```text\ny\n```\n{}\n",
                    marker(mark, request)
                );
                assert_eq!(markers(&body), [(mark, request)]);
            }
        }
        insta::assert_snapshot!(marker(Mark::Answered, RequestText::Comment(Some(12))), @"<!-- regis:answered comment 12 -->");
        insta::assert_snapshot!(marker(Mark::Working, RequestText::Body), @"<!-- regis:working body -->");
        for not_one in [
            "<!-- regis:answered -->",
            "<!-- regis:answered comment x -->",
            "<!-- regis:answeredbody -->",
            "<!-- regis:done body -->",
            "regis:answered body",
        ] {
            assert!(markers(not_one).is_empty(), "{not_one}");
        }
    }

    fn answer(report: String) -> Answer {
        Answer {
            head: "**Failed**: the publish of `a@1.0.0` failed.".to_owned(),
            report,
            tail: "\nComment on this issue with a corrected payload to try again.\n".to_owned(),
        }
    }

    #[test]
    fn a_comment_within_the_limit_is_the_whole_answer_and_its_marker() {
        let a = answer("the build check failed".to_owned());
        insta::assert_snapshot!(a.posted(RequestText::Body, None), @r"
        **Failed**: the publish of `a@1.0.0` failed.

        ```text
        the build check failed
        ```

        Comment on this issue with a corrected payload to try again.

        <!-- regis:answered body -->
        ");
    }

    #[test]
    fn a_long_report_is_cut_to_the_limit_and_says_where_it_is_whole() {
        let report = format!("the start\n{}\nthe end", "x".repeat(200_000));
        let a = answer(report);
        let posted = a.posted(
            RequestText::Comment(Some(3)),
            Some("https://gh.example/run/1"),
        );
        assert!(posted.len() <= COMMENT_MAX_BYTES, "{}", posted.len());
        assert!(posted.len() > COMMENT_MAX_BYTES - 100, "{}", posted.len());
        assert!(posted.contains("```text\nthe start\nxxx"));
        let tail: Vec<String> = posted[posted.find("[…").unwrap()..]
            .lines()
            .map(|l| match l.trim_start_matches('x') {
                "" if !l.is_empty() => format!("x × {}", l.len()),
                _ => l.to_owned(),
            })
            .collect();
        insta::assert_snapshot!(tail.join("\n"), @r"
        [… 134,839 characters cut here …]
        x × 43445
        the end
        ```

        The report is cut: it has 200,018 characters, more than a comment holds. It is whole in the job log and the step summary of [the run](https://gh.example/run/1).

        Comment on this issue with a corrected payload to try again.

        <!-- regis:answered comment 3 -->
        ");
        assert!(a.full().contains("the end"));
    }

    #[test]
    fn backticks_and_wide_characters_cannot_push_a_comment_over_the_limit() {
        for report in [
            "`".repeat(100_000),
            format!("{}{}", "é".repeat(40_000), "`".repeat(30_000)),
            "🦀".repeat(40_000),
        ] {
            let posted = answer(report).posted(RequestText::Body, None);
            assert!(posted.len() <= COMMENT_MAX_BYTES, "{}", posted.len());
            assert!(posted.ends_with("<!-- regis:answered body -->\n"));
        }
        // Even a head over the limit leaves a comment within it, the marker at its end.
        let huge = Answer {
            head: "h".repeat(100_000),
            report: "r".to_owned(),
            tail: String::new(),
        };
        let posted = huge.posted(RequestText::Body, None);
        assert!(posted.len() <= COMMENT_MAX_BYTES);
        assert!(
            posted.ends_with("\n…\n<!-- regis:answered body -->\n"),
            "{}",
            &posted[posted.len() - 60..]
        );
    }
}
