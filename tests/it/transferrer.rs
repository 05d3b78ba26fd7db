//! The daily transferrer in process (`operation::transferrer::run`) against `MemoryGitHub`:
//! renamed repositories are recorded as bot-signed transfers, a dry run writes nothing, and
//! moves that cannot be signed are reported. Through the binary: `process_issue.rs`.

use regis::auth::SigningKey;
use regis::github::{MemoryGitHub, RepoRef};
use regis::metadata::Metadata;
use regis::operation::transferrer::{self, Recorded};
use regis::schema::{Location, Owner};
use regis::testing::{TestRegistry, commits_on};

fn bot_key() -> (String, Owner) {
    let pem = regis::testing::seeded_key(9);
    let public = SigningKey::from_openssh(&pem, None).unwrap().public();
    (pem, public)
}

fn location_of(t: &TestRegistry, name: &str) -> Location {
    let text =
        regis::testing::remote_file(&t.layout.registry_remote, &format!("metadata/{name}.json"))
            .unwrap();
    Metadata::from_json(name, &text).unwrap().location
}

#[test]
fn renamed_repositories_are_recorded_as_bot_signed_transfers() {
    let (pem, public) = bot_key();
    let t = TestRegistry::with_config(|c| c.bot_public_key = Some(public));
    t.release(&t.package("prelude", "1.0.0", &[]));
    t.release(&t.package("effect", "1.0.0", &[]));
    let gh = MemoryGitHub::new().with_rename(
        RepoRef::new("test", "prelude"),
        RepoRef::new("new-owner", "purescript-prelude"),
    );
    let moved_to = Location::github("new-owner", "purescript-prelude", None).unwrap();

    // A dry run lists the move and writes nothing.
    let before = t.remote_heads();
    let run = transferrer::run(&t.config, &t.layout.registry, None, &gh, Some(&pem)).unwrap();
    assert_eq!(run.survey.checked, 2);
    assert_eq!(run.survey.moved.len(), 1);
    assert_eq!(run.survey.moved[0].to, moved_to);
    assert!(matches!(run.recorded, Recorded::DryRun));
    assert!(run.all_ok());
    assert_eq!(t.remote_heads(), before);

    // Without the bot key the move is found but cannot be recorded.
    let ctx = t.ctx();
    let run = transferrer::run(&t.config, &t.layout.registry, Some(&ctx), &gh, None).unwrap();
    let Recorded::Unsigned(e) = &run.recorded else {
        panic!("{:?}", run.recorded)
    };
    assert!(
        regis::error_chain(e).starts_with(
            "cannot sign the transfers of the 1 moved package(s): the bot key is not available"
        ),
        "{}",
        regis::error_chain(e)
    );
    insta::assert_snapshot!(regis::error_chain(e), @"cannot sign the transfers of the 1 moved package(s): the bot key is not available: set the environment variable `REGIS_BOT_KEY` to the bot's OpenSSH private key");
    assert!(!run.all_ok());
    assert_eq!(t.remote_heads(), before);

    // With it, the transfer is committed and the next run finds nothing to move.
    let run = transferrer::run(&t.config, &t.layout.registry, Some(&ctx), &gh, Some(&pem)).unwrap();
    let Recorded::Moves(moves) = &run.recorded else {
        panic!("{:?}", run.recorded)
    };
    assert_eq!(moves.len(), 1);
    assert!(moves[0].1.is_ok(), "{:?}", moves[0].1);
    assert!(run.all_ok());
    assert_eq!(location_of(&t, "prelude"), moved_to);
    assert!(
        commits_on(&t.layout.registry_remote)[0].contains("prelude"),
        "{:?}",
        commits_on(&t.layout.registry_remote)
    );
    let gh = MemoryGitHub::new();
    let run = transferrer::run(&t.config, &t.layout.registry, Some(&ctx), &gh, Some(&pem)).unwrap();
    assert!(run.survey.moved.is_empty());
    assert!(matches!(&run.recorded, Recorded::Moves(m) if m.is_empty()));
}
