//! One integration-test binary: every test runs the real `stripe-scan` binary on temp directories
//! (and real git repositories made with the real `git`). Keys are built at run time, never written
//! into this repository.

mod action;
mod containers;
mod context;
mod encodings;
#[cfg(unix)]
mod fastpath;
#[cfg(unix)]
mod githostile;
mod history;
mod hooks;
#[cfg(unix)]
mod hostile;
mod install;
mod newuser;
mod org;
mod pack;
mod packprops;
mod pre_receive;
mod props;
mod props_layers;
mod release;
mod repo_policy;
mod reports;
mod rules;
mod scan;
mod slowpath;
mod staged;
mod util;
mod verify;
mod wheel;
