//! The working tree: a parallel walk that honours ignore files and guards against hostile trees.

mod ignore_files;
mod ignored;
pub(crate) mod walk;
