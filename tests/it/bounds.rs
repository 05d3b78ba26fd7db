//! Bounded messages and input, through the binary: a huge value in a payload is echoed cut
//! with its length, 30,000 missing dependencies are summarised, a payload file or standard
//! input over 1 MB is refused before it is parsed.

use std::process::{Command, Output, Stdio};

use regis::testing::TestRegistry;
use serde_json::json;

fn regis(t: &TestRegistry, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_regis"))
        .arg("--registry")
        .arg(&t.layout.registry)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        use std::io::Write as _;
        let mut pipe = child.stdin.take().unwrap();
        // regis may stop reading early: a broken pipe here is its refusal, not a failure.
        let _ = pipe.write_all(input);
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_huge_name_or_ref_is_echoed_cut_with_its_length() {
    let t = TestRegistry::new();
    let p = t.package("prelude", "1.0.0", &[]);
    t.push_source(&p);
    let huge = "x".repeat(900_000);
    let mut payload = serde_json::to_value(p.payload(true)).unwrap();
    payload["name"] = json!(huge);
    let by_name = t.tmp.path().join("name.json");
    std::fs::write(&by_name, payload.to_string()).unwrap();
    payload["name"] = json!("prelude");
    payload["ref"] = json!(huge);
    let by_ref = t.tmp.path().join("ref.json");
    std::fs::write(&by_ref, payload.to_string()).unwrap();
    payload["ref"] = json!("v1.0.0");
    payload["location"] = json!({"gitUrl": format!("file:///nonexistent/{huge}")});
    let by_url = t.tmp.path().join("url.json");
    std::fs::write(&by_url, payload.to_string()).unwrap();

    for file in [&by_name, &by_ref, &by_url] {
        let out = regis(&t, &["publish", file.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(err.len() < 2_000, "{} bytes: {}", err.len(), &err[..2_000]);
        assert!(err.contains("x… (9"), "{err}");
        assert!(err.contains(" characters)"), "{err}");
    }
}

#[test]
fn thirty_thousand_missing_dependencies_are_summarised() {
    let t = TestRegistry::new();
    // Three characters each, in sorted order, so the manifest stays under its 1 MiB limit.
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let names: Vec<String> = (0..30_000)
        .map(|i| {
            let [a, b, c] = [i / (36 * 36), i / 36 % 36, i % 36];
            [DIGITS[10 + a], DIGITS[b], DIGITS[c]]
                .iter()
                .map(|&d| char::from(d))
                .collect()
        })
        .collect();
    let deps: Vec<(&str, &str)> = names
        .iter()
        .map(|n| (n.as_str(), ">=1.0.0 <2.0.0"))
        .collect();
    let p = t.package("application", "1.0.0", &deps);
    t.push_source(&p);
    let file = t.tmp.path().join("application.json");
    std::fs::write(&file, serde_json::to_string(&p.payload(true)).unwrap()).unwrap();
    let out = regis(&t, &["publish", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.len() < 3_000, "{} bytes", err.len());
    let missing =
        |name: &str| format!("dependency `{name}` is not in the registry: publish it first");
    assert!(
        err.starts_with(&format!(
            "error: could not publish `application@1.0.0`: `application@1.0.0` cannot be published: {}; ",
            missing(&names[0])
        )),
        "{err}"
    );
    assert!(
        err.ends_with(&format!("{} and 29,980 more\n", missing(&names[19]))),
        "{err}"
    );
    assert!(t.stored().is_empty());
}

#[test]
fn a_payload_over_a_megabyte_is_refused_before_it_is_parsed() {
    let t = TestRegistry::new();
    // Not even JSON: the size is what is refused.
    let big = vec![b'x'; 2_000_000];
    let file = t.tmp.path().join("big.json");
    std::fs::write(&file, &big).unwrap();
    let out = regis(&t, &["publish", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        format!(
            "error: `{}` is 2,000,000 bytes: expected at most 1,000,000 bytes\n",
            file.display()
        )
    );
    for args in [
        vec!["publish", "-"],
        vec!["transfer", "-"],
        vec!["unpublish", "-"],
        vec!["package-set", "update", "-"],
    ] {
        let out = regis(&t, &args, Some(&big));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&out),
            "error: standard input is 2,000,000 bytes: expected a payload of at most 1,000,000 bytes\n",
            "{args:?}"
        );
    }
    // A payload of exactly the cap is read (and then found not to be one).
    let out = regis(&t, &["publish", "-"], Some(&big[..1_000_000]));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no JSON object found"),
        "{}",
        stderr(&out)
    );
}
