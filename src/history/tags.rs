//! Keys in annotated tags' messages. A tag is its own object, outside every commit, so the commit
//! walk never sees it; the few a scan covers are read here, one by one.

use crate::diagnostics::Diagnostics;
use crate::engine::matcher::Matcher;
use crate::engine::scanner::{Origin, Scanner};
use crate::finding::Finding;
use crate::git::errors::ObjectErrors;
use crate::git::meta;
use crate::rules::Place;
use git2::{ObjectType, Oid, Repository};

/// One tag whose message holds keys.
pub(super) struct TagMessage {
    pub name: String,
    /// The commit the tag points to (through any tags of tags), else the object it names.
    pub target: Oid,
    /// The tagger and the tag's date; empty for the old tags that have no tagger.
    pub tagger: (String, String),
    pub findings: Vec<Finding>,
}

pub(super) fn scan(
    repo: &Repository,
    tags: &[Oid],
    matcher: &Matcher,
    errors: &ObjectErrors<'_>,
    diag: &Diagnostics,
) -> Vec<TagMessage> {
    let mut scanner = Scanner::new(matcher, 0);
    let mut out = Vec::new();
    for &id in tags {
        let tag = match repo.find_tag(id) {
            Ok(t) => t,
            Err(e) => {
                errors.report(id, &e);
                continue;
            }
        };
        let mut findings = Vec::new();
        let origin = Origin {
            path: "",
            place: Place::TagMessage,
        };
        let notes = scanner.scan_bytes(
            tag.message_bytes().unwrap_or_default(),
            origin,
            &mut findings,
        );
        for (chain, why) in notes {
            let name = String::from_utf8_lossy(tag.name_bytes());
            diag.note(&format!("message of tag {name}{chain}"), &why);
        }
        if findings.is_empty() {
            continue;
        }
        let target = tag
            .target()
            .and_then(|t| t.peel(ObjectType::Commit))
            .map_or(tag.target_id(), |c| c.id());
        out.push(TagMessage {
            name: String::from_utf8_lossy(tag.name_bytes()).into_owned(),
            target,
            tagger: tag
                .tagger()
                .map(|s| meta::who_and_when(&s))
                .unwrap_or_default(),
            findings,
        });
    }
    out
}
