//! The index reader on arbitrary bytes: it must return Ok or Err, never panic or loop, and what
//! it returns must be usable without panicking (paths in range, cache-tree links in range).
#![no_main]

use libfuzzer_sys::fuzz_target;
use stripe_scan::git::index::{Index, MAX_PATH_EXPANSION};

fuzz_target!(|data: &[u8]| {
    let Ok(index) = Index::parse(data) else {
        return;
    };
    let mut total = 0usize;
    for e in &index.entries {
        total += index.path(e).len();
    }
    assert!(total <= data.len() * MAX_PATH_EXPANSION);
    if let Some(tree) = &index.cache_tree {
        for node in &tree.nodes {
            for &c in &node.children {
                assert!(c < tree.nodes.len() && c > 0);
                let _ = tree.child(0, &tree.node(c).name);
            }
        }
    }
});
